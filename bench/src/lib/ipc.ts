/**
 * Worker processes and a tiny request/response protocol over the Node IPC channel.
 *
 * Every worker is started through `sh -c 'ulimit -n …; exec node …'` so that it gets the highest file
 * descriptor limit the shell may set (Node cannot raise its own). Every call has a deadline.
 */
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'

interface Request { id: number, cmd: string, args: unknown }
interface Response { id: number, ok: boolean, result?: unknown, error?: string }

export interface WorkerOptions {
  /** Extra `node` flags, e.g. `--expose-gc`, `--cpu-prof`. */
  nodeFlags?: string[]
  /** File descriptors wanted; the shell falls back to the hard limit. */
  fdLimit?: number
  /** Working directory (where `--cpu-prof` writes). */
  cwd?: string
  env?: NodeJS.ProcessEnv
}

export interface Worker {
  readonly pid: number
  /** Runs `cmd` in the worker; rejects on error, on worker exit or after `timeoutMs`. */
  call<T = unknown>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>
  /** Asks the worker to exit, waits up to 5 s, then kills it (by pid). */
  stop(): Promise<void>
}

const DEFAULT_CALL_TIMEOUT = 120_000

/** Starts `script` (a compiled .js file) as a worker and waits for its `ready` message. */
export async function startWorker (script: string, args: string[] = [], options: WorkerOptions = {}): Promise<Worker> {
  const fd = options.fdLimit ?? 1024
  const shell = `ulimit -n ${fd} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"`
  const child = spawn('sh', ['-c', shell, process.execPath, ...(options.nodeFlags ?? []), script, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    cwd: options.cwd,
    env: options.env ?? process.env
  })
  return await new Promise<Worker>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`worker ${script} did not start within 20 s`)) }, 20_000)
    child.once('error', (err) => { clearTimeout(timer); reject(err) })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`worker ${script} exited with ${String(code)} before it was ready`)) })
    child.once('message', (msg) => {
      clearTimeout(timer)
      child.removeAllListeners('exit')
      child.removeAllListeners('error')
      if ((msg as { ready?: boolean }).ready !== true) { reject(new Error(`worker ${script} sent ${JSON.stringify(msg)} first`)); return }
      resolve(wrap(child, script))
    })
  })
}

function wrap (child: ChildProcess, script: string): Worker {
  let next = 1
  const pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>()
  let exited = false
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true
      for (const p of pending.values()) { clearTimeout(p.timer); p.reject(new Error(`worker ${script} exited (${String(code ?? signal)})`)) }
      pending.clear()
      resolve()
    })
  })
  child.on('message', (msg) => {
    const r = msg as Response
    const p = pending.get(r.id)
    if (p == null) return
    pending.delete(r.id)
    clearTimeout(p.timer)
    if (r.ok) p.resolve(r.result)
    else p.reject(new Error(`${script}: ${r.error ?? 'failed'}`))
  })
  return {
    pid: child.pid ?? -1,
    async call<T> (cmd: string, args?: unknown, timeoutMs = DEFAULT_CALL_TIMEOUT): Promise<T> {
      if (exited) throw new Error(`worker ${script} is gone`)
      const id = next++
      return await new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => { pending.delete(id); reject(new Error(`${script}: ${cmd} took over ${timeoutMs} ms`)) }, timeoutMs)
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
        const req: Request = { id, cmd, args }
        child.send(req)
      })
    },
    async stop (): Promise<void> {
      if (exited) return
      child.disconnect()
      const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL') }, 5_000)
      await exitPromise
      clearTimeout(timer)
    }
  }
}

export type Handler = (args: any) => Promise<unknown> | unknown

/** Worker side: answers requests with `handlers`, exits when the parent disconnects. */
export function serveRequests (handlers: Record<string, Handler>): void {
  if (process.send == null) throw new Error('this script is a benchmark worker; run bench/dist/src/run.js')
  process.on('message', (msg) => {
    const req = msg as Request
    const handler = handlers[req.cmd]
    const reply = (r: Response): void => { if (process.connected) process.send?.(r) }
    if (handler == null) { reply({ id: req.id, ok: false, error: `unknown command ${req.cmd}` }); return }
    Promise.resolve()
      .then(async () => await handler(req.args))
      .then(
        (result) => { reply({ id: req.id, ok: true, result }) },
        (err: unknown) => { reply({ id: req.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }) }
      )
  })
  process.on('disconnect', () => { process.exit(0) })
  process.send({ ready: true })
}
