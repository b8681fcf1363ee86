/**
 * Scale worker, server side (the process being measured; started with `--expose-gc` and a raised file limit).
 *
 * `net`: bare `node:net` sockets, a `data` listener that discards the pongs, and ONE shared `setInterval`
 * that writes a 5-byte ping (`[u32be 0][0x02]`, an empty @proto PING frame) to every socket once a second.
 * `proto`: transport `listen` → `codec` → `heartbeat({ interval: 1000 })` per connection, with an echo
 * application (`link.sink(link.source)`: it reads `source` and holds a `sink` open, as an idle server
 * connection does). `proto-hello`: the same with HELLO, against clients that run a heartbeat with HELLO
 * too, so that both ends may ping (what a session's two ends do: the like-for-like "sessions off").
 * `session`: the same heartbeat under `sessionServer`, the same echo application on every session (its
 * clients are session clients).
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import net from 'node:net'
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'
import { codec } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import { SESSION_FLAG, sessionServer } from '@proto/session'
import { collectGarbage, settledRss } from '@proto/stage-compliance/memory'
import type { Connection } from '@proto/transport'
import { listen } from '@proto/transport'
import { frame5 } from './lib/framing.js'
import { serveRequests } from './lib/ipc.js'
import { fdLimit } from './lib/machine.js'
import { HOST } from './lib/net-util.js'
import { SCALE_INTERVAL, SCALE_TIMEOUT } from './lib/scale-settings.js'

/** `young`: the bytes V8's young generation holds (its two semi-spaces and young large objects), which V8 sizes per process by its allocation rate. */
export interface MemorySnapshot { rss: number, heapUsed: number, external: number, arrayBuffers: number, young: number }

/** The size of V8's young generation now. */
function youngGeneration (): number {
  let bytes = 0
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space' || s.space_name === 'new_large_object_space') bytes += s.space_size
  return bytes
}

/** `BENCH_HEAP_SNAPSHOT=<path prefix>`: V8 heap snapshots at both memory readings (`<prefix>.<variant>.before|after.heapsnapshot`). */
async function snapshot (label: 'before' | 'after'): Promise<MemorySnapshot> {
  collectGarbage()
  const m = process.memoryUsage()
  const young = youngGeneration()
  // RSS once V8 has released what the GC freed (`@proto/stage-compliance/memory`); the heap figures as the GC left them
  const rss = await settledRss()
  // taken after the reading: writing a snapshot grows the heap
  const heapTo = process.env.BENCH_HEAP_SNAPSHOT
  if (heapTo !== undefined) writeHeapSnapshot(`${heapTo}.${current}.${label}.heapsnapshot`)
  return { rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, young }
}

let live: () => number = () => 0
/** When every connection of the run was live (`performance.now()`). */
let liveAt = 0
let current = 'none'
let pings: () => number = () => 0
let pongs: () => number = () => 0

async function startNet (): Promise<number> {
  const sockets = new Set<net.Socket>()
  let sent = 0
  let received = 0
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket)
    socket.on('data', (chunk: Buffer) => { received += chunk.byteLength / 5 })
    socket.on('error', () => {})
    socket.on('close', () => { sockets.delete(socket) })
  })
  const ping = frame5(0x02)
  setInterval(() => {
    for (const s of sockets) { s.write(ping); sent++ }
  }, SCALE_INTERVAL).unref()
  server.listen(0, HOST, 4096)
  await new Promise<void>((resolve) => { server.once('listening', () => { resolve() }) })
  live = () => sockets.size
  pings = () => sent
  pongs = () => received
  return (server.address() as net.AddressInfo).port
}

export type ScaleVariant = 'net' | 'proto' | 'proto-hello' | 'session' | 'proto-codec' | 'proto-transport'

/** Idle transport connections only: the application reads `source` (nothing comes: no pings are sent). */
async function startTransport (withCodec: boolean): Promise<number> {
  const server = await listen({ host: HOST, port: 0, backlog: 4096 }, async (conn) => {
    const source = withCodec ? codec(conn).source : conn.source
    for await (const _ of source) { /* idle */ }
  })
  live = () => server.connections.size
  return (server.address as { port: number }).port
}

/**
 * Ping exchanges the server took part in: pings it sent and pings it answered (a session's clients ping
 * too, since HELLO makes both ends use the same interval; whichever end's timer fires first pings, and the
 * pong resets the other's send clock), and the pongs it received.
 */
function count (links: () => Iterable<HeartbeatDuplex>): void {
  pings = () => { let n = 0; for (const l of links()) { const s = l.stats(); n += s.pingsSent + s.pingsReceived } return n }
  pongs = () => { let n = 0; for (const l of links()) n += l.stats().pongsReceived; return n }
}

/** `hello`: HELLO on, against clients that run a heartbeat with HELLO too (sessions off, like for like). */
async function startProto (hello: boolean): Promise<number> {
  const links = new Set<HeartbeatDuplex>()
  const server = await listen({ host: HOST, port: 0, backlog: 4096 }, async (conn) => {
    const link = heartbeat(codec(conn), { interval: SCALE_INTERVAL, timeout: SCALE_TIMEOUT, hello })
    links.add(link)
    try {
      await link.sink(link.source)
    } finally {
      links.delete(link)
    }
  })
  live = () => server.connections.size
  count(() => links)
  return (server.address as { port: number }).port
}

async function startSession (): Promise<number> {
  // each session's heartbeat by its transport connection; counted while that connection is live (no
  // listener on the link: an event listener would cost the session what the plain stack does not pay)
  const links = new Map<string, HeartbeatDuplex>()
  const sessions = sessionServer({
    stack: (conn) => {
      const link = heartbeat(codec(conn), { interval: SCALE_INTERVAL, timeout: SCALE_TIMEOUT, hello: true, helloFlags: SESSION_FLAG })
      links.set((conn as Connection).id, link)
      return link
    }
  })
  sessions.addEventListener('session', (e) => {
    const session = e.detail
    void session.sink(session.source).catch(() => {})
  })
  const server = await listen({ host: HOST, port: 0, backlog: 4096 }, async (conn) => { await sessions.handle(conn) })
  live = () => server.connections.size
  count(function * () {
    for (const [id, link] of links) {
      if (server.connections.has(id)) yield link
      else links.delete(id)
    }
  })
  return (server.address as { port: number }).port
}

serveRequests({
  async 'scale.limit' (): Promise<number> { return fdLimit() },
  async 'scale.prepare' ({ variant }: { variant: ScaleVariant }): Promise<{ port: number, before: MemorySnapshot }> {
    current = variant
    const port = variant === 'net'
      ? await startNet()
      : variant === 'proto' || variant === 'proto-hello'
        ? await startProto(variant === 'proto-hello')
        : variant === 'session' ? await startSession() : await startTransport(variant === 'proto-codec')
    return { port, before: await snapshot('before') }
  },
  /**
   * Waits (polling, bounded) until `n` connections are live, lets them run `settleMs`, then collects what
   * opening them left behind (two forced GCs), so the CPU window that follows starts from the same heap.
   */
  async 'scale.settle' ({ n, settleMs }: { n: number, settleMs: number }): Promise<{ live: number }> {
    const deadline = performance.now() + 60_000
    while (live() < n && performance.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    liveAt = performance.now()
    await new Promise(resolve => setTimeout(resolve, settleMs))
    collectGarbage()
    return { live: live() }
  },
  /** Measures memory once `sinceLiveMs` have passed since every connection was live (at once if they have). */
  async 'scale.memory' ({ sinceLiveMs }: { sinceLiveMs: number }): Promise<{ live: number, after: MemorySnapshot }> {
    const wait = liveAt + sinceLiveMs - performance.now()
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    return { live: live(), after: await snapshot('after') }
  },
  /** CPU of this process over `windowMs`, in ms of CPU per second, with the pings sent meanwhile. */
  async 'scale.cpu' ({ windowMs }: { windowMs: number }): Promise<{ cpuMsPerSec: number, userMsPerSec: number, pingsPerSec: number, pongsPerSec: number, live: number }> {
    const p0 = pings()
    const q0 = pongs()
    // BENCH_WINDOW_PROFILE=<file>: a CPU profile of the measured window only;
    // BENCH_WINDOW_ALLOCATIONS=<file>: a sampling heap profile of it (what the window allocates, by call site)
    const profileTo = process.env.BENCH_WINDOW_PROFILE
    const allocationsTo = process.env.BENCH_WINDOW_ALLOCATIONS
    const session = profileTo !== undefined || allocationsTo !== undefined ? new Session() : undefined
    if (session !== undefined) session.connect()
    if (session !== undefined && profileTo !== undefined) { await session.post('Profiler.enable'); await session.post('Profiler.start') }
    if (session !== undefined && allocationsTo !== undefined) await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    await new Promise(resolve => setTimeout(resolve, windowMs))
    const c = process.cpuUsage(c0)
    if (session !== undefined && profileTo !== undefined) {
      const { profile } = await session.post('Profiler.stop')
      writeFileSync(`${profileTo}.${process.pid}.cpuprofile`, JSON.stringify(profile))
    }
    if (session !== undefined && allocationsTo !== undefined) {
      const { profile } = await session.post('HeapProfiler.stopSampling')
      writeFileSync(`${allocationsTo}.${process.pid}.heapprofile`, JSON.stringify(profile))
    }
    session?.disconnect()
    const secs = (performance.now() - t0) / 1000
    return {
      cpuMsPerSec: (c.user + c.system) / 1000 / secs,
      userMsPerSec: c.user / 1000 / secs,
      pingsPerSec: (pings() - p0) / secs,
      pongsPerSec: (pongs() - q0) / secs,
      live: live()
    }
  }
})
