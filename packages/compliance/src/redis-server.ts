import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SystemTool } from './system-tools.js'
import { commandTool } from './system-tools.js'

/** Debian's `redis-server` (7.0 on bookworm), for the tests, examples and benchmarks that need a real Redis. */
export const redisServerTool: SystemTool = commandTool('redis-server', 'redis-server', ['--version'], 'apt-get install -y redis-server')

/** A `redis-server` this process started: loopback only, no persistence, in a temporary directory. */
export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** The process id while it runs. */
  readonly pid: number | undefined
  /** Stops it (SIGTERM, then SIGKILL after 2 s) and waits for the exit. The port stays reserved for `start()`. */
  stop(): Promise<void>
  /** Kills it with `signal` and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts it again on the same port (after `stop()` or `kill()`), empty. */
  start(): Promise<void>
  /** Stops it for good and removes its directory. */
  close(): Promise<void>
}

/** A free TCP port on 127.0.0.1 (bound for a moment, then released). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => { resolve(port) })
    })
  })
}

/**
 * Starts `redis-server` on a free loopback port in a fresh temporary directory (no RDB, no AOF) and resolves
 * once it accepts connections. Stop it with `close()`: only this process is signalled, by its PID.
 */
export async function startRedisServer (options: { port?: number, args?: string[] } = {}): Promise<RedisServer> {
  const port = options.port ?? await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'proto-redis-'))
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()

  const start = async (): Promise<void> => {
    if (child !== undefined) throw new Error(`expected redis-server on port ${port} to be stopped before start(), but it runs (pid ${child.pid})`)
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', ...options.args ?? []], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = c
    exited = new Promise((resolve) => { c.once('exit', () => { if (child === c) child = undefined; resolve() }) })
    let out = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { c.kill('SIGKILL'); reject(new Error(`expected redis-server to accept connections on port ${port} within 10 s, but it did not:\n${out}`)) }, 10_000)
      c.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('Ready to accept connections')) { clearTimeout(timer); resolve() }
      })
      c.once('error', (err) => { clearTimeout(timer); reject(err) })
      c.once('exit', (code) => { clearTimeout(timer); reject(new Error(`expected redis-server to start on port ${port}, but it exited (${code}):\n${out}`)) })
    })
    c.stdout?.resume()
    c.stderr?.resume()
  }

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const c = child
    if (c === undefined) return
    c.kill(signal)
    const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => { c.kill('SIGKILL') }, 2_000)
    await exited
    clearTimeout(timer)
  }

  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid () { return child?.pid },
    stop: async () => { await kill('SIGTERM') },
    kill,
    start,
    close: async () => {
      await kill('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
