/**
 * Scale worker, client side: many bare `node:net` connections in one process, each answering every PING
 * frame (`type 0x02`, any body) with a PONG (`0x03`) carrying the same body. The same clients serve both
 * the baseline and the @proto server, so the server is the only thing that differs. A session server
 * needs session clients (HELLO, RESUME): `scale.open` with `sessions` opens `sessionClient`s instead, idle
 * but for the heartbeat, with the server's interval and timeout (HELLO settles on the larger of both ends').
 */
import net from 'node:net'
import type { Frame } from '@proto/codec'
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
let pingsSeen = 0

async function openSession (port: number, interval: number, timeout: number): Promise<void> {
  const session = sessionClient(async ({ signal }) => await connect({ host: HOST, port }, { signal }), { heartbeat: { interval, timeout } })
  sessions.push(session)
  void session.sink(pushable<Frame>()).catch(() => {})
  void (async () => { for await (const _ of session.source) { /* nothing comes */ } })().catch(() => {})
  await new Promise<void>((resolve) => { session.addEventListener('connected', () => { resolve() }, { once: true }) })
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
  async 'scale.open' ({ port, n, parallel, sessions: asSessions, interval, timeout }: { port: number, n: number, parallel: number, sessions?: boolean, interval?: number, timeout?: number }): Promise<{ opened: number, seconds: number }> {
    const t0 = performance.now()
    let next = 0
    const lanes = Array.from({ length: Math.min(parallel, n) }, async () => {
      while (next < n) { next++; await (asSessions === true ? openSession(port, interval ?? 1_000, timeout ?? 5_000) : open(port)) }
    })
    await Promise.all(lanes)
    return { opened: sockets.length + sessions.length, seconds: (performance.now() - t0) / 1000 }
  },
  async 'scale.pings' (): Promise<number> { return pingsSeen }
})
