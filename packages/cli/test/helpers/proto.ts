import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'

/** The built executable, as `npx proto` runs it. */
export const BIN = fileURLToPath(new URL('../../dist/src/bin.js', import.meta.url))

export interface Exit { code: number | null, signal: NodeJS.Signals | null }

/** A running `proto` process, its output so far and ways to wait on it. */
export interface ProtoProcess {
  readonly child: ChildProcessWithoutNullStreams
  readonly stdout: () => Buffer
  readonly stderr: () => string
  readonly exited: Promise<Exit>
  /** Resolves with the first match of `re` in stderr; rejects after `timeout` ms, quoting stderr. */
  waitForStderr(re: RegExp, timeout?: number): Promise<RegExpMatchArray>
  /** Resolves once stdout satisfies `ok`; rejects after `timeout` ms. */
  waitForStdout(ok: (out: Buffer) => boolean, timeout?: number): Promise<Buffer>
  /** Resolves with the exit; rejects (and kills the process) after `timeout` ms. */
  exit(timeout?: number): Promise<Exit>
}

const live = new Set<ChildProcessWithoutNullStreams>()

/** Kills, by PID, every process a test started and left running. */
afterEach(() => {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
})

/** Starts `proto args…` with stdin a pipe (written with `stdin`, then ended, unless `keepStdin`). */
export function startProto (args: readonly string[], options: { stdin?: string | Buffer, keepStdin?: boolean, env?: Record<string, string> } = {}): ProtoProcess {
  const env: Record<string, string | undefined> = { ...process.env, DEBUG: '', PROTO_DEBUG: '', ...options.env }
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'pipe', env })
  live.add(child)
  const out: Buffer[] = []
  let err = ''
  const wakers = new Set<() => void>()
  const wake = (): void => { for (const w of wakers) w() }
  child.stdout.on('data', (c: Buffer) => { out.push(c); wake() })
  child.stderr.on('data', (c: Buffer) => { err += c.toString('utf8'); wake() })
  child.stdin.on('error', () => {}) // the process may exit before reading all of it
  if (options.stdin !== undefined) child.stdin.write(options.stdin)
  if (options.keepStdin !== true) child.stdin.end()
  const exited = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => { live.delete(child); resolve({ code, signal }); wake() })
  })
  const stdout = (): Buffer => Buffer.concat(out)
  const stderr = (): string => err
  async function until<T> (check: () => T | undefined, timeout: number, what: string): Promise<T> {
    return await new Promise<T>((resolve, reject) => {
      const attempt = (): void => {
        const v = check()
        if (v === undefined) return
        done()
        resolve(v)
      }
      const timer = setTimeout(() => { done(); reject(new Error(`timed out after ${timeout} ms waiting for ${what}; stderr so far:\n${err}`)) }, timeout)
      const done = (): void => { clearTimeout(timer); wakers.delete(attempt) }
      wakers.add(attempt)
      attempt()
    })
  }
  return {
    child,
    stdout,
    stderr,
    exited,
    waitForStderr: async (re, timeout = 10_000) => await until(() => re.exec(err) ?? undefined, timeout, `stderr to match ${re}`),
    waitForStdout: async (ok, timeout = 10_000) => await until(() => ok(stdout()) ? stdout() : undefined, timeout, 'stdout'),
    exit: async (timeout = 15_000) => {
      let timer: NodeJS.Timeout | undefined
      try {
        return await Promise.race([exited, new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`proto ${args.join(' ')} did not exit within ${timeout} ms; stderr:\n${err}`)) }, timeout)
        })])
      } finally {
        clearTimeout(timer)
      }
    }
  }
}

/** Runs `proto args…` to the end and returns its exit code and output. */
export async function runProto (args: readonly string[], options: { stdin?: string | Buffer, env?: Record<string, string>, timeout?: number } = {}): Promise<{ code: number | null, stdout: Buffer, stderr: string }> {
  const p = startProto(args, options)
  const { code } = await p.exit(options.timeout)
  return { code, stdout: p.stdout(), stderr: p.stderr() }
}

/** `proto listen` (or `proxy`) started on a free port; resolves with the process and the port it printed. */
export async function startServer (args: readonly string[], re = /listening on 127\.0\.0\.1:(\d+)/): Promise<{ proc: ProtoProcess, port: number }> {
  const proc = startProto(args, { keepStdin: true })
  const m = await proc.waitForStderr(re)
  return { proc, port: Number(m[1]) }
}
