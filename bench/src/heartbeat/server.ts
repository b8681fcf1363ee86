/**
 * One benchmark server process (forked by `connections.ts`). Modes:
 * - `bare`: `node:net` only; each socket's 'data' is parsed by hand, PINGs answered with PONGs, and one
 *   shared 1 s timer sweeps every socket (ping if idle for the interval, destroy if silent for the timeout);
 * - `heartbeat`: `heartbeat(codec(socket))` per connection over a minimal socket adapter;
 * - `transport`: `heartbeat(codec(conn))` per connection accepted by `@proto/transport`'s `listen()`;
 * - `codec`: `codec(socket)` with PONGs answered by a user loop and no timer at all: the stack beneath the
 *   heartbeat, to tell its own cost from that of the layers it sits on.
 * It reports memory per connection once all clients are connected, then CPU over a window.
 */
import net from 'node:net'
import type { Frame, FrameDuplex } from '@proto/codec'
import { codec, FrameType } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import { settledMemory } from '@proto/stage-compliance/memory'
import { socketDuplex } from '@proto/stage-compliance/socket-duplex'
import { listen as transportListen } from '@proto/transport'

// the server's own policy: the defaults (ping after 15 s without sending, dead after 45 s of silence); the
// clients ping every second, so the server only answers, and both servers check the same two clocks
const INTERVAL = 15_000
const TIMEOUT = 45_000
const SWEEP = 1000

type Mode = 'bare' | 'heartbeat' | 'transport' | 'codec'
const mode = process.argv[2] as Mode
const expected = Number(process.argv[3])
const send = (msg: unknown): void => { process.send?.(msg) }

// ---- bare: everything by hand, one shared timer ----
interface BareConn { socket: net.Socket, lastRecv: number, lastSent: number, partial: Buffer | undefined }
const bare = new Set<BareConn>()

function bareFrame (c: BareConn, type: number, body: Buffer): void {
  if (type !== FrameType.PING) return
  const pong = Buffer.allocUnsafe(5 + body.length)
  pong.writeUInt32BE(body.length, 0)
  pong[4] = FrameType.PONG
  body.copy(pong, 5)
  c.socket.write(pong)
  c.lastSent = performance.now()
}

function bareData (c: BareConn, chunk: Buffer): void {
  c.lastRecv = performance.now()
  let buf = c.partial == null ? chunk : Buffer.concat([c.partial, chunk])
  while (buf.length >= 5) {
    const len = buf.readUInt32BE(0)
    if (buf.length < 5 + len) break
    bareFrame(c, buf[4], buf.subarray(5, 5 + len))
    buf = buf.subarray(5 + len)
  }
  c.partial = buf.length > 0 ? Buffer.from(buf) : undefined
}

const PING = Buffer.from([0, 0, 0, 8, FrameType.PING, 0, 0, 0, 0, 0, 0, 0, 0])
function sweep (): void {
  const now = performance.now()
  for (const c of bare) {
    if (now - c.lastRecv >= TIMEOUT) c.socket.destroy()
    else if (now - c.lastSent >= INTERVAL) { c.socket.write(PING); c.lastSent = now }
  }
  setTimeout(sweep, SWEEP).unref()
}

// ---- heartbeat: the stage per connection ----
const stages = new Set<HeartbeatDuplex>()
let deaths = 0
function serve (hb: HeartbeatDuplex): void {
  stages.add(hb)
  hb.addEventListener('closed', ({ detail: { error } }) => { stages.delete(hb); if (error?.name === 'HeartbeatTimeoutError') deaths++ })
  void (async () => { for await (const _ of hb.source) { /* no data expected */ } })().catch(() => {})
}

/** `codec` mode: answer PINGs from a user loop through a one-slot async source. */
function servePongs (frames: FrameDuplex): void {
  const pending: Frame[] = []
  let wake: (() => void) | undefined
  void frames.sink((async function * () {
    for (;;) {
      while (pending.length > 0) yield pending.shift() as Frame
      await new Promise<void>((resolve) => { wake = resolve })
    }
  })()).catch(() => {})
  void (async () => {
    for await (const f of frames.source) {
      if (f.type !== FrameType.PING) continue
      pending.push({ type: FrameType.PONG, body: f.body })
      wake?.()
    }
  })().catch(() => {})
}

let connections = 0
function connected (): void {
  if (++connections === expected) send({ type: 'connected' })
}

async function main (): Promise<void> {
  const baseline = await settledMemory()
  let port: number
  if (mode === 'transport') {
    const server = await transportListen({ host: '127.0.0.1', port: 0, backlog: 4096 }, async (conn) => {
      connected()
      serve(heartbeat(codec(conn), { interval: INTERVAL, timeout: TIMEOUT }))
    })
    port = (server.address as { port: number }).port
  } else {
    const server = net.createServer((socket) => {
      connected()
      if (mode === 'bare') {
        socket.setNoDelay(true)
        const now = performance.now()
        const c: BareConn = { socket, lastRecv: now, lastSent: now, partial: undefined }
        bare.add(c)
        socket.on('data', (chunk) => { bareData(c, chunk) })
        socket.on('error', () => {})
        socket.on('close', () => { bare.delete(c) })
      } else if (mode === 'codec') {
        servePongs(codec(socketDuplex(socket)))
      } else {
        serve(heartbeat(codec(socketDuplex(socket)), { interval: INTERVAL, timeout: TIMEOUT }))
      }
    })
    await new Promise<void>(resolve => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve))
    port = (server.address() as net.AddressInfo).port
    if (mode === 'bare') sweep()
  }
  send({ type: 'listening', port })
  process.on('message', (msg: { type: string, window: number }) => {
    if (msg.type === 'memory') {
      void settledMemory().then((m) => {
        send({ type: 'memory', rssPerConn: (m.rss - baseline.rss) / connections, heapPerConn: (m.heap - baseline.heap) / connections, connections })
      })
    } else if (msg.type === 'cpu') {
      const start = process.cpuUsage()
      const t0 = performance.now()
      setTimeout(() => {
        const used = process.cpuUsage(start)
        const elapsed = performance.now() - t0
        send({ type: 'cpu', cpu: (used.user + used.system) / 1000 / elapsed, live: mode === 'bare' ? bare.size : stages.size, deaths })
      }, msg.window)
    } else if (msg.type === 'exit') {
      process.exit(0)
    }
  })
}

await main()
