/**
 * Scale worker, client side: many bare `node:net` connections in one process, each answering every PING
 * frame (`type 0x02`, any body) with a PONG (`0x03`) carrying the same body. The same clients serve both
 * the baseline and the @proto server, so the server is the only thing that differs. A session server
 * needs session clients (HELLO, RESUME): `scale.open` with `sessions` opens `sessionClient`s instead, idle
 * but for the heartbeat, with the server's interval and timeout (HELLO settles on the larger of both ends').
 * With `heartbeats` it opens plain @proto connections with a heartbeat and HELLO, the same interval and
 * timeout, idle as well: the clients of the plain stack with sessions off.
 */
import net from 'node:net'
import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import type { SessionDuplex } from '@proto/session'
import { sessionClient } from '@proto/session'
import { connect } from '@proto/transport'
import { Deframer, frame5 } from './lib/framing.js'
import { serveRequests } from './lib/ipc.js'
import { fdLimit } from './lib/machine.js'
import { HOST } from './lib/net-util.js'
import { pushable } from './lib/pushable.js'

const sockets: net.Socket[] = []
const sessions: SessionDuplex[] = []
const links: HeartbeatDuplex[] = []
let pingsSeen = 0

async function openSession (port: number, interval: number, timeout: number): Promise<void> {
  const session = sessionClient(async ({ signal }) => await connect({ host: HOST, port }, { signal }), { heartbeat: { interval, timeout } })
  sessions.push(session)
  void session.sink(pushable<Frame>()).catch(() => {})
  void (async () => { for await (const _ of session.source) { /* nothing comes */ } })().catch(() => {})
  await new Promise<void>((resolve) => { session.addEventListener('connected', () => { resolve() }, { once: true }) })
}

async function openHeartbeat (port: number, interval: number, timeout: number): Promise<void> {
  const link = heartbeat(codec(await connect({ host: HOST, port })), { interval, timeout, hello: true })
  links.push(link)
  void link.sink(pushable<Frame>()).catch(() => {})
  void (async () => { for await (const _ of link.source) { /* nothing comes */ } })().catch(() => {})
}

function open (port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = net.connect({ port, host: HOST, noDelay: true })
    const deframer = new Deframer(5, (body, type) => {
      if (type === 0x02) { pingsSeen++; socket.write(frame5(0x03, body)) }
    })
    socket.on('data', (chunk: Buffer) => { deframer.push(chunk) })
    socket.once('connect', () => { sockets.push(socket); socket.off('error', reject); socket.on('error', () => {}); resolve() })
    socket.once('error', reject)
  })
}

serveRequests({
  async 'scale.limit' (): Promise<number> { return fdLimit() },
  /** Opens `n` connections, at most `parallel` handshakes at a time. */
  async 'scale.open' ({ port, n, parallel, sessions: asSessions, heartbeats, interval = 1_000, timeout = 5_000 }: { port: number, n: number, parallel: number, sessions?: boolean, heartbeats?: boolean, interval?: number, timeout?: number }): Promise<{ opened: number, seconds: number }> {
    const t0 = performance.now()
    let next = 0
    const one = asSessions === true
      ? async () => { await openSession(port, interval, timeout) }
      : heartbeats === true ? async () => { await openHeartbeat(port, interval, timeout) } : async () => { await open(port) }
    const lanes = Array.from({ length: Math.min(parallel, n) }, async () => {
      while (next < n) { next++; await one() }
    })
    await Promise.all(lanes)
    return { opened: sockets.length + sessions.length + links.length, seconds: (performance.now() - t0) / 1000 }
  },
  async 'scale.pings' (): Promise<number> { return pingsSeen }
})
