/**
 * Client side of the Redis-store benchmark: throughput rounds in both directions, a paced fleet of
 * sessions (the sizing load), a session moved between nodes (resume time), and a session whose node is
 * SIGKILLed (the duplicate window).
 */
import type { Frame } from '@proto/codec'
import type { SessionDuplex } from '@proto/session'
import { sessionClient } from '@proto/session'
import { connect } from '@proto/transport'
import type { SendInit } from '../baseline/net.js'
import type { RunResult } from '../lib/net-util.js'
import { HOST, seconds } from '../lib/net-util.js'
import { END } from '../lib/producers.js'
import type { Pushable } from '../lib/pushable.js'
import { pushable } from '../lib/pushable.js'
import { connectedSession, sendSession, sendThrough } from '../session/variants.js'
import { DOWN, ECHO } from './node.js'

/** A session client that dials wherever `target.port` points, and its writer. */
function client (target: { port: number }): { session: SessionDuplex, out: Pushable<Frame> } {
  const session = sessionClient(async ({ signal }) => await connect({ host: HOST, port: target.port }, { signal }), { initialDelay: 5, maxDelay: 50 })
  const out = pushable<Frame>()
  session.sink(out).catch(() => {}) // ends with the session
  return { session, out }
}

async function once (session: SessionDuplex, event: 'connected' | 'resumed', ms = 15_000): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`expected the session to be ${event} within ${ms} ms, but it was not`)) }, ms)
    session.addEventListener(event, () => { clearTimeout(timer); resolve() }, { once: true })
  })
}

const seqBody = (n: number, size: number): Uint8Array => {
  const b = new Uint8Array(Math.max(4, size))
  new DataView(b.buffer).setUint32(0, n)
  return b
}
const seqOf = (f: Frame): number => new DataView(f.body.buffer, f.body.byteOffset, f.body.byteLength).getUint32(0)

interface Paced { clients: Array<ReturnType<typeof client>>, timer: NodeJS.Timeout | undefined, sent: number, echoed: number }
let paced: Paced | undefined

interface Mover { target: { port: number }, c: ReturnType<typeof client>, timer: NodeJS.Timeout, next: number, echoed: number, onEcho: (() => void) | undefined }
let mover: Mover | undefined
let killed: Promise<number> | undefined

function startMover (port: number, every: number, size: number): Mover {
  const target = { port }
  const c = client(target)
  const m: Mover = { target, c, next: 1, echoed: 0, onEcho: undefined, timer: setInterval(() => { c.out.push({ type: ECHO, body: seqBody(m.next++, size) }) }, every) }
  void (async () => {
    for await (const f of c.session.source) {
      m.echoed = Math.max(m.echoed, seqOf(f))
      m.onEcho?.()
    }
  })().catch(() => {})
  return m
}

async function stopMover (): Promise<{ possibleDuplicates: number, sessionsLost: number, resumes: number }> {
  const m = mover as Mover
  mover = undefined
  clearInterval(m.timer)
  const s = m.c.session.stats()
  m.c.session.abort(new Error('the probe is over'))
  return { possibleDuplicates: s.possibleDuplicates, sessionsLost: s.sessionsLost, resumes: s.resumes }
}

export const clientHandlers = {
  /** One round into the server; `windowBytes`: the client's replay window in bytes (default the client's, 16 MiB), with as many items. */
  async up ({ windowBytes, ...init }: SendInit & { windowBytes?: number }): Promise<RunResult> {
    if (windowBytes === undefined) return await sendSession(init)
    return await sendThrough(await connectedSession(init.port, { window: { maxBytes: windowBytes, maxMessages: Math.ceil(windowBytes / init.size) } }), init)
  },

  async down ({ port, size, maxMs }: { port: number, size: number, maxMs: number }): Promise<RunResult> {
    const { session, out } = client({ port })
    try {
      await once(session, 'connected')
      const t0 = seconds()
      out.push({ type: DOWN, body: new TextEncoder().encode(JSON.stringify({ size, maxMs })) })
      let count = 0
      let bytes = 0
      for await (const f of session.source) {
        if (f.type === END) break
        count++
        bytes += f.body.byteLength
      }
      return { count, bytes, seconds: seconds() - t0 }
    } finally {
      out.end()
      await session.close()
    }
  },

  /** `sessions` clients on `port`, each sending a `size`-byte ECHO every `every` ms. */
  async 'paced.start' ({ port, sessions, every, size }: { port: number, sessions: number, every: number, size: number }): Promise<void> {
    const p: Paced = { clients: [], timer: undefined, sent: 0, echoed: 0 }
    paced = p
    for (let i = 0; i < sessions; i++) {
      const c = client({ port })
      p.clients.push(c)
      void (async () => { for await (const _ of c.session.source) p.echoed++ })().catch(() => {})
    }
    await Promise.all(p.clients.map(async (c) => { await once(c.session, 'connected', 60_000) }))
    const body = new Uint8Array(size).fill(0x63)
    let turn = 0
    // every session sends once per `every` ms, spread over it in 10 slices
    p.timer = setInterval(() => {
      const slice = turn++ % 10
      for (let i = slice; i < p.clients.length; i += 10) { p.clients[i].out.push({ type: ECHO, body }); p.sent++ }
    }, every / 10)
  },
  'paced.counts' (): { sent: number, echoed: number } { return { sent: paced?.sent ?? 0, echoed: paced?.echoed ?? 0 } },
  'paced.quiet' (): void { clearInterval(paced?.timer) },
  async 'paced.close' (): Promise<void> {
    const p = paced
    paced = undefined
    if (p === undefined) return
    clearInterval(p.timer)
    for (const c of p.clients) c.out.end()
    await Promise.all(p.clients.map(async (c) => { await c.session.close({ signal: AbortSignal.timeout(5_000) }).catch(() => {}) }))
  },

  /** One session on `port`, sending a 32-byte ECHO every 5 ms. */
  async 'mv.start' ({ port }: { port: number }): Promise<void> {
    mover = startMover(port, 5, 32)
    await once(mover.c.session, 'connected')
  },
  /** Cuts the connection and resumes on `port`: ms to the resumed session, and to the echo of an item written after the cut. */
  async 'mv.move' ({ port }: { port: number }): Promise<{ resumed: number, echoed: number }> {
    const m = mover as Mover
    const t0 = performance.now()
    const after = m.next
    const resumed = once(m.c.session, 'resumed').then(() => performance.now() - t0)
    const echoed = new Promise<number>((resolve) => { m.onEcho = () => { if (m.echoed >= after) { m.onEcho = undefined; resolve(performance.now() - t0) } } })
    m.target.port = port
    m.c.session.reconnect()
    return { resumed: await resumed, echoed: await echoed }
  },
  'mv.stop': stopMover,

  /** One session on `port` sending a 1 KiB ECHO about every ms (two per 2 ms tick). */
  async 'kill.start' ({ port }: { port: number }): Promise<void> {
    mover = startMover(port, 2, 1024)
    const m = mover
    clearInterval(m.timer)
    m.timer = setInterval(() => { for (let i = 0; i < 2; i++) m.c.out.push({ type: ECHO, body: seqBody(m.next++, 1024) }) }, 2)
    await once(m.c.session, 'connected')
  },
  /** Points the client at `port` (the orchestrator kills its node next) and starts the clock. */
  'kill.target' ({ port }: { port: number }): void {
    const m = mover as Mover
    const t0 = performance.now()
    killed = once(m.c.session, 'resumed', 20_000).then(() => performance.now() - t0)
    killed.catch(() => {})
    m.target.port = port
  },
  /** Waits for the session to resume on the new node: ms since `kill.target`, items sent, the client's counters. */
  async 'kill.wait' (): Promise<{ resumed: number, sent: number, possibleDuplicates: number, sessionsLost: number }> {
    const m = mover as Mover
    const ms = await (killed as Promise<number>)
    const sent = m.next - 1
    const s = await stopMover()
    return { resumed: ms, sent, possibleDuplicates: s.possibleDuplicates, sessionsLost: s.sessionsLost }
  }
}
