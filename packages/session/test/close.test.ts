import { lossyRelay } from '@proto/stage-compliance'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { SessionDuplex, SessionEventMap } from '../src/index.js'
import type { Harness } from './helpers/stack.js'
import { harness, item, num } from './helpers/stack.js'

let h: Harness | undefined
afterEach(async () => { await h?.close(); h = undefined })

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Writes items 0, 1, 2 … (a pause every 50) until `stop()`; the count written is `written()`. */
function writer (session: SessionDuplex): { done: Promise<unknown>, stop(): void, written(): number } {
  let stopped = false
  let n = 0
  const done = session.sink((async function * () {
    while (!stopped && n < 200_000) {
      yield item(n++)
      if (n % 50 === 0) await sleep(2)
    }
  })()).then(() => undefined, (err: unknown) => err)
  return { done, stop: () => { stopped = true }, written: () => n }
}

/** A client of `harness` (through `port`, when given) and the session-lost events it dispatches. */
function watched (harness: Harness, init: Parameters<Harness['client']>[0], port?: number): { client: SessionDuplex, lost: unknown[] } {
  const client = harness.client(init, port)
  const lost: unknown[] = []
  client.addEventListener('session-lost', (e) => { lost.push(e.detail) })
  return { client, lost }
}

describe('the server closes while the client is still writing (real TCP)', () => {
  it('the client learns the session was closed (it had ended the server\'s direction first), and its ledger accounts for every item', async () => {
    const delivered: number[] = []
    let serverWriting: ReturnType<typeof writer> | undefined
    h = await harness((session) => {
      void (async () => { for await (const f of session.source) delivered.push(num(f)) })().catch(() => {})
      serverWriting = writer(session)
    }, { closeTimeout: 1_000 })
    const client = h.client({ onLost: 'fail', closeTimeout: 1_000 })
    const lost = new Promise<SessionEventMap['session-lost']>((resolve) => {
      client.addEventListener('session-lost', (e) => { resolve(e.detail) }, { once: true })
    })
    const reading = (async () => { for await (const _ of client.source) { /* drained */ } })().then(() => undefined, (err: unknown) => err)
    const writing = writer(client)
    while (delivered.length < 500) await sleep(10)
    const closing = h.server.close()
    // the server ends its writing (END, acknowledged by the client), then closes the session: GOAWAY
    // SESSION_CLOSED and the connection's FIN. The client, still writing, must not stay on a closed connection
    const detail = await Promise.race([lost, sleep(5_000).then(() => undefined)])
    writing.stop()
    serverWriting?.stop()
    await closing
    expect(detail).toMatchObject({ reason: 'closed', action: 'fail' })
    // the server's direction had ended (its END came first): the source ended cleanly; the sink, still
    // running, fails with the loss itself (onLost 'fail')
    expect(await reading).toBeUndefined()
    expect(await writing.done).toMatchObject({ name: 'SessionLostError', reason: 'closed' })
    const link = client.stats().link
    expect(link.unconfirmed).toBe(detail?.unconfirmed)
    // every item the sink took is confirmed (the server's application has it), or counted unconfirmed or unsent
    expect(link.confirmed + link.unconfirmed + link.unsent).toBe(link.accepted)
    expect(delivered.length).toBeGreaterThanOrEqual(link.confirmed)
    expect(delivered.length).toBeLessThanOrEqual(link.confirmed + link.unconfirmed)
    // in order, no duplicates
    expect(delivered).toEqual(Array.from({ length: delivered.length }, (_, i) => i))
  })
})

describe('the client closes while the server\'s application has not ended its direction (real TCP)', () => {
  it.each(['fail', 'replay'] as const)('onLost %s: the server\'s answering SESSION_CLOSED is the client\'s own close, not a loss; the server\'s application learns the client closed', async (onLost) => {
    const got: number[] = []
    const serverLost: unknown[] = []
    h = await harness((session) => {
      session.addEventListener('session-lost', (e) => { serverLost.push(e.detail) })
      void (async () => { for await (const f of session.source) got.push(num(f)) })().catch(() => {})
    })
    const { client, lost } = watched(h, { onLost })
    let closedError: unknown
    client.addEventListener('closed', (e) => { closedError = e.detail.error })
    const reading = (async () => { for await (const _ of client.source) { /* the server writes nothing */ } })().then(() => 'ended', (err: unknown) => err)
    await client.sink([item(1), item(2)])
    await vi.waitFor(() => { expect(got).toEqual([1, 2]) })
    await client.close()
    expect(await reading).toBe('ended')
    await sleep(100)
    expect(lost).toEqual([])
    expect(closedError).toBeUndefined()
    expect(client.stats()).toMatchObject({ status: 'closed', sessionsLost: 0, link: { accepted: 2, confirmed: 2, unconfirmed: 0 } })
    // the server's application had not ended its writing: the client closing the session is a loss to it
    await vi.waitFor(() => { expect(serverLost).toMatchObject([{ reason: 'closed', unconfirmed: 0 }]) })
  })
})

describe('both applications close() at once, each right after its own writing ended (real TCP)', () => {
  it('neither side reports the session lost (each close() answers the other), and the ledgers are exact: what the server acknowledged before its SESSION_CLOSED is confirmed, the rest counted unconfirmed', async () => {
    const K = 20
    const N = 10
    const serverGot = new Map<string, number[]>()
    const serverLost: unknown[] = []
    h = await harness((session) => {
      const got: number[] = []
      serverGot.set(session.id ?? '', got)
      session.addEventListener('session-lost', (e) => { serverLost.push(e.detail) })
      void (async () => { for await (const f of session.source) got.push(num(f)) })().catch(() => {})
      void (async () => {
        await session.sink(Array.from({ length: K }, (_, i) => item(i)))
        await session.close()
      })().catch(() => {})
    })
    const runs = Array.from({ length: N }, async () => {
      const { client, lost } = watched(h as Harness, { onLost: 'replay' })
      const got: number[] = []
      const reading = (async () => { for await (const f of client.source) got.push(num(f)) })().catch(() => {})
      await client.sink(Array.from({ length: K }, (_, i) => item(i)))
      await client.close()
      await reading
      return { client, lost, got }
    })
    for (const { client, lost, got } of await Promise.all(runs)) {
      expect(lost).toEqual([])
      expect(client.stats()).toMatchObject({ sessionsLost: 0, resentAfterLoss: 0 })
      // the server's application may read items after its close() said SESSION_CLOSED: those are never
      // acknowledged, and the client counts them unconfirmed (it cannot know they arrived)
      const link = client.stats().link
      expect(link).toMatchObject({ accepted: K, retained: 0, unsent: 0 })
      expect(link.confirmed + link.unconfirmed).toBe(K)
      expect(got).toEqual(Array.from({ length: K }, (_, i) => i))
      expect(serverGot.get(client.stats().id ?? '')).toEqual(Array.from({ length: K }, (_, i) => i))
    }
    expect(serverLost).toEqual([])
  })
})

describe('both directions ended, the server\'s END not yet acknowledged (real TCP)', () => {
  it('a connection lost then is an outage: the server keeps the session, the client resumes, END goes again, both sides end cleanly', async () => {
    const echoed: number[] = []
    h = await harness((session) => {
      void session.sink((async function * () {
        for await (const f of session.source) {
          echoed.push(num(f))
          yield f
        }
      })()).catch(() => {})
    })
    const relay = await lossyRelay({ port: h.port })
    try {
      const { client, lost } = watched(h, { onLost: 'fail' }, relay.port)
      let finish!: () => void
      const finished = new Promise<void>((resolve) => { finish = resolve })
      const writing = client.sink((async function * () {
        for (let i = 0; i < 3; i++) yield item(i)
        await finished
      })())
      const got: number[] = []
      const reading = (async () => { for await (const f of client.source) got.push(num(f)) })().then(() => 'ended', (err: unknown) => err)
      await vi.waitFor(() => {
        expect(got).toEqual([0, 1, 2])
        expect(client.stats().link.confirmed).toBe(3)
        expect(h?.sessions[0].stats().link.confirmed).toBe(3)
      })
      // the client ends (END reaches the server, whose echo then ends: its END is lost on the way back)
      relay.dropToClient = true
      finish()
      await writing
      await vi.waitFor(() => { expect(h?.sessions[0].stats().link.accepted).toBe(3) })
      await sleep(200)
      expect(h.sessions[0].status).toBe('connected') // not done: its END is not acknowledged
      relay.dropToClient = false
      relay.cut()
      expect(await reading).toBe('ended')
      expect(got).toEqual([0, 1, 2])
      expect(lost).toEqual([])
      await vi.waitFor(() => {
        expect(client.status).toBe('closed')
        expect(h?.sessions[0].status).toBe('closed')
      })
      expect(client.stats().link).toMatchObject({ accepted: 3, confirmed: 3, unconfirmed: 0 })
      expect(h.sessions[0].stats().link).toMatchObject({ accepted: 3, confirmed: 3, unconfirmed: 0 })
      expect(echoed).toEqual([0, 1, 2])
    } finally {
      relay.close()
    }
  })

  it('the server\'s acknowledgement of the client\'s END lost: the server completes and remembers it, the resuming client is told so, and nothing is sent twice', async () => {
    const got: number[] = []
    h = await harness((session) => {
      void session.sink([]).catch(() => {}) // the server writes nothing: its END goes at once
      void (async () => { for await (const f of session.source) got.push(num(f)) })().catch(() => {})
    })
    const relay = await lossyRelay({ port: h.port })
    try {
      const { client, lost } = watched(h, { onLost: 'replay' }, relay.port)
      for await (const _ of client.source) { /* the server's END */ }
      // from now on nothing the server sends arrives: its ACKs of our items and of our END, SESSION_CLOSED
      relay.dropToClient = true
      await client.sink(Array.from({ length: 20 }, (_, i) => item(i)))
      await vi.waitFor(() => { expect(got).toHaveLength(20) })
      await vi.waitFor(() => { expect(h?.server.stats().sessions).toBe(0) }) // complete, and forgotten
      relay.dropToClient = false
      relay.cut()
      await vi.waitFor(() => { expect(client.status).toBe('closed') })
      expect(lost).toEqual([])
      expect(client.stats().link).toMatchObject({ accepted: 20, confirmed: 20, unconfirmed: 0 })
      expect(client.stats().resentAfterLoss).toBe(0)
      await sleep(100)
      expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i)) // once each: nothing sent into a new session
      expect(h.server.stats()).toMatchObject({ created: 1, refused: { completed: 1 } })
    } finally {
      relay.close()
    }
  })
})

describe('both directions ended, the client\'s acknowledgement of the server\'s END lost (real TCP)', () => {
  it('the client lingers until the server says it has it; its connection lost, it resumes once: the server completes, with every item confirmed and nothing reported lost', async () => {
    const N = 50
    const serverLost: unknown[] = []
    h = await harness((session) => {
      session.addEventListener('session-lost', (e) => { serverLost.push(e.detail) })
      // the server writes once it has the client's END (which it acknowledges ahead of its items)
      void (async () => {
        for await (const _ of session.source) { /* the client writes nothing */ }
        await session.sink(Array.from({ length: N }, (_, i) => item(i)))
      })().catch(() => {})
    })
    const relay = await lossyRelay({ port: h.port })
    try {
      const { client, lost } = watched(h, { onLost: 'fail' }, relay.port)
      await client.sink([])
      const got: number[] = []
      for await (const f of client.source) {
        got.push(num(f))
        // from the last item on nothing the client sends arrives: its ACKs, of the server's END too
        if (got.length === N - 1) relay.dropToServer = true
      }
      expect(got).toEqual(Array.from({ length: N }, (_, i) => i))
      const server = h.sessions[0]
      await sleep(200)
      // complete on the client's side, but the server does not know: the client stays, the server waits
      expect(client.status).toBe('connected')
      expect(server.status).toBe('connected')
      expect(server.stats().link.confirmed).toBeLessThan(N)
      relay.dropToServer = false
      relay.cut()
      await vi.waitFor(() => {
        expect(client.status).toBe('closed')
        expect(server.status).toBe('closed')
      })
      expect(server.stats().link).toMatchObject({ accepted: N, confirmed: N, unconfirmed: 0, retained: 0 })
      expect(serverLost).toEqual([])
      expect(lost).toEqual([])
      expect(client.stats()).toMatchObject({ sessionsLost: 0, delivered: N, deduplicated: 0 })
      expect(client.stats().link.attempts).toBe(2) // one resume
      expect(h.server.stats()).toMatchObject({ created: 1, resumed: 1 })
    } finally {
      relay.close()
    }
  })
})

describe('a close() whose connection is lost rides it out (real TCP)', () => {
  it('the server\'s application closes, the client\'s acknowledgements lost and the connection cut: the client resumes, the server\'s close() completes there, every item confirmed once, nothing reported lost', async () => {
    const N = 50
    const serverLost: unknown[] = []
    let closed: Promise<unknown> | undefined
    h = await harness((session) => {
      session.addEventListener('session-lost', (e) => { serverLost.push(e.detail) })
      void (async () => {
        for await (const _ of session.source) { /* the client writes nothing */ }
        await session.sink(Array.from({ length: N }, (_, i) => item(i)))
        closed = session.close().then(() => 'closed', (err: unknown) => err)
      })().catch(() => {})
    }, { closeTimeout: 60_000 })
    const relay = await lossyRelay({ port: h.port })
    try {
      const { client, lost } = watched(h, { onLost: 'fail' }, relay.port)
      await client.sink([])
      // from the client's tenth delivery on, nothing it sends arrives: its ACKs of the rest and of the server's END
      let got = 0
      const reading = (async () => {
        const seen: number[] = []
        for await (const f of client.source) {
          seen.push(num(f))
          if (++got === 10) relay.dropToServer = true
        }
        return seen
      })()
      await vi.waitFor(() => { expect(closed).toBeDefined() })
      await vi.waitFor(() => { expect(got).toBe(N) })
      await sleep(200)
      const server = h.sessions[0]
      expect(server.status).toBe('closing') // waiting for acknowledgements that do not come
      relay.dropToServer = false
      relay.cut()
      expect(await closed).toBe('closed')
      expect(await reading).toEqual(Array.from({ length: N }, (_, i) => i))
      await vi.waitFor(() => { expect(client.status).toBe('closed') })
      expect(server.stats().link).toMatchObject({ accepted: N, confirmed: N, unconfirmed: 0, retained: 0 })
      expect(serverLost).toEqual([])
      expect(lost).toEqual([])
      expect(client.stats()).toMatchObject({ sessionsLost: 0, delivered: N, deduplicated: 0 })
      expect(h.server.stats()).toMatchObject({ created: 1, resumed: 1 })
    } finally {
      relay.close()
    }
  })

  it('the client\'s application closes, the server\'s acknowledgements lost and the connection cut: the client resumes and its close() completes there; the server\'s application gets every item once', async () => {
    const N = 50
    const delivered: number[] = []
    const serverLost: unknown[] = []
    h = await harness((session) => {
      session.addEventListener('session-lost', (e) => { serverLost.push(e.detail) })
      // the server's direction ends once the client's has: it is not complete before the client acknowledges its END
      void session.sink((async function * () {
        for await (const f of session.source) delivered.push(num(f))
        yield * [] // (writes nothing)
      })()).catch(() => {})
    })
    const relay = await lossyRelay({ port: h.port })
    try {
      const { client, lost } = watched(h, { onLost: 'fail', closeTimeout: 60_000 }, relay.port)
      await vi.waitFor(() => { expect(client.status).toBe('connected') })
      relay.dropToClient = true // from now on nothing the server sends arrives: its ACKs, its END
      await client.sink(Array.from({ length: N }, (_, i) => item(i)))
      const closing = client.close().then(() => 'closed', (err: unknown) => err)
      const reading = (async () => { for await (const _ of client.source) { /* the server writes nothing */ } })().then(() => 'ended', (err: unknown) => err)
      await vi.waitFor(() => { expect(delivered).toHaveLength(N) })
      await sleep(200)
      expect(client.status).toBe('closing')
      expect(client.stats().link.confirmed).toBe(0)
      relay.dropToClient = false
      relay.cut()
      expect(await closing).toBe('closed')
      expect(await reading).toBe('ended')
      expect(client.stats().link).toMatchObject({ accepted: N, confirmed: N, unconfirmed: 0, retained: 0 })
      expect(lost).toEqual([])
      await vi.waitFor(() => { expect(h?.sessions[0].status).toBe('closed') })
      expect(delivered).toEqual(Array.from({ length: N }, (_, i) => i))
      expect(serverLost).toEqual([])
      expect(h.server.stats()).toMatchObject({ created: 1, resumed: 1 })
    } finally {
      relay.close()
    }
  })

  it('the server shuts down: a session whose client is away closes at once (no client may resume it now) and counts what was not acknowledged', async () => {
    const serverLost: unknown[] = []
    h = await harness((session) => {
      session.addEventListener('session-lost', (e) => { serverLost.push(e.detail) })
      void session.sink(Array.from({ length: 5 }, (_, i) => item(i))).catch(() => {})
    }, { closeTimeout: 60_000 })
    const relay = await lossyRelay({ port: h.port })
    try {
      // the client reads nothing: it acknowledges nothing
      const client = h.client({ onLost: 'fail', initialDelay: 60_000, maxDelay: 60_000, jitter: 'none' }, relay.port)
      await vi.waitFor(() => { expect(h?.sessions[0]?.stats().link.accepted).toBe(5) })
      expect(client.stats().delivered).toBe(0)
      relay.cut() // the client waits a minute before it dials again
      const server = h.sessions[0]
      await vi.waitFor(() => { expect(server.status).not.toBe('connected') })
      // at once, not after the minute of closeTimeout (the test's own timeout is shorter)
      await h.server.close()
      expect(server.status).toBe('closed')
      expect(server.stats().link).toMatchObject({ accepted: 5, confirmed: 0, unconfirmed: 5 })
    } finally {
      relay.close()
    }
  })
})
