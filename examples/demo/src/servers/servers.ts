import type { ChildProcess } from 'node:child_process'
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ResolvedOptions } from '../options.js'
import type { TimelineEvent } from '../timeline.js'
import type { FromServer, ServerProcessConfig, ServerProcessReport, ToServer } from './protocol.js'
import { startDemoRedis } from './redis.js'

/** One of the run's server processes, as the demo sees it. */
export interface ServerProcess {
  readonly index: number
  readonly pid: number
  readonly port: number
  readonly nodeId: string
  readonly ledger: string
  /** What it reported last (every `REPORT_INTERVAL` ms, and when it settled, drained or closed). */
  report: ServerProcessReport | undefined
  /** It reported after its sessions ended or were drained: its counts are final. */
  final: boolean
  /** `undefined` while it runs; how the demo stopped it otherwise. */
  killed: 'SIGTERM' | 'SIGKILL' | undefined
  /** Sessions it handed to the store on SIGTERM. */
  drained: number | undefined
  readonly exited: Promise<void>
  readonly child: ChildProcess
}

/** The run's `redis-server` and server processes. */
export interface ServerGroup {
  readonly redisPort: number
  /** The run's start (see `startServers`). */
  readonly origin: () => number
  readonly servers: readonly ServerProcess[]
  /** Proxy connections (id from 1) and the server each was sent to. */
  readonly picks: Array<{ id: number, node: number, atMs: number }>
  /** The proxy's target chooser: the live servers in turn, one per accepted connection. */
  choose(id: number): { host: string, port: number }
  /** The server the latest connection was sent to, if it still runs. */
  current(): ServerProcess | undefined
  /** Stops `server` with `signal` and resolves once its process exited. */
  kill(server: ServerProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void>
  /** Asks every live server to wait until its sessions ended (at most `timeout` ms) and report. */
  settle(timeout: number): Promise<void>
  /** Closes the servers (SIGKILL after `CLOSE_DEADLINE`) and stops Redis; the ledgers stay until `removeLedgers()`. */
  close(): Promise<void>
  /** Removes the ledgers' temporary directory. */
  removeLedgers(): void
}

const READY_TIMEOUT = 20_000
const CLOSE_DEADLINE = 3_000
const EXT = extname(fileURLToPath(import.meta.url))
const SCRIPT = fileURLToPath(new URL(`./server-process${EXT}`, import.meta.url))
/** From the TypeScript sources (`npm run demo`), the servers run from source too. */
const EXEC_ARGV = EXT === '.ts' ? ['--conditions=source', '--import', 'tsx'] : []

const tell = (s: ServerProcess, m: ToServer): void => { if (s.child.connected) s.child.send(m) }

async function startServer (config: ServerProcessConfig, onEvent: (e: TimelineEvent) => void): Promise<ServerProcess> {
  const child = fork(SCRIPT, [], { execArgv: EXEC_ARGV, env: { ...process.env, DEMO_SERVER: JSON.stringify(config) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  const ready = await new Promise<{ port: number, nodeId: string }>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`expected demo server ${config.index} to listen within ${READY_TIMEOUT} ms, but it did not`)) }, READY_TIMEOUT)
    child.once('message', (m: FromServer) => { if (m.type === 'ready') { clearTimeout(timer); resolve(m) } })
    void exited.then(() => { clearTimeout(timer); reject(new Error(`expected demo server ${config.index} to start, but it exited (${child.exitCode ?? child.signalCode})`)) })
  })
  const server: ServerProcess = { index: config.index, pid: child.pid ?? 0, port: ready.port, nodeId: ready.nodeId, ledger: config.ledger, report: undefined, final: false, killed: undefined, drained: undefined, exited, child }
  child.on('message', (m: FromServer) => {
    if (m.type === 'event') onEvent(m.event)
    else if (m.type === 'report') { if (!server.final) server.report = m.report } else if (m.type === 'settled') { server.report = m.report; server.final = true } else if (m.type === 'drained') { server.report = m.report; server.final = true; server.drained = m.sessions }
  })
  return server
}

/**
 * Starts a `redis-server` of the run's own and `o.servers` session echo servers, each its own process
 * (`server-process.ts`) on its own loopback port, sharing the sessions through Redis. `origin()`: the
 * run's start on `performance.timeOrigin + performance.now()`'s clock (the clock every process shares):
 * the servers' event times are counted from it.
 */
export async function startServers (o: ResolvedOptions, origin: () => number, onEvent: (e: TimelineEvent) => void): Promise<ServerGroup> {
  const redis = await startDemoRedis()
  const dir = mkdtempSync(join(tmpdir(), 'proto-demo-'))
  const removeLedgers = (): void => { rmSync(dir, { recursive: true, force: true }) }
  const servers: ServerProcess[] = []
  // the demo may quit at once (a second Ctrl-C, process.exit): its processes go with it, by their PIDs
  const onExit = (): void => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL')
    try { if (redis.pid !== undefined) process.kill(redis.pid, 'SIGKILL') } catch {}
    removeLedgers()
  }
  process.once('exit', onExit)
  const stopAll = async (): Promise<void> => {
    process.off('exit', onExit)
    await Promise.all(servers.map(async (s) => {
      if (s.child.exitCode === null && s.child.signalCode === null) {
        tell(s, { type: 'close' })
        const timer = setTimeout(() => { s.child.kill('SIGKILL') }, CLOSE_DEADLINE)
        await s.exited
        clearTimeout(timer)
      }
    }))
    await redis.close()
  }
  try {
    const started = await Promise.allSettled(Array.from({ length: o.servers }, async (_, index) => await startServer({
      index, redisUrl: redis.url, prefix: 'demo:', ledger: join(dir, `server-${index}.ledger`), messages: o.messages, size: o.size,
      heartbeatInterval: o.heartbeatInterval, heartbeatTimeout: o.heartbeatTimeout
    }, (e) => { onEvent({ ...e, atMs: e.atMs - origin() }) })))
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value)
    const failed = started.find(s => s.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  } catch (err) {
    await stopAll()
    removeLedgers()
    throw err
  }
  const picks: ServerGroup['picks'] = []
  const at = (): number => performance.timeOrigin + performance.now() - origin()
  let turn = -1
  return {
    redisPort: redis.port,
    origin,
    servers,
    picks,
    choose (id) {
      const live = servers.filter(s => s.killed === undefined)
      if (live.length === 0) throw new Error('no demo server is running')
      const server = live[++turn % live.length]
      picks.push({ id, node: server.index, atMs: at() })
      return { host: '127.0.0.1', port: server.port }
    },
    current () {
      const last = picks.at(-1)
      const server = last === undefined ? undefined : servers[last.node]
      return server?.killed === undefined ? server : undefined
    },
    async kill (server, signal) {
      server.killed = signal
      server.child.kill(signal)
      const timer = signal === 'SIGTERM' ? setTimeout(() => { server.child.kill('SIGKILL') }, CLOSE_DEADLINE) : undefined
      await server.exited
      clearTimeout(timer)
    },
    async settle (timeout) {
      await Promise.all(servers.filter(s => s.killed === undefined).map(async (s) => {
        s.final = false
        tell(s, { type: 'settle', timeout })
        const deadline = Date.now() + timeout + 1_000
        while (!s.final && Date.now() < deadline && s.child.exitCode === null) await new Promise(resolve => setTimeout(resolve, 20))
      }))
    },
    close: stopAll,
    removeLedgers
  }
}
