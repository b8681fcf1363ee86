/**
 * Reconnect: how long after the server comes back does the first message written during the outage arrive?
 *
 * The server worker runs a stack server (listen → codec → heartbeat) it can take down (`rc.down`: stop
 * listening, reset every connection) and bring back on the same port (`rc.up`). Both times are taken in the
 * server process: `up` (listening again), `accept` (the client's redial arrives) and `first` (its first
 * DATA frame is read). The client worker runs the full stack with a known backoff and writes one message
 * each time it sees the connection drop; the message waits in the reconnect buffer until the redial.
 */
import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import { heartbeat } from '@proto/heartbeat'
import type { BackoffInit, DurableDuplex } from '@proto/reconnect'
import { reconnect } from '@proto/reconnect'
import type { Server } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import { HOST } from './lib/net-util.js'
import type { Pushable } from './lib/pushable.js'
import { pushable } from './lib/pushable.js'
import { heartbeatInit } from './stack/variants.js'

/** What one outage measured, in ms from the moment the server listened again. */
export interface Comeback { accept: number, first: number }

let server: Server | undefined
let port = 0
let accepted: number | undefined
let firstData: ((t: number) => void) | undefined

async function start (): Promise<void> {
  server = await listen({ host: HOST, port }, async (conn) => {
    if (accepted === undefined) accepted = performance.now()
    const link = heartbeat(codec(conn), heartbeatInit)
    void link.sink([]).catch(() => {})
    for await (const frame of link.source) {
      if (frame.type === 0x00) { const f = firstData; firstData = undefined; f?.(performance.now()) }
    }
  })
  port = (server.address as { port: number }).port
}

export const reconnectServerHandlers = {
  async 'rc.listen' (): Promise<number> {
    if (server === undefined) await start()
    return port
  },
  async 'rc.down' (): Promise<void> {
    const s = server
    server = undefined
    await s?.close({ deadline: 0 })
  },
  async 'rc.up' (): Promise<Comeback> {
    accepted = undefined
    const delivered = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('no message within 20 s of coming back')) }, 20_000)
      firstData = (t) => { clearTimeout(timer); resolve(t) }
    })
    await start()
    const up = performance.now()
    const first = await delivered
    return { accept: (accepted ?? first) - up, first: first - up }
  }
}

let link: DurableDuplex<Frame> | undefined
let out: Pushable<Frame> | undefined
const delays: number[] = []

export const reconnectClientHandlers = {
  async 'rc.start' ({ port, backoff }: { port: number, backoff: BackoffInit }): Promise<void> {
    const l = reconnect<Frame>(async ({ signal }) => heartbeat(codec(await connect({ host: HOST, port }, { signal })), heartbeatInit), backoff)
    link = l
    out = pushable<Frame>()
    const body = new Uint8Array(32).fill(0x62)
    l.addEventListener('disconnected', () => { out?.push({ type: 0x00, body }) })
    l.addEventListener('reconnecting', (evt) => { delays.push(evt.detail.delay) })
    void l.sink(out).catch(() => {})
    void (async () => { for await (const _ of l.source) { /* nothing comes back */ } })().catch(() => {})
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('reconnect client did not connect within 10 s')) }, 10_000)
      l.addEventListener('connected', () => { clearTimeout(timer); resolve() }, { once: true })
    })
  },
  /** The backoff delays drawn since the last call (ms). */
  async 'rc.delays' (): Promise<number[]> {
    return delays.splice(0, delays.length)
  },
  async 'rc.stop' (): Promise<{ reconnects: number, attempts: number }> {
    const s = link?.stats()
    out?.end()
    await link?.close()
    link = undefined
    return { reconnects: s?.reconnects ?? 0, attempts: s?.attempts ?? 0 }
  }
}
