/**
 * The session variant of the throughput run, beside the suite's full stack (`proto`): the same sender
 * (frames from an async generator into the durable sink, an END frame, the tally read back) and the same
 * receiver application (count DATA frames, answer END with the tally), with `sessionClient` and
 * `sessionServer` in place of reconnect over heartbeat and codec and of heartbeat and codec.
 */
import type { SessionDuplex } from '@proto/session'
import { sessionClient, sessionServer } from '@proto/session'
import { connect, listen } from '@proto/transport'
import type { SendInit } from '../baseline/net.js'
import { echoRounds } from '../lib/echo-rounds.js'
import type { Listening } from '../lib/listening.js'
import type { RunResult } from '../lib/net-util.js'
import { decodeTally, HOST, seconds } from '../lib/net-util.js'
import { frames } from '../lib/producers.js'
import { tallyServe } from '../lib/tally-serve.js'

/** Counts DATA frames of a session; END is answered with the tally (as the suite's `proto` receiver does). */
async function tallySession (session: SessionDuplex): Promise<void> {
  await tallyServe(session, true)
}

/** A session server whose application is `serve`, under `listen`. */
async function sessionListener (serve: (session: SessionDuplex) => Promise<void>): Promise<Listening> {
  const server = sessionServer()
  server.addEventListener('session', (e) => { void serve(e.detail).catch(() => {}) })
  const tcp = await listen({ host: HOST, port: 0 }, async (conn) => { await server.handle(conn) })
  return {
    port: (tcp.address as { port: number }).port,
    close: async () => {
      await server.close()
      await tcp.close({ deadline: 1_000 })
    }
  }
}

export async function sessionReceiver (): Promise<Listening> {
  return await sessionListener(tallySession)
}

/** Echoes every item of each session back into it. */
export async function sessionEchoReceiver (): Promise<Listening> {
  return await sessionListener(async (session) => { await session.sink(session.source) })
}

/** A session client on `port`, its handshake done. */
export async function connectedSession (port: number, init: Parameters<typeof sessionClient>[1] = {}): Promise<SessionDuplex> {
  const session = sessionClient(async ({ signal }) => await connect({ host: HOST, port }, { signal }), init)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('the session did not connect within 10 s')) }, 10_000)
    session.addEventListener('connected', () => { clearTimeout(timer); resolve() }, { once: true })
  })
  return session
}

/** One throughput round through a session (with `window` items of replay window): the frames in, the tally back. */
export async function sendSession (init: SendInit, window?: number): Promise<RunResult> {
  return await sendThrough(await connectedSession(init.port, window !== undefined ? { window: { maxMessages: window } } : {}), init)
}

/** One throughput round through a connected `session`: the frames in, the tally back; closes the session. */
export async function sendThrough (session: SessionDuplex, init: SendInit): Promise<RunResult> {
  try {
    const payload = new Uint8Array(init.size).fill(0x61)
    const it = session.source[Symbol.asyncIterator]()
    const t0 = seconds()
    const writing = session.sink(frames(payload, init.maxCount, t0 + init.maxMs / 1000))
    const reply = await it.next()
    const elapsed = seconds() - t0
    await writing
    if (reply.done === true) throw new Error('the session ended without a tally')
    return { ...decodeTally(reply.value.body), seconds: elapsed }
  } finally {
    await session.close()
  }
}

/** Sequential round trips of one `size`-byte item through a session; each round trip in µs. */
export async function echoSession (port: number, size: number, count: number, warmup: number): Promise<Float64Array> {
  return await echoRounds(await connectedSession(port), size, count, warmup)
}

export const sessionReceivers: Record<string, () => Promise<Listening>> = {
  session: sessionReceiver,
  'session-echo': sessionEchoReceiver
}

export const sessionSenders: Record<string, { receiver: string, send(init: SendInit): Promise<RunResult> }> = {
  session: { receiver: 'session', send: async init => await sendSession(init) }
}

export const sessionEchoClients: Record<string, { receiver: string, echo(port: number, size: number, count: number, warmup: number): Promise<Float64Array> }> = {
  session: { receiver: 'session-echo', echo: echoSession }
}
