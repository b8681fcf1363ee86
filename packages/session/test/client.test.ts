import type { Frame } from '@proto/codec'
import type { ByteDuplex } from '@proto/interface'
import { InvalidParametersError, ProtocolVersionError } from '@proto/interface'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { completedConnection } from '../src/completed.js'
import { SessionConnection } from '../src/connection.js'
import type { LostPolicy, SessionClientInit, SessionDuplex, SessionFrames } from '../src/index.js'
import { DEFAULT_CLIENT_WINDOW_BYTES, DEFAULT_CLIENT_WINDOW_MESSAGES, DEFAULT_WINDOW_MESSAGES, MAX_POSITION, sessionClient, SessionGoAwayCode } from '../src/index.js'
import { SessionState } from '../src/state.js'
import type { FakeFrames } from './helpers/fake-frames.js'
import { ackFrame, data, endFrame, fakeFrames, goAwayCode, isAck, isGoAway, isResume, readAck, readResume, resumeFrame } from './helpers/fake-frames.js'

const open: SessionDuplex[] = []
afterEach(() => {
  for (const o of open.splice(0)) o.abort(new Error('test over'))
  vi.useRealTimers()
})

const TOKEN = Uint8Array.from({ length: 16 }, (_, i) => i + 1)
const OTHER_TOKEN = Uint8Array.from({ length: 16 }, (_, i) => 100 + i)
const ID = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)
const goAway = (code: number): Frame => ({ type: 0x04, body: Uint8Array.of(0, code) })

/** A session client whose connections are fakes the test plays the server on. */
function client (init: SessionClientInit = {}, flags?: number): { c: SessionDuplex, conns: FakeFrames[], next(): Promise<FakeFrames> } {
  const conns: FakeFrames[] = []
  const waiters: Array<() => void> = []
  const c = sessionClient(async () => ({}) as unknown as ByteDuplex, {
    initialDelay: 1,
    maxDelay: 2,
    ...init,
    stack: () => {
      const f = fakeFrames(flags === undefined ? {} : { flags })
      conns.push(f)
      for (const w of waiters.splice(0)) w()
      return f.frames
    }
  })
  open.push(c)
  let taken = 0
  return {
    c,
    conns,
    async next () {
      while (conns.length <= taken) await new Promise<void>((resolve) => { waiters.push(resolve) })
      return conns[taken++]
    }
  }
}

/** Plays the server's half of a handshake on `f`: reads the client's RESUME, answers with the session. */
async function accept (f: FakeFrames, token = TOKEN, next = 1): Promise<ReturnType<typeof readResume>> {
  const theirs = readResume(await f.next(isResume))
  f.send(resumeFrame({ token, id: ID, next, ttl: 60_000 }))
  return theirs
}

/** A client that sent items 1–3 and END on its first connection, of which the server acknowledged item 1; its session-lost events. */
async function threeSentOneAcked (init: SessionClientInit): Promise<ReturnType<typeof client> & { first: FakeFrames, lost: unknown[] }> {
  const made = client(init)
  const lost: unknown[] = []
  made.c.addEventListener('session-lost', (e) => { lost.push(e.detail) })
  const first = await made.next()
  await accept(first)
  await made.c.sink([data(1), data(2), data(3)])
  await first.next(f => f.type === 0x07)
  first.send(ackFrame(1))
  await vi.waitFor(() => { expect(made.c.stats().link.confirmed).toBe(1) })
  return { ...made, first, lost }
}

/** Plays the server's end of a client's close on `f`: the client's GOAWAY answered with SESSION_CLOSED, then FIN; the close settles, closed. */
async function closedByServer (c: SessionDuplex, f: FakeFrames, closing: Promise<void>): Promise<void> {
  await f.next(isGoAway)
  f.send(goAway(SessionGoAwayCode.SESSION_CLOSED))
  f.end()
  await closing
  expect(c.status).toBe('closed')
}

const items = (f: FakeFrames): number[] => f.written.filter(w => w.type === 0x40).map(w => w.body[0])

describe('when the session cannot be resumed', () => {
  it.each<[LostPolicy, Record<string, number>, number[]]>([
    ['replay', { confirmed: 2, unconfirmed: 0 }, [3, 4, 5]],
    ['drop', { confirmed: 2, unconfirmed: 3 }, []]
  ])('onLost %s: the exact count is reported, then the items go again into a new session or are given up', async (onLost, ledger, resent) => {
    const { c, next } = client({ onLost })
    const events: unknown[] = []
    c.addEventListener('session-lost', (e) => { events.push(e.detail) })
    const first = await next()
    expect((await accept(first)).fresh).toBe(true)
    const writing = c.sink([data(1), data(2), data(3), data(4), data(5)])
    await first.next(f => f.type === 0x40 && f.body[0] === 5)
    first.send(ackFrame(2))
    await vi.waitFor(() => { expect(c.stats().link.confirmed).toBe(2) })
    first.frames.abort(new Error('cut'))
    const second = await next()
    const resumed = readResume(await second.next(isResume))
    expect(resumed).toMatchObject({ fresh: false, next: 1 })
    expect(Buffer.from(resumed.token)).toEqual(Buffer.from(TOKEN))
    second.send(goAway(SessionGoAwayCode.SESSION_UNKNOWN))
    const third = await next()
    const fresh = readResume(await third.next(isResume))
    expect(fresh.fresh).toBe(true)
    expect(events).toMatchObject([{ type: 'session-lost', reason: 'unknown', unconfirmed: 3, action: onLost }])
    third.send(resumeFrame({ token: OTHER_TOKEN, id: ID, next: 1 }))
    await vi.waitFor(() => { expect(c.status).toBe('connected') })
    await vi.waitFor(() => { expect(items(third)).toEqual(resent) })
    if (resent.length > 0) third.send(ackFrame(resent.length))
    third.send(ackFrame(resent.length, false), endFrame(0))
    const end = await third.next(f => f.type === 0x07)
    third.send(ackFrame(resent.length, true))
    await writing
    void end
    const stats = c.stats()
    expect(stats.link).toMatchObject({ accepted: 5, ...ledger, confirmed: 5 - ledger.unconfirmed })
    expect(stats).toMatchObject({ sessionsLost: 1, resentAfterLoss: onLost === 'replay' ? 3 : 0, droppedAfterLoss: onLost === 'drop' ? 3 : 0 })
  })

  it('onLost fail: source and sink fail with SessionLostError carrying the count; nothing goes again', async () => {
    const { c, next } = client({ onLost: 'fail' })
    const first = await next()
    await accept(first)
    const writing = c.sink([data(1), data(2), data(3)]).then(() => undefined, (err: unknown) => err)
    const reading = (async () => { for await (const _ of c.source) { /* none */ } })().then(() => undefined, (err: unknown) => err)
    await first.next(f => f.type === 0x40 && f.body[0] === 3)
    first.send(ackFrame(1))
    await vi.waitFor(() => { expect(c.stats().link.confirmed).toBe(1) })
    first.frames.abort(new Error('cut'))
    const second = await next()
    await second.next(isResume)
    second.send(goAway(SessionGoAwayCode.SESSION_EXPIRED))
    // the sink had handed everything down; the source fails with the loss, the ledger counts what may be lost
    expect(await writing).toBeUndefined()
    expect(await reading).toMatchObject({ name: 'SessionLostError', reason: 'expired', unconfirmed: 2 })
    expect(c.stats().link).toMatchObject({ accepted: 3, confirmed: 1, unconfirmed: 2 })
  })

  it('GOAWAY SESSION_TAKEN_OVER on the live connection: another connection holds the session now', async () => {
    const { c, next } = client({ onLost: 'fail' })
    const first = await next()
    await accept(first)
    const lost = new Promise((resolve) => { c.addEventListener('session-lost', (e) => { resolve(e.detail) }, { once: true }) })
    first.send(goAway(SessionGoAwayCode.SESSION_TAKEN_OVER))
    expect(await lost).toMatchObject({ reason: 'taken-over', unconfirmed: 0 })
  })
})

describe('the handshake, from the client', () => {
  it('announces its window: 16 384 items and 16 MiB by default (a server\'s default is 4096 and 1 MiB), or what it was given', async () => {
    const { next } = client()
    expect(await accept(await next())).toMatchObject({ windowMessages: DEFAULT_CLIENT_WINDOW_MESSAGES, windowBytes: DEFAULT_CLIENT_WINDOW_BYTES })
    expect(DEFAULT_CLIENT_WINDOW_MESSAGES).toBe(16_384)
    expect(DEFAULT_CLIENT_WINDOW_BYTES).toBe(16 * 1024 * 1024)
    expect(DEFAULT_WINDOW_MESSAGES).toBe(4096)
    const small = client({ window: { maxMessages: 16, maxBytes: 4096 } })
    expect(await accept(await small.next())).toMatchObject({ windowMessages: 16, windowBytes: 4096 })
  })

  it('keeps its default window of unacknowledged items in flight: 16 384 go out before any ACK, then the writer waits', async () => {
    const { c, next } = client()
    const first = await next()
    await accept(first)
    const total = DEFAULT_CLIENT_WINDOW_MESSAGES + 100
    let pulled = 0
    void c.sink((function * () { for (let i = 1; i <= total; i++) { pulled++; yield data(i & 0xff) } })()).catch(() => {})
    await vi.waitFor(() => { expect(c.stats().link.retained).toBe(DEFAULT_CLIENT_WINDOW_MESSAGES) })
    await new Promise(resolve => setTimeout(resolve, 20))
    // the window is full: the rest waits in the buffer, none of it reaches the connection
    expect(c.stats().link).toMatchObject({ retained: DEFAULT_CLIENT_WINDOW_MESSAGES, buffered: 100, dropped: 0 })
    expect(pulled).toBe(total)
    first.send(ackFrame(DEFAULT_CLIENT_WINDOW_MESSAGES))
    await vi.waitFor(() => { expect(c.stats().link).toMatchObject({ confirmed: DEFAULT_CLIENT_WINDOW_MESSAGES, retained: 100, buffered: 0 }) })
  })

  it('a server without the session flag is refused for good: ProtocolVersionError, no redial', async () => {
    const { c, conns } = client({}, 0)
    const reading = (async () => { for await (const _ of c.source) { /* none */ } })().then(() => undefined, (err: unknown) => err)
    expect(await reading).toMatchObject({ name: 'ReconnectFailedError', kind: 'fatal', cause: { name: 'ProtocolVersionError' } })
    expect(conns.length).toBe(1)
    expect(conns[0].written).toEqual([])
  })

  it.each<[string, SessionClientInit]>([
    ['heartbeat interval', { heartbeat: { interval: -1 } }],
    ['heartbeat mode (keep-alive has no HELLO)', { heartbeat: { mode: 'keepalive' } }],
    ['codec option', { codec: { maxFrameLength: -1 } }]
  ])('a bad %s for the stack made per connection is refused at once, before any dial', (_name, init) => {
    const dial = vi.fn(async () => ({}) as unknown as ByteDuplex)
    expect(() => sessionClient(dial, init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(dial).not.toHaveBeenCalled()
  })

  it.each([
    ['null', null],
    ['an object that is no duplex', {}],
    ['a duplex whose sink is no function', { source: (async function * () {})(), sink: 'x' }]
  ])('a dial that resolves with something that is no byte duplex (%s) fails the client for good with InvalidParametersError, after one dial', async (_name, conn) => {
    const dial = vi.fn(async () => conn as unknown as ByteDuplex)
    const c = sessionClient(dial, { initialDelay: 1, maxDelay: 2 })
    open.push(c)
    const reading = (async () => { for await (const _ of c.source) { /* none */ } })().then(() => undefined, (err: unknown) => err)
    expect(await reading).toMatchObject({ name: 'ReconnectFailedError', kind: 'fatal', cause: { name: 'InvalidParametersError' } })
    expect(dial).toHaveBeenCalledTimes(1)
  })

  it.each([
    ['retention', { retention: true }],
    ['peerEnd', { peerEnd: 'error' }],
    ['validate', { validate: () => {} }],
    ['onStatus that is not a function', { onStatus: 'log' }]
  ])('reconnect\'s %s, which the session sets itself, is refused at once rather than silently overridden', (_name, init) => {
    const dial = vi.fn(async () => ({}) as unknown as ByteDuplex)
    expect(() => sessionClient(dial, init as unknown as SessionClientInit)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(dial).not.toHaveBeenCalled()
  })

  it('onStatus is told every status event, before the listeners; one that throws is reported and disturbs nothing', async () => {
    const told: string[] = []
    const thrown: unknown[] = []
    const report = (err: unknown): void => { thrown.push(err) }
    process.on('uncaughtException', report)
    try {
      const { c, next } = client({
        onStatus: (event) => {
          told.push(`onStatus ${event.type}`)
          if (event.type === 'connected') throw new Error('a bad callback')
        }
      })
      for (const type of ['connecting', 'connected', 'disconnected'] as const) c.addEventListener(type, () => { told.push(`listener ${type}`) })
      const first = await next()
      await accept(first)
      await vi.waitFor(() => { expect(c.status).toBe('connected') })
      first.frames.abort(new Error('cut'))
      await vi.waitFor(() => { expect(told).toContain('listener disconnected') })
      expect(told.slice(0, 6)).toEqual(['onStatus connecting', 'listener connecting', 'onStatus connected', 'listener connected', 'onStatus disconnected', 'listener disconnected'])
      await vi.waitFor(() => { expect(thrown).toHaveLength(1) })
      expect(thrown[0]).toMatchObject({ message: 'a bad callback' })
    } finally {
      process.off('uncaughtException', report)
    }
  })

  it('open and resumed are told once the link has taken the connection: status reads connected, and reconnect() from them drops it and resumes', async () => {
    const { c, next } = client()
    const seen: string[] = []
    c.addEventListener('connected', () => { seen.push('connected') })
    c.addEventListener('resumed', () => { seen.push(`resumed while ${c.status}`) })
    c.addEventListener('open', () => {
      seen.push(`open while ${c.status}`)
      c.reconnect() // e.g. an application that moves to another address once it has its session
    }, { once: true })
    const first = await next()
    await accept(first)
    const second = await next()
    expect(first.aborted).toBeDefined()
    const resume = await accept(second)
    expect(resume.token).toEqual(TOKEN)
    await vi.waitFor(() => { expect(seen).toEqual(['open while connected', 'connected', 'resumed while connected', 'connected']) })
    expect(c.stats()).toMatchObject({ resumes: 1, sessionsLost: 0 })
  })

  it('a session opened on a connection the link never takes into use (closed during the handshake) tells no open', async () => {
    const { c, next } = client()
    const seen: string[] = []
    for (const type of ['open', 'resumed', 'connected', 'closed'] as const) c.addEventListener(type, () => { seen.push(type) })
    const first = await next()
    await first.next(isResume)
    const closing = c.close()
    first.send(resumeFrame({ token: TOKEN, id: ID, next: 1, ttl: 60_000 }))
    await closing
    expect(seen).toEqual(['closed'])
  })

  /** A client whose stack throws `thrown` on every connection; the connections it aborted, and its dials. */
  function throwingStack (thrown: Error): { c: SessionDuplex, aborted: Error[], dials: () => number } {
    const aborted: Error[] = []
    let dials = 0
    const c = sessionClient(async () => {
      dials++
      return { source: [], sink: async () => {}, abort: (err: Error) => { aborted.push(err) } } as unknown as ByteDuplex
    }, { initialDelay: 1, maxDelay: 2, stack: () => { throw thrown } })
    open.push(c)
    return { c, aborted, dials: () => dials }
  }

  it('a stack that cannot be made on a dialled connection: that connection is aborted, and the client fails for good without dialling again', async () => {
    const { c, aborted, dials } = throwingStack(new InvalidParametersError('expected a stack that can be made'))
    const reading = (async () => { for await (const _ of c.source) { /* none */ } })().then(() => undefined, (err: unknown) => err)
    expect(await reading).toMatchObject({ name: 'ReconnectFailedError', kind: 'fatal', cause: { name: 'InvalidParametersError' } })
    expect(dials()).toBe(1)
    expect(aborted.map(e => e.name)).toEqual(['InvalidParametersError'])
  })

  it('a server HELLO its heartbeat refused (another version): the ProtocolVersionError ends the client, no redial', async () => {
    let dials = 0
    const refused = new ProtocolVersionError('expected protocol version 1, but the peer speaks 2', { version: 2, supported: 1 })
    const c = sessionClient(async () => { dials++; return ({}) as unknown as ByteDuplex }, {
      initialDelay: 1,
      maxDelay: 2,
      // what a heartbeat with HELLO gives once it refused the peer's: no HELLO, and its failure on the source
      stack: () => ({
        peerHello: Promise.resolve(undefined),
        source: { next: async () => await Promise.reject(refused), [Symbol.asyncIterator] () { return this } },
        sink: async () => {},
        close: async () => {},
        abort: () => {},
        addEventListener: () => {},
        removeEventListener: () => {}
      }) as unknown as SessionFrames
    })
    open.push(c)
    const reading = (async () => { for await (const _ of c.source) { /* none */ } })().then(() => undefined, (err: unknown) => err)
    expect(await reading).toMatchObject({ name: 'ReconnectFailedError', kind: 'fatal', cause: { name: 'ProtocolVersionError' } })
    expect(dials).toBe(1)
  })

  it('a stack that fails otherwise on a dialled connection: that connection is aborted, and the client dials again', async () => {
    const { c, aborted, dials } = throwingStack(new Error('not this time'))
    await vi.waitFor(() => { expect(dials()).toBeGreaterThanOrEqual(3) })
    expect(c.status).not.toBe('failed')
    expect(aborted.length).toBeGreaterThanOrEqual(dials() - 1) // every connection but perhaps the one being made
    expect(aborted.every(e => e.message === 'not this time')).toBe(true)
  })

  it.each<[string, Frame]>([
    ['a RESUME for another session', resumeFrame({ token: OTHER_TOKEN, id: ID, next: 1 })],
    ['a resume point beyond what we sent', resumeFrame({ token: TOKEN, id: ID, next: 2 })],
    ['data before its RESUME', data(1)]
  ])('a server answering with %s breaks the protocol: the client fails for good', async (_name, answer) => {
    const { c, next } = client()
    const first = await next()
    await accept(first)
    first.frames.abort(new Error('cut'))
    const second = await next()
    await second.next(isResume)
    second.send(answer)
    expect(goAwayCode(await second.next(isGoAway))).toBe(1)
    await vi.waitFor(() => { expect(c.status).toBe('failed') })
    expect(c.stats().link.lastError?.name).toBe('SessionProtocolError')
  })

  it('refuses to write control frame types into the session: they cannot be numbered', async () => {
    const { c, next } = client()
    await accept(await next())
    for (const type of [0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x3f]) {
      await expect(c.sink([{ type, body: new Uint8Array(1) }])).rejects.toMatchObject({ name: 'InvalidParametersError' })
    }
    expect(c.stats().link).toMatchObject({ rejected: 7, handed: 0 })
  })

  it('refuses a type that is no byte (above 0xFF, a fraction, NaN): no codec could write it, and every connection would fail on it', async () => {
    const { c, conns, next } = client()
    await accept(await next())
    for (const type of [0x100, 300, 64.5, Number.NaN, Infinity]) {
      await expect(c.sink([data(1), { type, body: new Uint8Array(1) }])).rejects.toMatchObject({ name: 'InvalidParametersError', message: expect.stringContaining('a frame type is one byte') })
    }
    expect(c.stats().link).toMatchObject({ rejected: 5 })
    expect(conns.length).toBe(1)
  })
})

describe('replay', () => {
  it('items read ahead from a lost connection and replayed on the next are delivered once: duplicates are dropped and counted', async () => {
    const { c, next } = client()
    const first = await next()
    await accept(first)
    void c.sink([])
    first.send(...Array.from({ length: 200 }, (_, i) => data(i + 1)))
    const it = c.source[Symbol.asyncIterator]()
    const got: number[] = []
    for (let i = 0; i < 10; i++) got.push((await it.next()).value.body[0])
    // the other 190 are read ahead, not yet handed over: the resume point is 11
    first.frames.abort(new Error('cut'))
    const second = await next()
    const resume = await accept(second)
    expect(resume.next).toBe(11)
    second.send(...Array.from({ length: 190 }, (_, i) => data(i + 11)), endFrame(200))
    for (let r = await it.next(); r.done !== true; r = await it.next()) got.push(r.value.body[0])
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => (i + 1) & 0xff))
    expect(c.stats()).toMatchObject({ delivered: 200, deduplicated: 190 })
    // the duplicates made the client acknowledge at once, and the END is acknowledged too
    await second.next(f => isAck(f) && readAck(f).end)
  })

  it('an ACK that arrives during a replay releases what it covers; positions stay in step afterwards', async () => {
    const { c, next } = client({ window: { maxMessages: 8 } })
    const first = await next()
    await accept(first)
    let writeNine!: () => void
    const nine = new Promise<void>((resolve) => { writeNine = resolve })
    const source = (async function * () {
      for (let i = 1; i <= 8; i++) yield data(i)
      await nine
      yield data(9)
    })()
    void c.sink(source).catch(() => {})
    await first.next(f => f.type === 0x40 && f.body[0] === 8)
    first.frames.abort(new Error('cut'))
    const second = await next()
    await second.next(isResume)
    second.hold() // from now on the replay is handed to the connection but not yet written
    second.send(resumeFrame({ token: TOKEN, id: ID, next: 3 }))
    await vi.waitFor(() => { expect(c.stats().link.replayed).toBe(8) })
    second.send(ackFrame(6))
    await vi.waitFor(() => { expect(c.stats().link).toMatchObject({ confirmed: 6, retained: 2 }) })
    second.release()
    writeNine()
    await second.next(f => f.type === 0x40 && f.body[0] === 9)
    // each item the server lacked went once; the ACK changed nothing about the numbering
    expect(items(second)).toEqual([3, 4, 5, 6, 7, 8, 9])
    second.send(ackFrame(9))
    await vi.waitFor(() => { expect(c.stats().link).toMatchObject({ confirmed: 9, retained: 0 }) })
    expect(c.stats()).toMatchObject({ skipped: 2, resent: 6 })
  })

  it('an ACK that arrives with the RESUME, before the replay is numbered, covering more than the RESUME: what lies between is written all the same', async () => {
    // the server's application took items 3–6, which its old connection had handed up, after its RESUME
    // (next 3) went out: the ACK of 6 comes right behind it. The server numbers what arrives here from 3 on.
    const { c, next } = client({ window: { maxMessages: 8 } })
    const first = await next()
    await accept(first)
    void c.sink((async function * () { for (let i = 1; i <= 8; i++) yield data(i) })()).catch(() => {})
    await first.next(f => f.type === 0x40 && f.body[0] === 8)
    first.frames.abort(new Error('cut'))
    const second = await next()
    await second.next(isResume)
    second.send(resumeFrame({ token: TOKEN, id: ID, next: 3 }), ackFrame(6))
    await second.next(f => f.type === 0x40 && f.body[0] === 8)
    // were 3–6 left out, the server would number 7 as 3: one item lost for good, every later one misnumbered
    expect(items(second)).toEqual([3, 4, 5, 6, 7, 8])
    await vi.waitFor(() => { expect(c.stats().link).toMatchObject({ confirmed: 6, retained: 2 }) })
    expect(c.stats()).toMatchObject({ skipped: 2, resent: 6 })
  })

  it('a connection that ends (FIN) after the peer\'s END, before ours was acknowledged, is an outage: the client resumes and sends the rest', async () => {
    const { c, next } = client()
    const first = await next()
    await accept(first)
    // the server's direction is complete: one item, then its END
    first.send(data(1), endFrame(1))
    const got: number[] = []
    for await (const f of c.source) got.push(f.body[0])
    expect(got).toEqual([1])
    let writeThree!: () => void
    const three = new Promise<void>((resolve) => { writeThree = resolve })
    const writing = c.sink((async function * () {
      yield data(1)
      yield data(2)
      await three
      yield data(3)
    })())
    await first.next(f => f.type === 0x40 && f.body[0] === 2)
    first.send(ackFrame(1))
    await vi.waitFor(() => { expect(c.stats().link.confirmed).toBe(1) })
    // a clean close of the connection (a proxy's FIN), not of the session: ours is still open
    first.end()
    const second = await next()
    await accept(second, TOKEN, 2)
    writeThree()
    await second.next(f => f.type === 0x07)
    expect(items(second)).toEqual([2, 3])
    second.send(ackFrame(3, true))
    await writing
    await vi.waitFor(() => { expect(c.stats().link).toMatchObject({ accepted: 3, confirmed: 3, unconfirmed: 0, retained: 0 }) })
    expect(c.stats().status).not.toBe('failed')
  })

  it('both directions ended but our END not yet acknowledged: a connection lost then is an outage, and END goes again after the resume', async () => {
    const { c, conns, next } = client()
    const first = await next()
    await accept(first)
    await c.sink([data(1)])
    await first.next(f => f.type === 0x07)
    // the server has our item, and ends its own direction; the ACK of our END is lost with the connection
    first.send(ackFrame(1), endFrame(0))
    for await (const _ of c.source) { /* the server wrote nothing */ }
    await vi.waitFor(() => { expect(c.stats().link.confirmed).toBe(1) })
    expect(c.status).toBe('connected') // not done: the server has not acknowledged our END
    first.end()
    const second = await next()
    await accept(second, TOKEN, 2)
    await second.next(f => f.type === 0x07) // END again
    // our acknowledgement of the server's END goes again too: it was lost with the first connection
    expect(readAck(await second.next(f => isAck(f) && readAck(f).end))).toEqual({ position: 0, end: true })
    second.send(ackFrame(1, true))
    // complete here: it lingers until the server says it has our last acknowledgement (it completes then)
    await vi.waitFor(() => { expect(c.stats().link.confirmed).toBe(1) })
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(c.status).toBe('connected')
    second.send(goAway(SessionGoAwayCode.SESSION_CLOSED))
    second.end()
    await vi.waitFor(() => { expect(c.status).toBe('closed') })
    expect(c.stats().link).toMatchObject({ accepted: 1, confirmed: 1, unconfirmed: 0, retained: 0 })
    expect(conns.length).toBe(2)
  })

  it('SESSION_CLOSED in answer to its RESUME, once both directions ended: the server completed the session, so every item reached its application; nothing is lost or sent again', async () => {
    const { c, conns, next } = client()
    const lost: unknown[] = []
    c.addEventListener('session-lost', (e) => { lost.push(e.detail) })
    const first = await next()
    await accept(first)
    await c.sink([data(1), data(2)])
    await first.next(f => f.type === 0x07)
    // the server's direction ends; its acknowledgements of our items and END are lost with the connection
    first.send(endFrame(0))
    for await (const _ of c.source) { /* the server wrote nothing */ }
    first.end()
    const second = await next()
    await second.next(isResume)
    second.send(goAway(SessionGoAwayCode.SESSION_CLOSED))
    second.end()
    await vi.waitFor(() => { expect(c.status).toBe('closed') })
    expect(lost).toEqual([])
    expect(c.stats().link).toMatchObject({ accepted: 2, confirmed: 2, unconfirmed: 0, retained: 0 })
    expect(c.stats()).toMatchObject({ sessionsLost: 0, resentAfterLoss: 0 })
    expect(conns.length).toBe(2)
  })

  it('close() whose connection is lost while it waits for acknowledgements resumes and completes on the next one: what was unacknowledged and END go again, nothing is counted', async () => {
    const { c, conns, next, first, lost } = await threeSentOneAcked({ closeTimeout: 60_000 })
    const closing = c.close()
    first.frames.abort(new Error('cut'))
    const second = await next()
    expect(readResume(await second.next(isResume))).toMatchObject({ fresh: false })
    // the server had item 2, not 3: it asks from 3 on
    second.send(resumeFrame({ token: TOKEN, id: ID, next: 3 }))
    await second.next(f => f.type === 0x07)
    expect(items(second)).toEqual([3])
    expect(c.status).toBe('closing')
    second.send(ackFrame(3, false), endFrame(0))
    await second.next(isAck)
    second.send(ackFrame(3, true))
    await closedByServer(c, second, closing)
    expect(c.stats().link).toMatchObject({ accepted: 3, confirmed: 3, unconfirmed: 0, replayed: 2 })
    expect(lost).toEqual([])
    expect(conns.length).toBe(2)
  })

  it('close() whose connection is lost, and no other comes within closeTimeout: it ends then and counts what was not acknowledged', async () => {
    vi.useFakeTimers()
    let dials = 0
    const c = sessionClient(async () => { dials++; throw new Error('refused') }, { closeTimeout: 1_000, initialDelay: 100, maxDelay: 100, jitter: 'none', stack: () => { throw new Error('no stack: every dial fails') } })
    open.push(c)
    // never connected: the items stay buffered; close() dials at once for them, then gives up at its deadline
    void c.sink([data(1), data(2)]).catch(() => {})
    await vi.advanceTimersByTimeAsync(250)
    const before = dials
    const closing = c.close()
    let settled = false
    void closing.then(() => { settled = true })
    await vi.advanceTimersByTimeAsync(0)
    expect(dials).toBe(before + 1)
    expect(c.status).toBe('closing')
    await vi.advanceTimersByTimeAsync(900)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(100)
    await closing
    expect(c.status).toBe('closed')
    expect(c.stats().link).toMatchObject({ accepted: 2, unsent: 2, confirmed: 0 })
    const after = dials
    await vi.advanceTimersByTimeAsync(5_000)
    expect(dials).toBe(after)
  })

  it('close() during an outage with every item acknowledged but our END: it dials again for that acknowledgement alone, and completes', async () => {
    const { c, conns, next } = client({ closeTimeout: 60_000 })
    const first = await next()
    await accept(first)
    await c.sink([data(1)])
    await first.next(f => f.type === 0x07)
    first.send(ackFrame(1))
    await vi.waitFor(() => { expect(c.stats().link).toMatchObject({ confirmed: 1, retained: 0 }) })
    first.frames.abort(new Error('cut'))
    await vi.waitFor(() => { expect(c.status).not.toBe('connected') })
    const closing = c.close()
    const second = await next()
    await second.next(isResume)
    second.send(resumeFrame({ token: TOKEN, id: ID, next: 2 }))
    await second.next(f => f.type === 0x07) // END again, nothing before it
    expect(items(second)).toEqual([])
    second.send(ackFrame(1, true))
    await closedByServer(c, second, closing)
    expect(c.stats().link).toMatchObject({ accepted: 1, confirmed: 1, unconfirmed: 0 })
    expect(c.stats().sessionsLost).toBe(0)
    expect(conns.length).toBe(2)
  })

  it('close() riding out an outage, and the session lost meanwhile (expired): its items are given up, not replayed into a new session; the close ends', async () => {
    const { c, conns, next, first, lost } = await threeSentOneAcked({ onLost: 'replay', closeTimeout: 60_000 })
    first.frames.abort(new Error('cut'))
    await vi.waitFor(() => { expect(c.status).not.toBe('connected') })
    const closing = c.close()
    const second = await next()
    await second.next(isResume)
    second.send(goAway(SessionGoAwayCode.SESSION_EXPIRED))
    second.end()
    await closing
    expect(c.status).toBe('closed')
    expect(lost).toMatchObject([{ reason: 'expired', unconfirmed: 2, action: 'drop' }])
    expect(c.stats()).toMatchObject({ sessionsLost: 1, resentAfterLoss: 0, droppedAfterLoss: 2 })
    expect(c.stats().link).toMatchObject({ accepted: 3, confirmed: 1, unconfirmed: 2 })
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(conns.length).toBe(2) // no new session was opened
  })

  it('close() after the session was lost and replayed with nothing unacknowledged, while no server answers: it ends at once; no END is owed to a session no server opened', async () => {
    const { c, conns, next } = client({ onLost: 'replay', closeTimeout: 60_000 })
    const lost: unknown[] = []
    c.addEventListener('session-lost', (e) => { lost.push(e.detail) })
    const first = await next()
    await accept(first)
    // the application writes one item and goes on writing later (its sink stays open)
    void c.sink((async function * () { yield data(1); await new Promise(() => {}) })()).catch(() => {})
    await first.next(f => f.type === 0x40)
    first.send(ackFrame(1))
    await vi.waitFor(() => { expect(c.stats().link.confirmed).toBe(1) })
    first.frames.abort(new Error('cut'))
    // the server lost the session (restarted): a new one is opened for whatever comes next
    const second = await next()
    await second.next(isResume)
    second.send(goAway(SessionGoAwayCode.SESSION_UNKNOWN))
    second.end()
    await vi.waitFor(() => { expect(lost).toMatchObject([{ reason: 'unknown', unconfirmed: 0, action: 'replay' }]) })
    const third = await next()
    await third.next(isResume) // that server does not answer
    let settled = false
    const closing = c.close().finally(() => { settled = true })
    await vi.waitFor(() => { expect(settled).toBe(true) }, { timeout: 2_000 })
    await closing
    expect(c.status).toBe('closed')
    expect(c.stats().link).toMatchObject({ accepted: 1, confirmed: 1, unconfirmed: 0, unsent: 0 })
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(conns.length).toBe(3)
  })

  it('a full window while disconnected holds the writer back: nothing is dropped, all of it goes after the resume', async () => {
    const { c, next } = client({ window: { maxMessages: 4 }, buffer: { maxMessages: 3 } })
    const first = await next()
    await accept(first)
    let pulled = 0
    const writing = c.sink((function * () { for (let i = 1; i <= 20; i++) { pulled++; yield data(i) } })())
    await first.next(f => f.type === 0x40 && f.body[0] === 4)
    first.frames.abort(new Error('cut'))
    const second = await next()
    await second.next(isResume)
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(pulled).toBe(4 + 3 + 1)
    expect(c.stats().link).toMatchObject({ retained: 4, buffered: 3, waiting: 1, dropped: 0 })
    second.send(resumeFrame({ token: TOKEN, id: ID, next: 1 }))
    let acked = 0
    while (acked < 20) {
      await second.next(f => f.type === 0x40 && f.body[0] === Math.min(20, acked + 4))
      acked = Math.min(20, acked + 4)
      second.send(ackFrame(acked))
    }
    await second.next(f => f.type === 0x07)
    second.send(ackFrame(20, true))
    await writing
    expect(items(second)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(c.stats().link).toMatchObject({ accepted: 20, confirmed: 20, dropped: 0, unsent: 0 })
  })
})

describe('positions near 2^53 − 1', () => {
  function stage (state: SessionState, f: FakeFrames): SessionConnection {
    return new SessionConnection({
      state,
      ctx: { attempt: 1, signal: new AbortController().signal, confirm: () => {}, lost: () => {} },
      lower: f.frames,
      iterator: f.frames.source,
      leftover: [],
      peer: undefined,
      settings: {
        acks: { delay: 25, frames: 256, bytes: 65536 },
        inbound: { maxMessages: 16384, maxBytes: 4194304 },
        timers: { setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); return { cancel: () => { clearTimeout(t) } } } },
        log: { enabled: false, debug: () => {}, error: () => {} }
      },
      endpoint: { lost: () => new Error('lost'), ending: () => false, status: 'connected', origin: undefined }
    })
  }

  it('numbering received items past 2^53 − 1 is a protocol error', async () => {
    const state = new SessionState('client', { maxAckDelay: 25, windowMessages: 8, windowBytes: 1024, ttl: 0 })
    state.token = TOKEN
    state.inSeq = MAX_POSITION - 1
    const f = fakeFrames()
    const s = stage(state, f)
    expect(readResume(await f.next(isResume)).next).toBe(MAX_POSITION)
    f.send(resumeFrame({ token: TOKEN, id: ID, next: 1 }), data(1), data(2))
    expect(goAwayCode(await f.next(isGoAway))).toBe(1)
    const r = await s.source.nextBatch().then(() => undefined, (err: unknown) => err)
    expect(r).toMatchObject({ name: 'SessionProtocolError' })
  })

  it('sending an item numbered past 2^53 − 1 fails the connection instead of wrapping', async () => {
    const state = new SessionState('client', { maxAckDelay: 25, windowMessages: 8, windowBytes: 1024, ttl: 0 })
    state.token = TOKEN
    state.outAcked = state.outSent = MAX_POSITION - 1
    const f = fakeFrames()
    const s = stage(state, f)
    await f.next(isResume)
    f.send(resumeFrame({ token: TOKEN, id: ID, next: MAX_POSITION }))
    await s.ready
    const writing = s.sink([data(1), data(2)]).then(() => undefined, (err: unknown) => err)
    expect(await writing).toMatchObject({ name: 'SessionProtocolError' })
    // the first item takes position 2^53 − 1, the last there is; the second would pass it
    expect(f.written.filter(w => w.type === 0x40).map(w => w.body[0])).toEqual([1])
  })
})

describe('a complete session\'s last connection', () => {
  it('confirms every retained item it is fed: the server acknowledged our END, after all of them (else the link never finishes)', async () => {
    const confirm = vi.fn()
    const conn = completedConnection({ confirm })
    await conn.sink([data(1), data(2), data(3)])
    expect(confirm.mock.calls).toEqual([[1], [1], [1]])
    expect(await conn.source[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined })
  })
})

describe('a complete session lingers until the server has its last acknowledgement', () => {
  /** A client whose session is complete on its first connection: its END acknowledged, the server's END (after one item) taken and acknowledged. */
  async function completeHere (init: SessionClientInit = {}): Promise<ReturnType<typeof client> & { first: FakeFrames, lost: unknown[] }> {
    const made = client(init)
    const lost: unknown[] = []
    made.c.addEventListener('session-lost', (e) => { lost.push(e.detail) })
    const first = await made.next()
    await accept(first)
    await made.c.sink([])
    await first.next(f => f.type === 0x07)
    first.send(ackFrame(0, true), data(9), endFrame(1))
    const got: number[] = []
    for await (const f of made.c.source) got.push(f.body[0])
    expect(got).toEqual([9])
    expect(readAck(await first.next(f => isAck(f) && readAck(f).end))).toEqual({ position: 1, end: true })
    return { ...made, first, lost }
  }

  it('on a healthy connection it closes once the server says so (GOAWAY SESSION_CLOSED), not before, and dials nothing more', async () => {
    const { c, conns, first, lost } = await completeHere()
    await new Promise(resolve => setTimeout(resolve, 30))
    expect(c.status).toBe('connected')
    expect(first.written.filter(isGoAway)).toEqual([])
    first.send(goAway(SessionGoAwayCode.SESSION_CLOSED))
    first.end()
    await vi.waitFor(() => { expect(c.status).toBe('closed') })
    expect(conns).toHaveLength(1)
    expect(lost).toEqual([])
    expect(c.stats()).toMatchObject({ sessionsLost: 0, delivered: 1 })
  })

  it('the server\'s SESSION_CLOSED reported by the heartbeat beneath (an event): it closes at once, without waiting for the server to end the connection first', async () => {
    const { c, first, lost } = await completeHere({ closeTimeout: 60_000 }) // the linger would outlast the test
    first.goAwayEvent(SessionGoAwayCode.SESSION_CLOSED, 'session closed')
    // our close: GOAWAY and FIN, while the server has not ended its side yet
    await vi.waitFor(() => { expect(first.written.filter(isGoAway).map(goAwayCode)).toEqual([SessionGoAwayCode.SESSION_CLOSED]) }, { timeout: 3_000 })
    await vi.waitFor(() => { expect(first.closed).toBe(true) })
    first.end()
    await vi.waitFor(() => { expect(c.status).toBe('closed') })
    expect(lost).toEqual([])
  })

  it('its connection lost: one RESUME carries the acknowledgement again; the server completes and says so', async () => {
    const { c, conns, first, next, lost } = await completeHere()
    first.end() // ended without SESSION_CLOSED: an outage
    const second = await next()
    expect(readResume(await second.next(isResume))).toMatchObject({ fresh: false, next: 2 })
    second.send(resumeFrame({ token: TOKEN, id: ID, next: 1, ttl: 60_000 }), endFrame(1))
    expect(readAck(await second.next(f => isAck(f) && readAck(f).end))).toEqual({ position: 1, end: true })
    second.send(goAway(SessionGoAwayCode.SESSION_CLOSED))
    second.end()
    await vi.waitFor(() => { expect(c.status).toBe('closed') })
    expect(conns).toHaveLength(2)
    expect(lost).toEqual([])
    expect(c.stats()).toMatchObject({ sessionsLost: 0, delivered: 1, deduplicated: 0, resentAfterLoss: 0 })
  })

  it.each([
    ['SESSION_CLOSED (it completed: it had the acknowledgement after all)', SessionGoAwayCode.SESSION_CLOSED, 'frame'],
    ['SESSION_EXPIRED', SessionGoAwayCode.SESSION_EXPIRED, 'frame'],
    ['SESSION_UNKNOWN', SessionGoAwayCode.SESSION_UNKNOWN, 'frame'],
    // as a real heartbeat reports it: an event, then the connection's end (it waited for the dial's timeout)
    ['SESSION_CLOSED, reported as an event', SessionGoAwayCode.SESSION_CLOSED, 'event'],
    ['SESSION_EXPIRED, reported as an event', SessionGoAwayCode.SESSION_EXPIRED, 'event'],
    ['SESSION_UNKNOWN, reported as an event', SessionGoAwayCode.SESSION_UNKNOWN, 'event']
  ] as const)('its RESUME answered with %s: the session ends cleanly and at once, nothing reported lost, no new session', async (_name, code, how) => {
    const { c, conns, first, next, lost } = await completeHere({ onLost: 'replay', connectTimeout: 60_000 })
    first.frames.abort(new Error('cut'))
    const second = await next()
    await second.next(isResume)
    if (how === 'frame') second.send(goAway(code))
    else second.goAwayEvent(code)
    second.end()
    await vi.waitFor(() => { expect(c.status).toBe('closed') })
    expect(conns).toHaveLength(2)
    expect(lost).toEqual([])
    expect(c.stats()).toMatchObject({ sessionsLost: 0, resentAfterLoss: 0 })
    expect(c.stats().link.lastError).toBeDefined() // the dial that carried the refusal
  })

  it('its connection lost again on the resume: it gives up after that one and ends cleanly, without dialling the server again', async () => {
    const { c, conns, first, next, lost } = await completeHere()
    first.frames.abort(new Error('cut'))
    const second = await next()
    await second.next(isResume)
    second.frames.abort(new Error('cut again'))
    await vi.waitFor(() => { expect(c.status).toBe('closed') })
    await new Promise(resolve => setTimeout(resolve, 30))
    expect(conns).toHaveLength(2)
    expect(lost).toEqual([])
  })

  it.each([
    ['maxAttempts: 1', { maxAttempts: 1 }],
    ['a shouldRetry that gives up', { shouldRetry: () => false }]
  ])('its connection lost under a retry policy that allows no resume (%s): it ends closed, not failed, with nothing reported lost', async (_name, init) => {
    const { c, first, lost } = await completeHere(init)
    const failed: unknown[] = []
    c.addEventListener('failed', (e) => { failed.push(e.detail) })
    first.frames.abort(new Error('cut'))
    await vi.waitFor(() => { expect(c.status).toBe('closed') })
    expect(failed).toEqual([])
    expect(lost).toEqual([])
    expect(c.stats().link).toMatchObject({ status: 'closed', unconfirmed: 0 })
  })

  it('a server that never says so: it lingers at most closeTimeout, then closes as before', async () => {
    const { c, conns, first, lost } = await completeHere({ closeTimeout: 150 })
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(c.status).toBe('connected')
    // then our GOAWAY goes out (the server's answer to it, and its FIN, end the connection)
    expect(goAwayCode(await first.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_CLOSED)
    first.end()
    await vi.waitFor(() => { expect(c.status).toBe('closed') })
    expect(conns).toHaveLength(1)
    expect(lost).toEqual([])
  })

  it('the linger is timed by the injected timers', async () => {
    // timers fired by hand (the ACK delay and the linger; nothing here needs the others)
    const armed: Array<{ fn: () => void, ms: number }> = []
    const timers = { setTimeout: (fn: () => void, ms: number) => { armed.push({ fn, ms }); return { cancel: () => {} } } }
    const { c, first } = await completeHere({ timers, closeTimeout: 7_000 })
    const linger = armed.filter(t => t.ms === 7_000)
    expect(linger.length).toBeGreaterThanOrEqual(1)
    expect(c.status).toBe('connected')
    for (const t of linger) t.fn()
    expect(goAwayCode(await first.next(isGoAway))).toBe(SessionGoAwayCode.SESSION_CLOSED)
  })
})
