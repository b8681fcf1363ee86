import type { Worker } from 'node:cluster'
import cluster from 'node:cluster'
import { validate } from '@proto/interface'

/** Options of `runCluster()`. */
export interface ClusterInit {
  /** Worker processes to start (e.g. one per core). */
  workers: number
  /** The module each worker runs: it listens on the shared port and calls `workerReady()` once it does. */
  script: string
  /** Arguments for the script. @default [] */
  args?: string[]
  /** Node options for the workers (e.g. `['--import', 'tsx']`). @default process.execArgv */
  execArgv?: string[]
  /** Working directory of the workers. @default process.cwd() */
  cwd?: string
  /** Extra environment for every worker; each also gets `PROTO_WORKER_INDEX`. @default {} */
  env?: Record<string, string>
  /** How long a worker may take to call `workerReady()` (ms). @default 20000 */
  readyTimeout?: number
}

/** What a worker tells the primary once it listens (`workerReady()`). */
export interface WorkerInit {
  /** The port it listens on (the same for every worker). */
  port: number
  /** Anything else the worker wants to report (e.g. its store's node id). */
  [key: string]: unknown
}

/** One worker process of a cluster started by `runCluster()`. */
export interface ClusterWorker {
  /** 0-based slot of the worker (kept by a replacement). */
  readonly index: number
  /** The worker's process id (0 if Node did not report one). */
  readonly pid: number
  /** What the worker reported once it listened. */
  readonly info: WorkerInit
  /** Resolves when the process exited, with its code or signal. */
  readonly exited: Promise<{
    /** The exit code; `null` when a signal ended the process. */
    code: number | null
    /** The signal that ended the process (e.g. `'SIGKILL'`); `null` when it exited by itself. */
    signal: string | null
  }>
  /** Messages the worker sent with `process.send()` (besides the ready message). */
  readonly messages: unknown[]
}

/** A running cluster, as `runCluster()` resolves it: its workers, and how to stop and restart them. */
export interface RunningCluster {
  /** The live workers by slot. */
  readonly workers: ReadonlyArray<ClusterWorker | undefined>
  /**
   * Stops the worker in slot `index`: `'SIGTERM'` lets it shut down gracefully (a session server drains its
   * sessions to the store first, see the README), `'SIGKILL'` kills it outright. Resolves once it exited.
   */
  kill(index: number, signal: 'SIGTERM' | 'SIGKILL'): Promise<{
    /** The exit code; `null` when the signal ended the process. */
    code: number | null
    /** The signal that ended the process; `null` when it exited by itself. */
    signal: string | null
  }>
  /** Starts a worker in slot `index` (after one was killed). */
  start(index: number): Promise<ClusterWorker>
  /** SIGTERMs every worker and waits for them (SIGKILL after `deadline` ms, default 5000). */
  close(deadline?: number): Promise<void>
}

const READY = 'proto:worker-ready'

/**
 * In a worker: tells the primary that this worker listens (call it once the server is bound). Node's
 * cluster shares the listening socket: the primary accepts and hands connections to workers in turn, so N
 * processes serve one port (Node 20 has no `reusePort`).
 */
export function workerReady (info: WorkerInit): void {
  process.send?.({ type: READY, info })
}

/**
 * Runs `workers` processes of `script` that share one listening port, through `node:cluster` (this
 * process becomes the cluster's primary; call it once per process). Each worker builds its own session
 * server with a Redis store, so a client resumes on whichever worker it lands on. Resolves once every
 * worker called `workerReady()`.
 */
export async function runCluster (init: ClusterInit): Promise<RunningCluster> {
  const n = validate.integer('workers', init.workers, 1, { min: 1, max: 256 })
  if (typeof init.script !== 'string' || init.script === '') validate.invalid('script', 'the path of the module each worker runs', init.script)
  const readyTimeout = validate.duration('readyTimeout', init.readyTimeout, 20_000, { min: 1 })
  if (!cluster.isPrimary) throw new Error('runCluster() must be called in the primary process, not in a worker')
  cluster.setupPrimary({ exec: init.script, args: init.args ?? [], execArgv: init.execArgv ?? process.execArgv, silent: false, ...(init.cwd !== undefined ? { cwd: init.cwd } : {}) })
  const workers: Array<ClusterWorker | undefined> = new Array(n).fill(undefined)

  const start = async (index: number): Promise<ClusterWorker> => {
    const w: Worker = cluster.fork({ ...init.env, PROTO_WORKER_INDEX: String(index) })
    const messages: unknown[] = []
    const exited = new Promise<{ code: number | null, signal: string | null }>((resolve) => {
      w.once('exit', (code, signal) => {
        if (workers[index]?.pid === w.process.pid) workers[index] = undefined
        resolve({ code, signal })
      })
    })
    const info = await new Promise<WorkerInit>((resolve, reject) => {
      const timer = setTimeout(() => { w.process.kill('SIGKILL'); reject(new Error(`expected worker ${index} to report ready within ${readyTimeout} ms, but it did not`)) }, readyTimeout)
      w.on('message', (msg: { type?: string, info?: WorkerInit }) => {
        if (msg?.type === READY && msg.info !== undefined) { clearTimeout(timer); resolve(msg.info) } else messages.push(msg)
      })
      void exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`expected worker ${index} to start, but it exited (${signal ?? code})`)) })
    })
    const worker: ClusterWorker = { index, pid: w.process.pid ?? 0, info, exited, messages }
    workers[index] = worker
    return worker
  }

  const kill = async (index: number, signal: 'SIGTERM' | 'SIGKILL'): Promise<{ code: number | null, signal: string | null }> => {
    const w = workers[index]
    if (w === undefined) throw new Error(`expected a live worker in slot ${index}, but there is none`)
    process.kill(w.pid, signal)
    return await w.exited
  }

  try {
    await Promise.all(Array.from({ length: n }, async (_, i) => await start(i)))
  } catch (err) {
    for (const w of workers) if (w !== undefined) process.kill(w.pid, 'SIGKILL')
    throw err
  }
  return {
    workers,
    kill,
    start,
    close: async (deadline = 5_000) => {
      await Promise.all(workers.map(async (w) => {
        if (w === undefined) return
        process.kill(w.pid, 'SIGTERM')
        const timer = setTimeout(() => { try { process.kill(w.pid, 'SIGKILL') } catch {} }, deadline)
        await w.exited
        clearTimeout(timer)
      }))
    }
  }
}
