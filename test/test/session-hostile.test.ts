import { randomBytes } from 'node:crypto'
import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import { heartbeat } from '@proto/heartbeat'
import type { SessionDuplex } from '@proto/session'
import { encodeResume, SESSION_FLAG, SessionFrameType, SessionGoAwayCode, sessionServer } from '@proto/session'
import { resourceSnapshot, waitForResources } from '@proto/stage-compliance'
import type { Connection } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { SessionTestClient, SessionTestServer } from '../src/session/index.js'

/**
 * Good session clients stream while hostile connections, speaking the protocol by hand, try to resume
 * sessions with guessed tokens, tokens issued by another server, a real client's token with one bit
 * flipped, a real token with an impossible resume point, malformed RESUMEs, data before RESUME, or no
 * RESUME at all. Each is refused with the documented GOAWAY and closed; none takes anything over: the
 * good clients never lose a connection, and deliver everything exactly once, in order.
 */

const GOOD = 8
const COUNT = 150

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn()
  cleanup = []
})

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

/** Opens a raw connection (HELLO with the session flag), sends `frames`, returns the GOAWAY code it gets (or `undefined` when closed without one). */
async function hostile (port: number, frames: Frame[]): Promise<number | undefined> {
  const link = heartbeat(codec(await connect({ host: '127.0.0.1', port })), { hello: true, helloFlags: SESSION_FLAG, interval: 1_000, timeout: 5_000 })
  void link.sink((async function * () {
    yield * frames
    await new Promise<void>((resolve) => { setTimeout(resolve, 2_000).unref() })
  })()).catch(() => {})
  // the heartbeat stage reads the server's GOAWAY and reports it as an event; its source then ends
  let code: number | undefined
  link.addEventListener('goaway', ({ detail }) => { code ??= detail.code })
  try {
    for await (const _ of link.source) { /* a refused resume gets no data */ }
  } catch {}
  link.abort(new Error('done'))
  return code
}

function resume (token: Uint8Array, next: number): Frame {
  return { type: SessionFrameType.RESUME, body: encodeResume({ fresh: false, token, id: new Uint8Array(8), next, maxAckDelay: 25, windowMessages: 64, windowBytes: 65536, ttl: 0 }) }
}

describe('sessions: hostile clients take nothing over', () => {
  it('guessed, foreign, near-miss and out-of-range resumes are refused; the good clients never notice', async () => {
    const before = resourceSnapshot()
    const server = await SessionTestServer.start({ heartbeat: { interval: 200, timeout: 1_000 }, count: COUNT, resumeTimeout: 500, before: async () => { await new Promise<void>((resolve) => { setTimeout(resolve, 5).unref() }) } })
    cleanup.push(async () => { await server.stop() })
    const elsewhere = sessionServer()
    cleanup.push(async () => { elsewhere.abort(new Error('test over')) })
    const clients = range(GOOD).map(i => new SessionTestClient({ id: i + 1, port: server.port, count: COUNT, before: async () => { await new Promise<void>((resolve) => { setTimeout(resolve, 5).unref() }) } }))
    for (const c of clients) cleanup.push(async () => { c.session.abort(new Error('test over')) })
    const sending = Promise.all(clients.map(async (c) => { await c.send() }))
    await server.changed.until(() => clients.every(c => server.receivedFrom(c.init.id).length > 10), 'every good client streaming')

    // a real client's token, as a thief with a copy one bit off would have it
    const real = (clients[0].session as unknown as { state: { token: Uint8Array } }).state.token
    const nearMiss = real.slice()
    nearMiss[7] ^= 0x10
    // a token this server never issued: one from another server
    const foreign = new Uint8Array(randomBytes(16))
    const attempts: Array<[string, Promise<number | undefined>, number | undefined]> = [
      ...range(10).map(i => [`guessed ${i}`, hostile(server.port, [resume(new Uint8Array(randomBytes(16)), 1)]), SessionGoAwayCode.SESSION_UNKNOWN] as [string, Promise<number | undefined>, number]),
      ['foreign', hostile(server.port, [resume(foreign, 1)]), SessionGoAwayCode.SESSION_UNKNOWN],
      ['near miss', hostile(server.port, [resume(nearMiss, 1)]), SessionGoAwayCode.SESSION_UNKNOWN],
      ['real token, resume point far beyond what was sent', hostile(server.port, [resume(real, 1_000_000)]), 1],
      ['malformed RESUME', hostile(server.port, [{ type: SessionFrameType.RESUME, body: new Uint8Array(20) }]), 1],
      ['data before RESUME', hostile(server.port, [{ type: 0x40, body: new Uint8Array(8) }]), 1],
      ['ACK before RESUME', hostile(server.port, [{ type: SessionFrameType.ACK, body: new Uint8Array(9) }]), 1],
      ['no RESUME at all', hostile(server.port, []), undefined]
    ]
    const outcomes = await Promise.all(attempts.map(async ([name, p, want]) => [name, await p, want] as const))
    expect(outcomes.map(([name, got]) => `${name}: ${String(got)}`)).toEqual(outcomes.map(([name, , want]) => `${name}: ${String(want)}`))

    await sending
    await Promise.all(clients.map(async (c) => { await c.read() }))
    await Promise.all(clients.map(async (c) => { await c.close() }))
    const stats = server.server.stats()
    expect(stats).toMatchObject({ resumed: 0, takeovers: 0, refused: { unknown: 12, protocol: 4, timeout: 1 } })
    for (const c of clients) {
      const s = c.session.stats()
      expect(c.received).toEqual(range(COUNT))
      expect(server.receivedFrom(c.init.id)).toEqual(range(COUNT))
      expect(s.link).toMatchObject({ reconnects: 0, accepted: COUNT, confirmed: COUNT, unconfirmed: 0 })
      expect(s.sessionsLost).toBe(0)
    }
    await server.changed.until(() => server.sessions.every(s => s.readDone && s.writeDone), 'every session to end')
    await server.stop()
    cleanup = []
    expect(await waitForResources(before, 5_000)).toEqual([])
  }, 60_000)

  it('a client announcing a 4 GiB window and flooding makes the server queue no more than its inbound limit; all of it arrives once the application reads', async () => {
    const LIMIT = 1_000
    const FLOOD = 100_000
    const conns: Connection[] = []
    const sessions: SessionDuplex[] = []
    const server = sessionServer({ inbound: { maxMessages: LIMIT } })
    server.addEventListener('session', (e) => { sessions.push(e.detail) }) // the application does not read yet
    const tcp = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { conns.push(conn); await server.handle(conn) })
    cleanup.push(async () => { server.abort(new Error('test over')); await tcp.close({ deadline: 100 }) })
    const port = (tcp.address as { port: number }).port
    const link = heartbeat(codec(await connect({ host: '127.0.0.1', port })), { hello: true, helloFlags: SESSION_FLAG })
    cleanup.push(async () => { link.abort(new Error('test over')) })
    let produced = 0
    const body = new Uint8Array(64)
    const writing = link.sink((function * () {
      yield { type: SessionFrameType.RESUME, body: encodeResume({ fresh: true, token: new Uint8Array(16), id: new Uint8Array(8), next: 1, maxAckDelay: 25, windowMessages: 0xFFFF_FFFF, windowBytes: 0xFFFF_FFFF, ttl: 0 }) }
      for (let i = 1; i <= FLOOD; i++) {
        produced++
        const b = body.slice()
        new DataView(b.buffer).setUint32(0, i)
        yield { type: 0x40, body: b }
      }
    })())
    writing.catch(() => {})
    void (async () => { try { for await (const _ of link.source) { /* ACKs and the server's RESUME */ } } catch {} })()
    // the server stops reading: what it has read stays put for 300 ms (the client may still be producing
    // into the kernel's buffers, which on loopback can take the whole flood: their size is the system's)
    await expect.poll(() => sessions.length, { timeout: 10_000 }).toBe(1)
    let last = -1
    let still = 0
    for (let i = 0; i < 200 && still < 3; i++) {
      await new Promise(resolve => setTimeout(resolve, 100))
      const now = conns[0].stats().bytesIn
      still = now === last && now > 0 ? still + 1 : 0
      last = now
    }
    expect(still).toBe(3)
    expect(produced).toBeGreaterThan(0)
    // what the server read off the socket: its session's queue (the limit), the heartbeat's (1024 frames),
    // and no more than a 64 KiB read's worth in each place between the socket and the application (the
    // transport's read queue, the decoder, one batch held per layer): a bound that does not grow with the
    // flood (without the limit the server read all of it, 6.9 MB)
    const read = conns[0].stats().bytesIn
    expect(read).toBeLessThan((LIMIT + 1024) * 69 + 8 * 65536)
    // the application reads: every item arrives once, in order, and the flood completes
    let next = 1
    for await (const item of sessions[0].source) {
      expect(new DataView(item.body.buffer, item.body.byteOffset).getUint32(0)).toBe(next)
      if (++next > FLOOD) break
    }
    await writing
    expect(next).toBe(FLOOD + 1)
  }, 60_000)
})
