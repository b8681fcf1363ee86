/**
 * The session variant of the throughput run, beside the suite's full stack (`proto`): the same sender
 * (frames from an async generator into the durable sink, an END frame, the tally read back) and the same
 * receiver application (count DATA frames, answer END with the tally), with `sessionClient` and
 * `sessionServer` in place of reconnect over heartbeat and codec and of heartbeat and codec.
 */
import type { Frame } from '@proto/codec'
import type { SessionDuplex } from '@proto/session'
import { sessionClient, sessionServer } from '@proto/session'
import { connect, listen } from '@proto/transport'
import type { SendInit } from '../baseline/net.js'
import type { RunResult, Tally } from '../lib/net-util.js'
import { decodeTally, encodeTally, HOST, seconds } from '../lib/net-util.js'
import { pushable } from '../lib/pushable.js'
import { END } from '../stack/variants.js'
import type { Listening } from '../variants.js'

const DATA = 0x40

/** Counts DATA frames of a session; END is answered with the tally (as the suite's `proto` receiver does). */
async function tallySession (session: SessionDuplex): Promise<void> {
  const replies = pushable<Frame>()
  const writing = session.sink(replies)
  const tally: Tally = { count: 0, bytes: 0 }
  try {
    for await (const frame of session.source) {
      if (frame.type === END) {
        replies.push({ type: DATA, body: encodeTally(tally) })
        tally.count = 0
        tally.bytes = 0
        continue
      }
      tally.count++
      tally.bytes += frame.body.byteLength
    }
  } finally {
    replies.end()
  }
  await writing.catch(() => {})
}

export async function sessionReceiver (): Promise<Listening> {
  const server = sessionServer()
  server.addEventListener('session', (e) => { void tallySession(e.detail).catch(() => {}) })
  const tcp = await listen({ host: HOST, port: 0 }, async (conn) => { await server.handle(conn) })
  return {
    port: (tcp.address as { port: number }).port,
    close: async () => {
      await server.close()
      await tcp.close({ deadline: 1_000 })
    }
  }
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

async function * frames (payload: Uint8Array, maxCount: number, deadline: number): AsyncGenerator<Frame> {
  for (let n = 0; n < maxCount; n++) {
    if ((n & 1023) === 1023 && seconds() > deadline) break
    yield { type: DATA, body: payload }
  }
  yield { type: END, body: new Uint8Array(0) }
}

/** One throughput round through a session (with `window` items of replay window): the frames in, the tally back. */
export async function sendSession (init: SendInit, window?: number): Promise<RunResult> {
  const session = await connectedSession(init.port, window !== undefined ? { window: { maxMessages: window } } : {})
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
