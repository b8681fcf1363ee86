/**
 * Scale worker, server side (the process being measured; started with `--expose-gc` and a raised file limit).
 *
 * `net`: bare `node:net` sockets, a `data` listener that discards the pongs, and ONE shared `setInterval`
 * that writes a 5-byte ping (`[u32be 0][0x02]`, an empty @proto PING frame) to every socket once a second.
 * `proto`: transport `listen` → `codec` → `heartbeat({ interval: 1000 })` per connection, with the
 * application reading `source` and holding a `sink` open, as an idle server connection does.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import net from 'node:net'
import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import { listen } from '@proto/transport'
import { frame5 } from './lib/framing.js'
import { serveRequests } from './lib/ipc.js'
import { fdLimit } from './lib/machine.js'
import { HOST } from './lib/net-util.js'
import { pushable } from './lib/pushable.js'

export const SCALE_INTERVAL = 1_000
export const SCALE_TIMEOUT = 5_000

export interface MemorySnapshot { rss: number, heapUsed: number, external: number, arrayBuffers: number }

function snapshot (): MemorySnapshot {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('the scale server needs --expose-gc')
  gc()
  gc()
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers }
}

let live: () => number = () => 0
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

export type ScaleVariant = 'net' | 'proto' | 'proto-codec' | 'proto-transport'

/** Idle transport connections only: the application reads `source` (nothing comes: no pings are sent). */
async function startTransport (withCodec: boolean): Promise<number> {
  const server = await listen({ host: HOST, port: 0, backlog: 4096 }, async (conn) => {
    const source = withCodec ? codec(conn).source : conn.source
    for await (const _ of source) { /* idle */ }
  })
  live = () => server.connections.size
  return (server.address as { port: number }).port
}

async function startProto (): Promise<number> {
  const links = new Set<HeartbeatDuplex>()
  const server = await listen({ host: HOST, port: 0, backlog: 4096 }, async (conn) => {
    const link = heartbeat(codec(conn), { interval: SCALE_INTERVAL, timeout: SCALE_TIMEOUT })
    links.add(link)
    const out = pushable<Frame>()
    const writing = link.sink(out)
    try {
      for await (const _ of link.source) { /* idle: nothing but pongs arrives, and the stage keeps those */ }
    } finally {
      out.end()
      links.delete(link)
      await writing.catch(() => {})
    }
  })
  live = () => server.connections.size
  pings = () => { let n = 0; for (const l of links) n += l.stats().pingsSent; return n }
  pongs = () => { let n = 0; for (const l of links) n += l.stats().pongsReceived; return n }
  return (server.address as { port: number }).port
}

serveRequests({
  async 'scale.limit' (): Promise<number> { return fdLimit() },
  async 'scale.prepare' ({ variant }: { variant: ScaleVariant }): Promise<{ port: number, before: MemorySnapshot }> {
    const port = variant === 'net'
      ? await startNet()
      : variant === 'proto' ? await startProto() : await startTransport(variant === 'proto-codec')
    return { port, before: snapshot() }
  },
  /** Waits (polling, bounded) until `n` connections are live, lets them run `settleMs`, then measures memory. */
  async 'scale.settle' ({ n, settleMs }: { n: number, settleMs: number }): Promise<{ live: number, after: MemorySnapshot }> {
    const deadline = performance.now() + 60_000
    while (live() < n && performance.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    await new Promise(resolve => setTimeout(resolve, settleMs))
    return { live: live(), after: snapshot() }
  },
  /** CPU of this process over `windowMs`, in ms of CPU per second, with the pings sent meanwhile. */
  async 'scale.cpu' ({ windowMs }: { windowMs: number }): Promise<{ cpuMsPerSec: number, userMsPerSec: number, pingsPerSec: number, pongsPerSec: number, live: number }> {
    const p0 = pings()
    const q0 = pongs()
    // BENCH_WINDOW_PROFILE=<file>: a CPU profile of the measured window only
    const profileTo = process.env.BENCH_WINDOW_PROFILE
    const session = profileTo !== undefined ? new Session() : undefined
    if (session !== undefined) { session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.start') }
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    await new Promise(resolve => setTimeout(resolve, windowMs))
    const c = process.cpuUsage(c0)
    if (session !== undefined && profileTo !== undefined) {
      const { profile } = await session.post('Profiler.stop')
      writeFileSync(`${profileTo}.${process.pid}.cpuprofile`, JSON.stringify(profile))
      session.disconnect()
    }
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
