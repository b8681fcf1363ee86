import type { Frame } from '@proto/codec'
import { GoAwayCode } from '@proto/codec'
import type { Clock, Timers } from '@proto/interface'
import { pushable } from '@proto/interface'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { RestoredSession, RestoreResult, SessionDuplex, SessionEnd, SessionServerInit, SessionStore, StoredSession } from '../src/index.js'
import { DEFAULT_INBOUND_BYTES, DEFAULT_INBOUND_MESSAGES, DEFAULT_WINDOW_BYTES, DEFAULT_WINDOW_MESSAGES, SessionFrameType, SessionGoAwayCode, sessionServer } from '../src/index.js'
import type { FakeFrames } from './helpers/fake-frames.js'
import { ackFrame, data, endFrame, fakeFrames, goAwayCode, isAck, isGoAway, isResume, isType, readAck, readResume, resumeFrame } from './helpers/fake-frames.js'

const open: Array<{ abort(err: Error): void }> = []
afterEach(() => {
  for (const o of open.splice(0)) o.abort(new Error('test over'))
  vi.useRealTimers()
})

function setup (init: SessionServerInit = {}): {
  sessions: SessionDuplex[]
  refused: Array<{ reason: string, code: number | undefined }>
  server: ReturnType<typeof sessionServer>
  connect(...first: Frame[]): FakeFrames
} {
  const server = sessionServer(init)
  open.push(server)
  const sessions: SessionDuplex[] = []
  const refused: Array<{ reason: string, code: number | undefined }> = []
  server.addEventListener('session', (e) => { sessions.push(e.detail) })
  server.addEventListener('refused', (e) => { refused.push(e.detail) })
  return {
    server,
    sessions,
    refused,
    connect (...first) {
      const f = fakeFrames()
      void server.handleFrames(f.frames)
      f.send(...first)
      return f
    }
  }
}

/** Opens a session from a fake client; returns its token and connection. */
async function opened (s: ReturnType<typeof setup>, window?: number): Promise<{ f: FakeFrames, token: Uint8Array, session: SessionDuplex }> {
  const f = s.connect(resumeFrame(window !== undefined ? { windowMessages: window } : {}))
  const r = readResume(await f.next(isResume))
  f.send(ackFrame(0)) // as a real client does: the server now knows the session is established
  return { f, token: r.token, session: s.sessions[s.sessions.length - 1] }
}

async function take (session: SessionDuplex, n: number): Promise<number[]> {
  const out: number[] = []
  const it = session.source[Symbol.asyncIterator]()
  while (out.length < n) {
    const r = await it.next()
    if (r.done === true) break
    out.push(r.value.body[0])
  }
  return out
}

describe('what an idle session keeps', () => {
  it('no ACK clock until something is delivered: an idle connection has none; the first delivery makes it and is acknowledged', async () => {
    const s = setup()
    const { f, session } = await opened(s)
    // the session's current connection, as its state knows it (internal)
    const stage = (): { ackClock: unknown } | undefined => (session as unknown as { state: { stage?: { ackClock: unknown } } }).state.stage
    const clockOf = (): unknown => stage()?.ackClock
    expect(stage()).toBeDefined()
    expect(clockOf()).toBeUndefined()
    const got = take(session, 1)
    f.send(data(7))
    expect(await got).toEqual([7])
    expect(readAck(await f.next(g => isAck(g) && readAck(g).position === 1))).toEqual({ position: 1, end: false })
    expect(clockOf()).toBeDefined()
  })
})

describe('what a server queues for its application', () => {
  const turn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

  it('holds at most its inbound limit of a session\'s items, whatever window the client announces; the rest waits in the connection, and all of it arrives', async () => {
    const s = setup({ inbound: { maxMessages: 100 } })
    // a client announcing the largest window the wire allows
    const f = s.connect(resumeFrame({ windowMessages: 0xFFFF_FFFF, windowBytes: 0xFFFF_FFFF }))
    await f.next(isResume)
    f.send(ackFrame(0))
    await expect.poll(() => s.sessions.length).toBe(1)
    // the application does not read: the client keeps sending, ten items at a time
    for (let i = 0; i < 50; i++) {
      f.send(...Array.from({ length: 10 }, (_, k) => data((i * 10 + k + 1) & 0xff)))
      await turn()
    }
    const taken = 500 - f.unread()
    expect(taken).toBeGreaterThanOrEqual(100)
    // it stops once it holds more than the limit (a batch is taken whole), and the link reads one batch ahead
    expect(taken).toBeLessThanOrEqual(100 + 10 + 10)
    // the application reads: everything arrives, in order, and the connection is read again
    expect(await take(s.sessions[0], 500)).toEqual(Array.from({ length: 500 }, (_, i) => (i + 1) & 0xff))
    expect(f.unread()).toBe(0)
  })

  it('by default the limit is 16 384 items and 4 MiB, and it is validated', () => {
    expect(DEFAULT_INBOUND_MESSAGES).toBe(16_384)
    expect(DEFAULT_INBOUND_BYTES).toBe(4 * 1024 * 1024)
    expect(() => sessionServer({ inbound: { maxMessages: 0 } })).toThrow(/inbound\.maxMessages/)
    expect(() => sessionServer({ inbound: { maxBytes: -1 } })).toThrow(/inbound\.maxBytes/)
  })

  it('refuses bad options of the stack it makes per connection at once, not at every connection', () => {
    for (const init of [{ heartbeat: { interval: -1 } }, { heartbeat: { mode: 'keepalive' as const } }, { codec: { maxFrameLength: -1 } }, { clock: {} as unknown as Clock }, { timers: {} as unknown as Timers }] as SessionServerInit[]) {
      expect(() => sessionServer(init), JSON.stringify(init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    }
  })
})

describe('the handshake', () => {
  it('answers a new session with its RESUME: a 128-bit token, a public id, its ttl and window', async () => {
    const s = setup({ ttl: 30_000, window: { maxMessages: 64, maxBytes: 65536 } })
    const f = s.connect(resumeFrame())
    const r = readResume(await f.next(isResume))
    expect(r).toMatchObject({ fresh: false, next: 1, ttl: 30_000, windowMessages: 64, windowBytes: 65536, maxAckDelay: 25 })
    expect(r.token.some(b => b !== 0)).toBe(true)
    expect(s.sessions.length).toBe(1)
    expect(s.sessions[0].id).toBe(Buffer.from(r.id).toString('hex'))
    expect(s.sessions[0].id).toMatch(/^[0-9a-f]{16}$/)
    expect(s.server.stats()).toMatchObject({ sessions: 1, created: 1 })
  })

  it('announces a window of 4096 items and 1 MiB by default', async () => {
    const s = setup()
    const r = readResume(await s.connect(resumeFrame()).next(isResume))
    expect(r).toMatchObject({ windowMessages: DEFAULT_WINDOW_MESSAGES, windowBytes: DEFAULT_WINDOW_BYTES })
    expect(DEFAULT_WINDOW_BYTES).toBe(1024 * 1024)
  })

  it('tokens differ from session to session, and ids are not tokens', async () => {
    const s = setup()
    const tokens = new Set<string>()
    for (let i = 0; i < 20; i++) {
      const r = readResume(await s.connect(resumeFrame()).next(isResume))
      tokens.add(Buffer.from(r.token).toString('hex'))
      expect(Buffer.from(r.token).toString('hex')).not.toContain(Buffer.from(r.id).toString('hex'))
    }
    expect(tokens.size).toBe(20)
  })

  it('refuses a connection whose first frame is not a RESUME, or a malformed one, with GOAWAY PROTOCOL_ERROR', async () => {
    const s = setup()
    for (const first of [data(1), { type: 0x05, body: new Uint8Array(10) }, ackFrame(0)]) {
      const f = s.connect(first)
      expect(goAwayCode(await f.next(isGoAway))).toBe(1)
    }
    expect(s.server.stats().refused.protocol).toBe(3)
    expect(s.sessions.length).toBe(0)
  })

  it('a RESUME that arrives after close() (or abort()) began is refused with GOAWAY SHUTTING_DOWN: no session is made after the server closed', async () => {
    for (const end of ['close', 'abort'] as const) {
      const s = setup()
      const f = s.connect() // HELLO done, its RESUME still on its way
      if (end === 'close') await s.server.close()
      else s.server.abort(new Error('going'))
      f.send(resumeFrame())
      expect(goAwayCode(await f.next(isGoAway))).toBe(GoAwayCode.SHUTTING_DOWN)
      expect(s.sessions.length).toBe(0)
      expect(s.server.stats()).toMatchObject({ sessions: 0, created: 0, refused: { 'shutting-down': 1 } })
    }
  })

  it('refuses a new session\'s RESUME whose resume point is not 1 before making anything: no token, no session, no count', async () => {
    const s = setup()
    const f = s.connect(resumeFrame({ next: 5 }))
    expect(goAwayCode(await f.next(isGoAway))).toBe(1)
    expect(f.written.filter(isResume)).toEqual([])
    expect(s.sessions.length).toBe(0)
    expect(s.server.stats()).toMatchObject({ sessions: 0, created: 0, refused: { protocol: 1 } })
    expect(s.refused).toEqual([{ reason: 'protocol', code: 1, message: expect.stringContaining('resume point 5') }])
  })

  it('refuses a peer that stays silent after HELLO within resumeTimeout', async () => {
    vi.useFakeTimers()
    const s = setup({ resumeTimeout: 1_000 })
    const f = s.connect()
    await vi.advanceTimersByTimeAsync(999)
    expect(f.aborted).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(f.aborted?.name).toBe('SessionProtocolError')
    expect(s.refused).toMatchObject([{ reason: 'timeout' }])
  })

  it('serves a peer without the session flag as a plain connection, or refuses it without a plain listener', async () => {
    const s = setup()
    const refusedPlain = fakeFrames({ flags: 0 })
    void s.server.handleFrames(refusedPlain.frames)
    expect(goAwayCode(await refusedPlain.next(isGoAway))).toBe(5)
    const plain: unknown[] = []
    s.server.addEventListener('plain', (e) => { plain.push(e.detail) })
    const served = fakeFrames({ flags: 0 })
    await s.server.handleFrames(served.frames)
    expect(plain).toEqual([served.frames])
    expect(served.written).toEqual([])
    expect(s.server.stats()).toMatchObject({ plain: 1, refused: { plain: 1 } })
  })

  it('at maxSessions, evicts the session detached the longest (reported, counted), or refuses when all are connected', async () => {
    const s = setup({ maxSessions: 2 })
    const a = await opened(s)
    const b = await opened(s)
    const third = s.connect(resumeFrame())
    expect(goAwayCode(await third.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_LIMIT)
    expect(s.sessions.length).toBe(2)
    const lost = new Promise((resolve) => { b.session.addEventListener('session-lost', (e) => { resolve(e.detail) }, { once: true }) })
    void b.session.sink([data(1)])
    await b.f.next(f => f.type === 0x40)
    for (const x of [b, a]) {
      const gone = new Promise((resolve) => { x.session.addEventListener('disconnected', resolve, { once: true }) })
      x.f.end()
      await gone
    }
    const fourth = s.connect(resumeFrame())
    await fourth.next(isResume)
    expect(await lost).toMatchObject({ reason: 'evicted', unconfirmed: 1 })
    expect(s.server.stats()).toMatchObject({ sessions: 2, evicted: 1, detached: 1 })
    const late = s.connect(resumeFrame({ token: b.token, next: 1 }))
    expect(goAwayCode(await late.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_UNKNOWN)
  })
})

describe('tokens', () => {
  it('a guessed, near-miss or foreign token is refused with SESSION_UNKNOWN and takes over nothing', async () => {
    const s = setup()
    const { f, token, session } = await opened(s)
    const other = setup()
    const foreign = (await opened(other)).token
    const nearMiss = token.slice()
    nearMiss[15] ^= 0x01
    const guessed = new Uint8Array(16).fill(0xab)
    for (const t of [guessed, nearMiss, foreign]) {
      const hostile = s.connect(resumeFrame({ token: t, next: 1 }))
      expect(goAwayCode(await hostile.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_UNKNOWN)
    }
    expect(s.server.stats()).toMatchObject({ refused: { unknown: 3 }, resumed: 0, takeovers: 0 })
    // the rightful connection is untouched and still carries data
    expect(f.aborted).toBeUndefined()
    f.send(data(7))
    expect(await take(session, 1)).toEqual([7])
  })

  it('a resume point outside what the session sent is refused and takes over nothing', async () => {
    const s = setup()
    const { f, token, session } = await opened(s)
    const hostile = s.connect(resumeFrame({ token, next: 5 }))
    expect(goAwayCode(await hostile.next(isGoAway))).toBe(1)
    expect(f.aborted).toBeUndefined()
    f.send(data(3))
    expect(await take(session, 1)).toEqual([3])
  })
})

describe('takeover', () => {
  it('a valid resume fences the old connection at once: nothing it delivers or acknowledges afterwards counts', async () => {
    const s = setup()
    const { f: old, token, session } = await opened(s)
    const writing = session.sink((async function * () { for (let i = 1; i <= 3; i++) yield data(i) })())
    await old.next(f => f.type === 0x40 && f.body[0] === 3)
    old.send(data(1))
    expect(await take(session, 1)).toEqual([1])
    // the client comes back on a new connection, having received nothing of ours, and delivered item 1
    const fresh = s.connect(resumeFrame({ token, next: 1 }))
    const r = readResume(await fresh.next(isResume))
    expect(r.next).toBe(2)
    expect(goAwayCode(await old.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_TAKEN_OVER)
    expect(s.server.stats()).toMatchObject({ resumed: 1, takeovers: 1 })
    // late frames from the old connection: data, an acknowledgement of everything, an END
    old.send(data(2), ackFrame(3), endFrame(2))
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(session.stats().link).toMatchObject({ confirmed: 0, retained: 3 })
    // the new connection replays everything unacknowledged, in order, and carries on
    await fresh.next(f => f.type === 0x40 && f.body[0] === 3)
    expect(fresh.written.filter(f => f.type === 0x40).map(f => f.body[0])).toEqual([1, 2, 3])
    fresh.send(data(2), ackFrame(3))
    expect(await take(session, 1)).toEqual([2])
    await vi.waitFor(() => { expect(session.stats().link).toMatchObject({ confirmed: 3, retained: 0 }) })
    void writing.catch(() => {})
  })
})

describe('protocol errors on an established session\'s connection', () => {
  it('a second RESUME or an ACK beyond what was sent closes that connection (GOAWAY PROTOCOL_ERROR), keeps the session and is counted', async () => {
    const s = setup()
    const { f: first, token } = await opened(s)
    first.send(resumeFrame({ token, next: 1 }))
    expect(goAwayCode(await first.next(isGoAway))).toBe(GoAwayCode.PROTOCOL_ERROR)
    await vi.waitFor(() => { expect(s.server.stats()).toMatchObject({ protocolErrors: 1, sessions: 1 }) })
    const again = s.connect(resumeFrame({ token, next: 1 }))
    expect(readResume(await again.next(isResume)).next).toBe(1) // the session was kept
    again.send(ackFrame(7))
    expect(goAwayCode(await again.next(isGoAway))).toBe(GoAwayCode.PROTOCOL_ERROR)
    await vi.waitFor(() => { expect(s.server.stats()).toMatchObject({ protocolErrors: 2, sessions: 1 }) })
    expect(s.refused).toEqual([]) // the connections were accepted: not refusals
  })
})

describe('takeover of a connection not yet taken into use', () => {
  it('resumes racing while the session is between connections: each but the last is taken over (GOAWAY SESSION_TAKEN_OVER) and counted so', async () => {
    const s = setup()
    const { f: old, token, session } = await opened(s)
    const lost = new Promise((resolve) => { session.addEventListener('disconnected', resolve, { once: true }) })
    old.end() // the connection is lost; the link redials after its backoff, meanwhile resumes wait to be taken
    await lost
    const racing = [0, 1, 2].map(() => s.connect(resumeFrame({ token, next: 1 })))
    const winner = racing[2]
    expect(readResume(await winner.next(isResume)).next).toBe(1)
    for (const loser of racing.slice(0, 2)) {
      expect(goAwayCode(await loser.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_TAKEN_OVER)
      expect(loser.written.some(isResume)).toBe(false)
    }
    expect(s.server.stats()).toMatchObject({ resumed: 3, takeovers: 2 })
    expect(s.refused).toEqual([])
  })
})

describe('expiry', () => {
  it('a disconnected session expires after its ttl: the application learns how many items the client may not have had', async () => {
    vi.useFakeTimers()
    const s = setup({ ttl: 5_000 })
    const { f, token, session } = await opened(s)
    const lost: unknown[] = []
    session.addEventListener('session-lost', (e) => { lost.push(e.detail) })
    const reading = take(session, 1).then(() => undefined, (err: unknown) => err)
    void session.sink([data(1), data(2), data(3)])
    await f.next(g => g.type === 0x40 && g.body[0] === 3)
    f.send(ackFrame(1))
    await vi.advanceTimersByTimeAsync(0)
    f.end() // the connection ends without END: an outage
    await vi.advanceTimersByTimeAsync(4_999)
    expect(s.server.stats()).toMatchObject({ sessions: 1, detached: 1 })
    await vi.advanceTimersByTimeAsync(1)
    expect(lost).toMatchObject([{ reason: 'expired', unconfirmed: 2, action: 'fail' }])
    expect(await reading).toMatchObject({ name: 'SessionLostError', reason: 'expired', unconfirmed: 2 })
    expect(session.stats().link).toMatchObject({ accepted: 3, confirmed: 1, unconfirmed: 2 })
    expect(s.server.stats()).toMatchObject({ sessions: 0, expired: 1 })
    // a client coming back within another ttl learns that it expired (not that it is unknown); later, it is forgotten
    const late = s.connect(resumeFrame({ token, next: 1 }))
    expect(goAwayCode(await late.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_EXPIRED)
    expect(s.server.stats().refused).toMatchObject({ expired: 1, unknown: 0 })
    await vi.advanceTimersByTimeAsync(5_000)
    const later = s.connect(resumeFrame({ token, next: 1 }))
    expect(goAwayCode(await later.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_UNKNOWN)
  })

  it('expiry is checked on lookup too, on the monotonic clock, even when no timer fired', async () => {
    // the clock jumps (a suspended laptop, a stalled loop) while the 60 s expiry timer has not fired
    let now = 0
    const s = setup({ ttl: 60_000, clock: { now: () => now } })
    const { f, token, session } = await opened(s)
    const lost: unknown[] = []
    session.addEventListener('session-lost', (e) => { lost.push(e.detail) })
    const gone = (): Promise<unknown> => new Promise((resolve) => { session.addEventListener('disconnected', resolve, { once: true }) })
    let lostConnection = gone()
    f.end()
    await lostConnection
    now += 59_999
    const attached = new Promise((resolve) => { session.addEventListener('connected', resolve, { once: true }) })
    const early = s.connect(resumeFrame({ token, next: 1 }))
    expect(readResume(await early.next(isResume)).next).toBe(1)
    await attached
    lostConnection = gone()
    early.end()
    await lostConnection
    now += 60_000
    const late = s.connect(resumeFrame({ token, next: 1 }))
    expect(goAwayCode(await late.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_EXPIRED)
    expect(lost).toMatchObject([{ reason: 'expired' }])
    expect(s.server.stats()).toMatchObject({ sessions: 0, expired: 1, refused: { expired: 1 } })
  })
})

describe('a session the application ends before its client heard of it, or while its client is away', () => {
  it.each(['close', 'abort'] as const)('%s() in the `session` event: the connection that opened it is told GOAWAY SESSION_CLOSED, not cut (its client would open session after session)', async (how) => {
    const s = setup()
    s.server.addEventListener('session', ({ detail: session }) => {
      if (how === 'close') void session.close()
      else session.abort(new Error('refused by the application'))
    })
    const f = s.connect(resumeFrame({}))
    expect(goAwayCode(await f.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_CLOSED)
    expect(f.written.filter(isResume)).toEqual([])
    expect(s.server.stats()).toMatchObject({ created: 1, sessions: 0 })
  })

  /** Timers fired by hand only: a session's link never redials by itself (its backoff is a timer too). */
  function handTimers (): { timers: Timers, armed: Array<{ fn: () => void, ms: number, cancelled: boolean }> } {
    const armed: Array<{ fn: () => void, ms: number, cancelled: boolean }> = []
    const timers: Timers = {
      setTimeout (fn, ms) {
        const t = { fn, ms, cancelled: false }
        armed.push(t)
        return { cancel: () => { t.cancelled = true } }
      }
    }
    return { timers, armed }
  }

  it('expired while a connection that resumed it waits to be taken into use: that connection is told GOAWAY SESSION_EXPIRED, not cut', async () => {
    // the session's expiry runs while its link's redial (1 ms) has not
    const { timers, armed } = handTimers()
    const s = setup({ ttl: 60_000, timers })
    const lost: unknown[] = []
    const { f, token, session } = await opened(s)
    session.addEventListener('session-lost', (e) => { lost.push(e.detail) })
    const gone = new Promise((resolve) => { session.addEventListener('disconnected', resolve, { once: true }) })
    f.end()
    await gone
    // the client comes back while the link waits out its backoff: the connection waits to be taken into use
    const back = s.connect(resumeFrame({ token, next: 1 }))
    await vi.waitFor(() => { expect(s.server.stats().resumed).toBe(1) })
    const expiry = armed.find(t => t.ms === 60_000 && !t.cancelled)
    expect(expiry).toBeDefined()
    expiry?.fn()
    expect(goAwayCode(await back.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_EXPIRED)
    expect(back.written.filter(isResume)).toEqual([])
    expect(lost).toMatchObject([{ reason: 'expired' }])
    expect(s.server.stats()).toMatchObject({ sessions: 0, expired: 1 })
  })

  it('moved to another node while a connection that resumed it waits to be taken into use: that connection is told GOAWAY SHUTTING_DOWN, so its client resumes where the session is now', async () => {
    let stored: StoredSession | undefined
    const store: SessionStore = { durable: false, bind: () => {}, opened: (session) => { stored = session }, changed: () => {}, restore: async () => undefined, ended: () => {}, close: async () => {} }
    const s = setup({ store, timers: handTimers().timers })
    const { f, token, session } = await opened(s)
    const moved = new Promise((resolve) => { session.addEventListener('moved', resolve, { once: true }) })
    const gone = new Promise((resolve) => { session.addEventListener('disconnected', resolve, { once: true }) })
    f.end()
    await gone
    // the client comes back while the link waits out its backoff: the connection waits to be taken into use
    const back = s.connect(resumeFrame({ token, next: 1 }))
    await vi.waitFor(() => { expect(s.server.stats().resumed).toBe(1) })
    stored?.handOver()
    await moved
    expect(goAwayCode(await back.next(isGoAway))).toBe(GoAwayCode.SHUTTING_DOWN)
    expect(back.written.filter(isResume)).toEqual([])
  })

  it('closed while its client is away: the client coming back within ttl is told SESSION_CLOSED (not SESSION_UNKNOWN); later, it is forgotten', async () => {
    let now = 0
    const s = setup({ ttl: 60_000, clock: { now: () => now } })
    const { f, token, session } = await opened(s)
    const gone = new Promise((resolve) => { session.addEventListener('disconnected', resolve, { once: true }) })
    f.end()
    await gone
    await session.close()
    const back = s.connect(resumeFrame({ token, next: 1 }))
    expect(goAwayCode(await back.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_CLOSED)
    expect(s.server.stats().refused).toMatchObject({ closed: 1, unknown: 0 })
    now += 60_000
    const later = s.connect(resumeFrame({ token, next: 1 }))
    expect(goAwayCode(await later.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_UNKNOWN)
  })
})

describe('a completed session is remembered for ttl', () => {
  it('a client that resumes it (its END\'s acknowledgement was lost) is told SESSION_CLOSED, not SESSION_UNKNOWN; after ttl it is forgotten', async () => {
    let now = 0
    const s = setup({ ttl: 60_000, clock: { now: () => now } })
    const { f, token, session } = await opened(s)
    const got = take(session, 2)
    void session.sink([]) // the server writes nothing: its END at 0
    f.send(data(1), endFrame(1))
    expect(await got).toEqual([1])
    await f.next(g => isAck(g) && readAck(g).end) // the server acknowledges our END: lost with the connection, say
    f.send(ackFrame(0, true)) // we acknowledge its END: the session is complete
    expect(goAwayCode(await f.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_CLOSED)
    await vi.waitFor(() => { expect(s.server.stats().sessions).toBe(0) })
    const again = s.connect(resumeFrame({ token, next: 1 }))
    expect(goAwayCode(await again.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_CLOSED)
    expect(s.refused).toMatchObject([{ reason: 'completed', code: SessionGoAwayCode.SESSION_CLOSED }])
    expect(s.server.stats()).toMatchObject({ sessions: 0, refused: { completed: 1 } })
    now += 60_001
    const late = s.connect(resumeFrame({ token, next: 1 }))
    expect(goAwayCode(await late.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_UNKNOWN)
  })

  it('with a durable store: the store is told how each session ended, and a RESUME for a session it says completed (on another node) is told SESSION_CLOSED', async () => {
    const ends: Array<[string, SessionEnd]> = []
    const restore = vi.fn(async (): Promise<RestoreResult> => 'completed')
    // persists nothing, and lets the sessions acknowledge everything (as a store that fell back node-local)
    const store: SessionStore = { durable: true, bind: () => {}, opened: (session) => { session.persisted(Infinity) }, changed: () => {}, restore, ended: (session, how) => { ends.push([session.id, how]) }, close: async () => {} }
    const s = setup({ store, ttl: 300 })
    // one completes
    const done = await opened(s)
    const got = take(done.session, 2)
    void done.session.sink([])
    done.f.send(data(1), endFrame(1))
    expect(await got).toEqual([1])
    await done.f.next(g => isAck(g) && readAck(g).end)
    done.f.send(ackFrame(0, true))
    expect(goAwayCode(await done.f.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_CLOSED)
    // one expires, detached for ttl
    const expiring = await opened(s)
    expiring.session.source[Symbol.asyncIterator]().next().catch(() => {})
    expiring.f.end()
    await vi.waitFor(() => { expect(ends).toHaveLength(2) })
    // one is still open when the server closes
    const open = await opened(s)
    open.session.source[Symbol.asyncIterator]().next().catch(() => {})
    s.server.abort(new Error('shutting down'))
    await vi.waitFor(() => { expect(ends).toHaveLength(3) })
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(ends).toEqual([[done.session.id, 'completed'], [expiring.session.id, 'expired'], [open.session.id, 'closed']])

    // a session this node never held, that the store remembers completing: refused as completed, not unknown
    const t = setup({ store })
    const other = t.connect(resumeFrame({ token: new Uint8Array(16).fill(5), next: 3 }))
    expect(goAwayCode(await other.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_CLOSED)
    expect(restore).toHaveBeenCalledTimes(1)
    expect(t.refused).toMatchObject([{ reason: 'completed', code: SessionGoAwayCode.SESSION_CLOSED }])
    expect(t.server.stats()).toMatchObject({ sessions: 0, created: 0, refused: { completed: 1, unknown: 0 } })
  })
})

describe('protocol errors after the handshake', () => {
  const cases: Array<[string, (n: number) => Frame[]]> = [
    ['an ACK above what was sent', () => [ackFrame(5)]],
    ['an END that is not at the last item', () => [data(1), endFrame(3)]],
    ['data after END', () => [endFrame(0), data(1)]],
    ['a second RESUME', () => [resumeFrame()]],
    ['an ACK whose END flag does not match our END', () => [ackFrame(0, true)]]
  ]
  it.each(cases)('%s: GOAWAY PROTOCOL_ERROR, the connection is dropped, the session waits for a resume', async (_name, frames) => {
    const s = setup()
    const { f, session } = await opened(s)
    f.send(...frames(0))
    expect(goAwayCode(await f.next(isGoAway))).toBe(1)
    await vi.waitFor(() => { expect(s.server.stats().detached).toBe(1) })
    expect(session.status).not.toBe('closed')
  })

  it('data past the END a peer sent on an earlier connection: GOAWAY PROTOCOL_ERROR on the resumed one; what came before END is delivered once, nothing after it', async () => {
    const s = setup()
    const { f, token, session } = await opened(s)
    f.send(data(1), data(2), endFrame(2))
    const got: number[] = []
    for await (const frame of session.source) got.push(frame.body[0])
    expect(got).toEqual([1, 2])
    await f.next(x => isAck(x) && readAck(x).end)
    f.end()
    await vi.waitFor(() => { expect(s.server.stats().detached).toBe(1) })
    const resumed = s.connect(resumeFrame({ token, next: 1 }))
    expect(readResume(await resumed.next(isResume)).next).toBe(3)
    // the peer replays nothing (it had its END acknowledged) and writes on as if its direction were open
    resumed.send(ackFrame(0), data(3))
    expect(goAwayCode(await resumed.next(isGoAway))).toBe(1)
    expect(session.stats()).toMatchObject({ delivered: 2, deduplicated: 0 })
  })
})

describe('in real time, with generous bounds', () => {
  it('a disconnected session expires after its ttl', async () => {
    const s = setup({ ttl: 200 })
    const { f, session } = await opened(s)
    const lost = new Promise<number>((resolve) => { session.addEventListener('session-lost', () => { resolve(performance.now()) }, { once: true }) })
    const cut = performance.now()
    f.end()
    const at = await lost
    expect(at - cut).toBeGreaterThanOrEqual(180)
    expect(at - cut).toBeLessThan(5_000)
  })

  it('an ACK follows a delivery within about maxAckDelay', async () => {
    const s = setup({ ack: { delay: 50 } })
    const { f, session } = await opened(s)
    const it = session.source[Symbol.asyncIterator]()
    f.send(data(1))
    await it.next()
    await f.next(isAck) // the first after the handshake goes at once
    const acks = f.written.filter(isAck).length
    f.send(data(2))
    await it.next()
    const delivered = performance.now()
    await f.next(isAck, f.written.length)
    const waited = performance.now() - delivered
    expect(f.written.filter(isAck).length).toBe(acks + 1)
    expect(waited).toBeGreaterThanOrEqual(40)
    expect(waited).toBeLessThan(2_000)
  })
})

describe('acknowledgement cadence (fake timers)', () => {
  it('first delivery after a resume soon, then after the delay, or soon past the threshold or on a duplicate', async () => {
    vi.useFakeTimers()
    const s = setup({ ack: { delay: 25, frames: 4 } })
    const { f, session } = await opened(s)
    const it = session.source[Symbol.asyncIterator]()
    const acks = (): number[] => f.written.filter(isAck).map(a => readAck(a).position)
    f.send(data(1))
    await it.next()
    // what the application does right after its read (here: nothing) comes before the ACK: a process
    // killed in between has not acknowledged an item its application never saw
    expect(acks()).toEqual([])
    await vi.advanceTimersByTimeAsync(0)
    expect(acks()).toEqual([1])
    f.send(data(2))
    await it.next()
    await vi.advanceTimersByTimeAsync(24)
    expect(acks()).toEqual([1])
    await vi.advanceTimersByTimeAsync(1)
    expect(acks()).toEqual([1, 2])
    f.send(data(3), data(4), data(5), data(6))
    for (let i = 0; i < 4; i++) await it.next()
    expect(acks()).toEqual([1, 2])
    await vi.advanceTimersByTimeAsync(0)
    expect(acks()).toEqual([1, 2, 6])
    // idle: no ACK and no timer
    await vi.advanceTimersByTimeAsync(1_000)
    expect(acks()).toEqual([1, 2, 6])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('acknowledges at least every quarter of the peer\'s window', async () => {
    vi.useFakeTimers()
    const s = setup()
    const { f, session } = await opened(s, 8)
    const it = session.source[Symbol.asyncIterator]()
    f.send(...Array.from({ length: 9 }, (_, i) => data(i + 1)))
    // an application that reads one item per turn of the event loop (a read that waits for the socket)
    for (let i = 0; i < 9; i++) {
      await it.next()
      await vi.advanceTimersByTimeAsync(0)
    }
    expect(f.written.filter(isAck).map(a => readAck(a).position)).toEqual([1, 3, 5, 7, 9])
  })

  it('what an application reads within one turn of the event loop is acknowledged once, after it', async () => {
    vi.useFakeTimers()
    const s = setup()
    const { f, session } = await opened(s, 8)
    const it = session.source[Symbol.asyncIterator]()
    f.send(...Array.from({ length: 9 }, (_, i) => data(i + 1)))
    for (let i = 0; i < 9; i++) await it.next()
    expect(f.written.filter(isAck)).toEqual([])
    await vi.advanceTimersByTimeAsync(0)
    expect(f.written.filter(isAck).map(a => readAck(a).position)).toEqual([9])
  })
})

describe('acknowledgement cadence by the peer\'s window (fake timers)', () => {
  const big = (n: number): Frame => ({ type: 0x40, body: new Uint8Array(64 * 1024).fill(n) })
  async function acksFor (windowBytes: number, init: SessionServerInit = {}): Promise<number[]> {
    vi.useFakeTimers()
    const s = setup(init)
    const f = s.connect(resumeFrame({ windowBytes }))
    await f.next(isResume)
    f.send(ackFrame(0))
    await vi.waitFor(() => { expect(s.sessions).toHaveLength(1) })
    const it = s.sessions[0].source[Symbol.asyncIterator]()
    f.send(...Array.from({ length: 8 }, (_, i) => big(i + 1)))
    for (let i = 0; i < 8; i++) {
      await it.next()
      await vi.advanceTimersByTimeAsync(0)
    }
    return f.written.filter(isAck).map(a => readAck(a).position)
  }

  it('by default after a sixteenth of the peer\'s window in bytes: 256 KiB for a client\'s 4 MiB, 64 KiB for 1 MiB', async () => {
    // the first delivery at once, then every four 64 KiB items against a 4 MiB window, every item against 1 MiB
    expect(await acksFor(4 * 1024 * 1024)).toEqual([1, 5])
    expect(await acksFor(1024 * 1024)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
  })

  it('ack.bytes, when given, is used as it is (within a quarter of the peer\'s window)', async () => {
    expect(await acksFor(4 * 1024 * 1024, { ack: { bytes: 64 * 1024 } })).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(await acksFor(512 * 1024, { ack: { bytes: 1024 * 1024 } })).toEqual([1, 3, 5, 7])
  })
})

describe('a durable store', () => {
  const token = new Uint8Array(16).fill(9)
  const idBytes = Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1)
  /** A store holding one session its node died with: items 1–2 acknowledged, 3–4 persisted and sent, not acknowledged. */
  function deadNodeStore (): SessionStore {
    const restore = async (digest: Uint8Array): Promise<RestoredSession> => ({ id: '0807060504030201', idBytes, digest, outAcked: 2, outSent: 4, received: 0, endAt: undefined, endAcked: false, peerEndAt: undefined, inEnded: false, journal: [data(3), data(4)], attributes: {}, origin: 'recovered' })
    return { durable: true, bind: () => {}, opened: () => {}, changed: () => {}, restore, ended: () => {}, close: async () => {} }
  }

  it('`written` of a recovered session: what the store kept, or what its client had when that is more; the application carries on from there', async () => {
    const s = setup({ store: deadNodeStore() })
    // the client had only item 3: the journal's 4 is replayed, the application writes item 5 next
    const behind = s.connect(resumeFrame({ token, id: idBytes, next: 4 }))
    await vi.waitFor(() => { expect(s.sessions).toHaveLength(1) })
    expect(s.sessions[0]).toMatchObject({ origin: 'recovered', written: 4 })
    expect((await behind.next(isType(0x40))).body[0]).toBe(4)

    const t = setup({ store: deadNodeStore() })
    // the dead node sent items 5–6 before it persisted them: the client has them, the application writes item 7 next
    t.connect(resumeFrame({ token, id: idBytes, next: 7 }))
    await vi.waitFor(() => { expect(t.sessions).toHaveLength(1) })
    const session = t.sessions[0]
    expect(session.written).toBe(6)
    void session.sink([data(7), data(8)])
    await vi.waitFor(() => { expect(session.written).toBe(8) })
  })

  it('a recovered copy without the END its client acknowledged (its node ended the writing node-local, then died): a counted loss, GOAWAY SESSION_UNKNOWN, not a protocol error', async () => {
    const s = setup({ store: deadNodeStore() })
    const lost: unknown[] = []
    s.server.addEventListener('session', (e) => { e.detail.addEventListener('session-lost', (l) => { lost.push(l.detail) }) })
    // the client has items 3–4 and the dead node's END at 4, and acknowledges both at once
    const f = s.connect(resumeFrame({ token, id: idBytes, next: 5 }))
    await f.next(isResume)
    f.send(ackFrame(4, true))
    expect(goAwayCode(await f.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_UNKNOWN)
    await vi.waitFor(() => { expect(lost).toMatchObject([{ reason: 'unknown' }]) })
  })

  it('`written` counts the items the application wrote, with a durable store and without', async () => {
    const store: SessionStore = { durable: true, bind: () => {}, opened: () => {}, changed: () => {}, restore: async () => undefined, ended: () => {}, close: async () => {} }
    for (const init of [{ store }, {}]) {
      const s = setup(init)
      const { session } = await opened(s)
      expect(session).toMatchObject({ origin: 'new', written: 0 })
      void session.sink([data(1), data(2), data(3)])
      await vi.waitFor(() => { expect(session.written).toBe(3) })
    }
  })

  it('a frame the sink refuses is not written: `written` and the store\'s journal hold only what is numbered, from a batch too', async () => {
    let held: StoredSession | undefined
    const store: SessionStore = { durable: true, bind: () => {}, opened: (session) => { held = session; session.persisted(Infinity) }, changed: () => {}, restore: async () => undefined, ended: () => {}, close: async () => {} }
    const control = { type: 0x06, body: new Uint8Array(2) }
    for (const init of [{ store }, {}]) {
      held = undefined
      const s = setup(init)
      const { f, session } = await opened(s)
      // one batch: two items, one the session cannot number, one more after it
      const batch = pushable<Frame>()
      for (const frame of [data(1), data(2), control, data(3)]) batch.push(frame)
      batch.end()
      await expect(session.sink(batch)).rejects.toMatchObject({ name: 'InvalidParametersError' })
      await vi.waitFor(() => { expect(f.written.filter(isType(0x40)).map(g => g.body[0])).toEqual([1, 2]) })
      expect(session.written).toBe(2)
      expect(session.stats().link).toMatchObject({ accepted: 4, rejected: 2 })
      // a store's copy holds what travels: positions 1 and 2, nothing refused in it
      const copy = (held as StoredSession | undefined)?.snapshot()
      expect(copy === undefined).toBe(init.store === undefined)
      if (copy !== undefined) expect(copy.journal.map(g => g.body[0])).toEqual([1, 2])
    }
  })

  it('with a durable store, sink() refuses what is not a source and a second source, typed', async () => {
    const store: SessionStore = { durable: true, bind: () => {}, opened: () => {}, changed: () => {}, restore: async () => undefined, ended: () => {}, close: async () => {} }
    const s = setup({ store })
    const { session } = await opened(s)
    for (const bad of [null, 5, 'abc']) await expect(session.sink(bad as never)).rejects.toMatchObject({ name: 'InvalidParametersError' })
    void session.sink([data(1)])
    await expect(session.sink([data(2)])).rejects.toMatchObject({ name: 'InvalidParametersError' })
    await vi.waitFor(() => { expect(session.written).toBe(1) })
  })

  it('ACKs held for a persist are not repeated: the store is asked to persist, and the ACK goes out once it has', async () => {
    vi.useFakeTimers()
    let held: StoredSession | undefined
    const persistSoon = vi.fn()
    const store: SessionStore = { durable: true, bind: () => {}, opened: (session) => { held = session }, changed: () => {}, persistSoon, restore: async () => undefined, ended: () => {}, close: async () => {} }
    const s = setup({ store, ack: { delay: 25, frames: 4 } })
    const { f, session } = await opened(s)
    const acks = (): number[] => f.written.filter(isAck).map(a => readAck(a).position)
    const it = session.source[Symbol.asyncIterator]()
    f.send(...Array.from({ length: 12 }, (_, i) => data(i + 1)))
    for (let i = 0; i < 12; i++) {
      await it.next()
      await vi.advanceTimersByTimeAsync(0) // one read per turn of the event loop
    }
    await vi.advanceTimersByTimeAsync(100)
    // the first delivery, then every 4: each ACK would carry 0 (nothing persisted); the first says so once
    expect(acks()).toEqual([0])
    expect(persistSoon.mock.calls.length).toBeGreaterThanOrEqual(3)
    held?.persisted(12)
    await vi.advanceTimersByTimeAsync(0)
    expect(acks()).toEqual([0, 12])
  })

  it('our END waits for the store to persist it: a node that dies after its END reached the client leaves the next one a copy with it', async () => {
    let held: StoredSession | undefined
    const persistSoon = vi.fn()
    const store: SessionStore = { durable: true, bind: () => {}, opened: (session) => { held = session }, changed: () => {}, persistSoon, restore: async () => undefined, ended: () => {}, close: async () => {} }
    const s = setup({ store })
    const { f, session } = await opened(s)
    const stored = held as unknown as StoredSession
    await session.sink([data(1), data(2)])
    await vi.waitFor(() => { expect(f.written.filter(isType(0x40))).toHaveLength(2) })
    await new Promise(resolve => setTimeout(resolve, 20))
    const ends = (): Frame[] => f.written.filter(isType(SessionFrameType.END))
    expect(ends()).toEqual([]) // held: the store has not persisted it
    expect(stored.snapshot().endAt).toBe(2)
    expect(persistSoon).toHaveBeenCalled()
    stored.persisted(0, { ...stored.snapshot(), endAt: undefined }) // a persist of an earlier snapshot, without our END: still held
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(ends()).toEqual([])
    stored.persisted(0, stored.snapshot())
    await vi.waitFor(() => { expect(ends()).toHaveLength(1) })
  })

  it('the client\'s END is acknowledged only once the store persisted its delivery: a node that dies after that ACK leaves the next one a copy with it', async () => {
    let held: StoredSession | undefined
    const persistSoon = vi.fn()
    const store: SessionStore = { durable: true, bind: () => {}, opened: (session) => { held = session }, changed: () => {}, persistSoon, restore: async () => undefined, ended: () => {}, close: async () => {} }
    const s = setup({ store, ack: { delay: 1, frames: 1 } })
    const { f, session } = await opened(s)
    const stored = held as unknown as StoredSession
    f.send(data(1), data(2), endFrame(2))
    const got: number[] = []
    for await (const item of session.source) got.push(item.body[0])
    expect(got).toEqual([1, 2])
    const acks = (): Array<{ position: number, end: boolean }> => f.written.filter(isAck).map(readAck)
    stored.persisted(2, { ...stored.snapshot(), inEnded: false }) // the items are persisted, their END's delivery not yet
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(acks().at(-1)).toEqual({ position: 2, end: false })
    expect(persistSoon).toHaveBeenCalled()
    stored.persisted(2, stored.snapshot())
    await vi.waitFor(() => { expect(acks().at(-1)).toEqual({ position: 2, end: true }) })
  })

  it('two RESUMEs racing to restore the same session from the store: it is restored once, the application hears of it once', async () => {
    const token = new Uint8Array(16).fill(7)
    const idBytes = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)
    let release = (): void => {}
    const gate = new Promise<void>((resolve) => { release = resolve })
    const restores = vi.fn(async (digest: Uint8Array): Promise<RestoredSession> => {
      await gate
      return { id: '0102030405060708', idBytes, digest, outAcked: 0, outSent: 0, received: 0, endAt: undefined, endAcked: false, peerEndAt: undefined, inEnded: false, journal: [], attributes: {}, origin: 'handover' }
    })
    const store: SessionStore = { durable: true, bind: () => {}, opened: () => {}, changed: () => {}, restore: restores, ended: () => {}, close: async () => {} }
    const s = setup({ store })
    const first = s.connect(resumeFrame({ token, id: idBytes }))
    const second = s.connect(resumeFrame({ token, id: idBytes }))
    await vi.waitFor(() => { expect(restores).toHaveBeenCalledTimes(1) })
    release()
    await vi.waitFor(() => { expect(s.server.stats().resumed).toBe(2) }) // both RESUMEs were taken
    expect(restores).toHaveBeenCalledTimes(1)
    expect(s.sessions).toHaveLength(1)
    expect(s.server.stats()).toMatchObject({ sessions: 1, restored: { handover: 1, recovered: 0 } })
    expect(first.written.some(isResume)).toBe(true) // the first was served; the second takes it over
    expect(second.aborted).toBeUndefined()
  })

  describe('a session taken from the store and not (yet) served here', () => {
    const token = new Uint8Array(16).fill(3)
    const idBytes = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)
    function gatedStore (): { store: SessionStore, restores: ReturnType<typeof vi.fn>, release(): void } {
      let release = (): void => {}
      const gate = new Promise<void>((resolve) => { release = resolve })
      const restores = vi.fn(async (digest: Uint8Array): Promise<RestoredSession> => {
        await gate
        return { id: '0102030405060708', idBytes, digest, outAcked: 0, outSent: 2, received: 0, endAt: undefined, endAcked: false, peerEndAt: undefined, inEnded: false, journal: [data(1), data(2)], attributes: {}, origin: 'handover' }
      })
      return { store: { durable: true, bind: () => {}, opened: () => {}, changed: () => {}, restore: restores, ended: () => {}, close: async () => {} }, restores, release }
    }

    it('a RESUME at an impossible position after the restore: refused, the session kept as detached (expiring after ttl), announced with the first connection it takes, not counted a takeover', async () => {
      const g = gatedStore()
      g.release()
      const s = setup({ store: g.store })
      const bad = s.connect(resumeFrame({ token, id: idBytes, next: 100 }))
      expect(goAwayCode(await bad.next(isGoAway))).toBe(GoAwayCode.PROTOCOL_ERROR)
      expect(s.server.stats()).toMatchObject({ sessions: 1, detached: 1 })
      expect(s.sessions).toHaveLength(0)
      const good = s.connect(resumeFrame({ token, id: idBytes, next: 1 }))
      expect((await good.next(isType(0x40))).body[0]).toBe(1)
      await vi.waitFor(() => { expect(s.sessions).toHaveLength(1) })
      expect(s.server.stats()).toMatchObject({ resumed: 1, takeovers: 0 })
    })

    it('a restored session no connection takes expires after ttl', async () => {
      vi.useFakeTimers()
      const g = gatedStore()
      g.release()
      const s = setup({ store: g.store, ttl: 5_000 })
      const bad = s.connect(resumeFrame({ token, id: idBytes, next: 100 }))
      await vi.waitFor(() => { expect(bad.written.some(isGoAway)).toBe(true) })
      expect(s.server.stats()).toMatchObject({ sessions: 1, detached: 1 })
      await vi.advanceTimersByTimeAsync(5_000)
      expect(s.server.stats()).toMatchObject({ sessions: 0, expired: 1 })
    })

    it('a copy that expired here while another node held the session (this one was paused, or cut off from the store): the store is asked before the RESUME is refused as expired', async () => {
      vi.useFakeTimers()
      const g = gatedStore()
      g.release()
      const s = setup({ store: g.store, ttl: 5_000 })
      const bad = s.connect(resumeFrame({ token, id: idBytes, next: 100 })) // restores it, and leaves it detached
      await vi.waitFor(() => { expect(bad.written.some(isGoAway)).toBe(true) })
      await vi.advanceTimersByTimeAsync(5_000)
      expect(s.server.stats()).toMatchObject({ sessions: 0, expired: 1 })
      // the store holds the session (another node took it): it is taken from there, not refused
      const back = s.connect(resumeFrame({ token, id: idBytes, next: 1 }))
      expect((await back.next(isType(0x40))).body[0]).toBe(1)
      expect(g.restores).toHaveBeenCalledTimes(2)
      expect(s.server.stats().refused).toMatchObject({ expired: 0 })
      // a store that does not know it: the client learns that it expired here, not that it is unknown
      g.restores.mockImplementation(async () => undefined)
      const other = new Uint8Array(16).fill(4)
      const s2 = setup({ store: g.store, ttl: 5_000 })
      const { f, token: own } = await opened(s2)
      f.end()
      await vi.advanceTimersByTimeAsync(5_000)
      const late = s2.connect(resumeFrame({ token: own, next: 1 }))
      expect(goAwayCode(await late.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_EXPIRED)
      const unknown = s2.connect(resumeFrame({ token: other, next: 1 }))
      expect(goAwayCode(await unknown.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_UNKNOWN)
    })

    it('a full server whose sessions are all detached evicts one only once the store gave it a session: a store that cannot be asked evicts nothing', async () => {
      const s = setup({ store: { durable: true, bind: () => {}, opened: () => {}, changed: () => {}, restore: async () => { throw new Error('Redis away') }, ended: () => {}, close: async () => {} }, maxSessions: 1 })
      const { f } = await opened(s)
      f.end() // its connection is lost: detached
      await vi.waitFor(() => { expect(s.server.stats().detached).toBe(1) })
      const other = s.connect(resumeFrame({ token, id: idBytes, next: 1 }))
      expect(goAwayCode(await other.next(isGoAway))).toBe(GoAwayCode.SHUTTING_DOWN) // refused as `store`, retryable
      expect(s.server.stats()).toMatchObject({ sessions: 1, detached: 1, evicted: 0, refused: { store: 1 } })
    })

    it('a full server refuses before asking the store (taking a session from its node to drop it would lose it there)', async () => {
      const g = gatedStore()
      const s = setup({ store: g.store, maxSessions: 1 })
      await opened(s) // the one place, connected
      const f = s.connect(resumeFrame({ token, id: idBytes, next: 1 }))
      expect(goAwayCode(await f.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_LIMIT)
      expect(g.restores).not.toHaveBeenCalled()
    })

    it('a store slower than resumeTimeout: the connection is refused as timed out, and the session it restores later is not attached to it (nor counted resumed)', async () => {
      const g = gatedStore()
      const s = setup({ store: g.store, resumeTimeout: 50 })
      const f = s.connect(resumeFrame({ token, id: idBytes, next: 1 }))
      await vi.waitFor(() => { expect(s.refused).toMatchObject([{ reason: 'timeout' }]) })
      g.release()
      await vi.waitFor(() => { expect(s.server.stats()).toMatchObject({ sessions: 1, detached: 1 }) })
      await new Promise(resolve => setTimeout(resolve, 20))
      expect(s.server.stats()).toMatchObject({ resumed: 0, takeovers: 0 })
      expect(f.written.some(isResume)).toBe(false)
    })

    it('close() while the store answers: the client is told SHUTTING_DOWN (retryable), not that the session is unknown', async () => {
      const g = gatedStore()
      const unused = vi.fn()
      const s = setup({ store: { ...g.store, unused } })
      const f = s.connect(resumeFrame({ token, id: idBytes, next: 1 }))
      await vi.waitFor(() => { expect(g.restores).toHaveBeenCalledTimes(1) })
      const closing = s.server.close()
      g.release()
      expect(goAwayCode(await f.next(isGoAway))).toBe(GoAwayCode.SHUTTING_DOWN)
      expect(s.refused).toMatchObject([{ reason: 'shutting-down' }])
      // the store has the session back as it was, for the next node
      expect(unused).toHaveBeenCalledTimes(1)
      expect(Buffer.from(unused.mock.calls[0][0] as Uint8Array)).toEqual(Buffer.from(g.restores.mock.calls[0][0] as Uint8Array))
      await closing
    })
  })
})
