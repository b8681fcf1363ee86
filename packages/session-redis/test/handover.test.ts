import type { SessionDuplex } from '@proto/session'
import { sessionClient } from '@proto/session'
import type { RedisServer } from '@proto/stage-compliance'
import { canRun, lossyRelay, redisServerTool, startRedisServer } from '@proto/stage-compliance'
import { connect } from '@proto/transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dec, item, movingClient, startNode } from './helpers.js'

const runs = canRun(redisServerTool)
let redis: RedisServer

describe.runIf(runs)('handover between live nodes on a real Redis', () => {
  beforeAll(async () => { redis = await startRedisServer() })
  afterAll(async () => { await redis?.close() })

  it('a client cut from node A resumes on node B: A hands the session over, exactly once in both directions', async () => {
    const a = await startNode('a', redis.url)
    const b = await startNode('b', redis.url)
    const target = { port: a.port }
    const client = movingClient(target)
    const restored: unknown[] = []
    b.store.addEventListener('restored', (e) => { restored.push(e.detail) })
    const N = 400
    const got: string[] = []
    const reading = (async () => { for await (const f of client.source) { got.push(dec(f)); if (got.length === N) break } })()
    const writes = (async function * () {
      for (let i = 1; i <= N; i++) {
        yield item(`c${i}`)
        if (i === N / 2) {
          // half way: cut the connection; the load balancer sends the client to B now
          await expect.poll(() => got.length, { timeout: 5_000 }).toBeGreaterThan(50)
          target.port = b.port
          client.reconnect()
        }
        if (i % 50 === 0) await new Promise(resolve => setTimeout(resolve, 5))
      }
    })()
    const writing = client.sink(writes)
    await reading
    await writing
    try {
      const took = [...a.took, ...b.took]
      expect(took).toEqual(Array.from({ length: N }, (_, i) => `c${i + 1}`)) // each once, in order, across both nodes
      expect(got).toEqual(Array.from({ length: N }, (_, i) => `s${i + 1}`))
      expect(b.took.length).toBeGreaterThan(0)
      expect(a.server.stats().moved).toBe(1)
      expect(b.server.stats().restored).toEqual({ handover: 1, recovered: 0 })
      expect(b.sessions[0].origin).toBe('handover')
      // the node that handed it over is named, though its handover released the session in Redis
      expect(restored).toEqual([{ id: b.sessions[0].id, origin: 'handover', from: a.store.nodeId }])
      expect(a.store.stats().handovers.given).toBe(1)
      expect(b.store.stats().handovers).toMatchObject({ requested: 1, timedOut: 0 })
      expect(client.stats().possibleDuplicates).toBe(0)
      expect(client.stats().sessionsLost).toBe(0)
    } finally {
      await client.close().catch(() => {})
      await a.close()
      await b.close()
    }
  })

  it('a client whose window fills does not wait for the persist interval: the store persists early, and ACKs follow', async () => {
    // a 2 s interval and an 8-item window: 200 items would take over 40 s if every window waited for the interval
    const a = await startNode('a', redis.url, { persistInterval: 2_000 })
    const client = sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port: a.port }, { signal }), { window: { maxMessages: 8 } })
    try {
      const N = 200
      const got: string[] = []
      const reading = (async () => { for await (const f of client.source) { got.push(dec(f)); if (got.length === N) break } })()
      const writing = client.sink((function * () { for (let i = 1; i <= N; i++) yield item(`c${i}`) })())
      await Promise.race([Promise.all([reading, writing]), new Promise((_resolve, reject) => setTimeout(() => { reject(new Error(`expected ${N} answers within 10 s, but got ${got.length}`)) }, 10_000))])
      expect(a.took).toEqual(Array.from({ length: N }, (_, i) => `c${i + 1}`))
      expect(a.store.stats().early).toBeGreaterThan(0)
      await expect.poll(() => client.stats().link.confirmed, { timeout: 5_000 }).toBe(N)
    } finally {
      await client.close().catch(() => {})
      await a.close()
    }
  })

  it('a session that ends both ways closes only once the store persisted it: the client hears SESSION_CLOSED after the ACK of its END, nothing is lost or sent twice', async () => {
    // a 2 s interval: at the session's end nothing is persisted yet, so every ACK waits for the early persist
    const a = await startNode('a', redis.url, { persistInterval: 2_000 })
    try {
      const N = 50
      for (let round = 1; round <= 3; round++) {
        a.took.length = 0
        const client = sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port: a.port }, { signal }), { initialDelay: 10, maxDelay: 100 })
        const lost: unknown[] = []
        client.addEventListener('session-lost', (e) => { lost.push(e.detail) })
        const got: string[] = []
        const reading = (async () => { for await (const f of client.source) got.push(dec(f)) })()
        // the client ends its writing; the node's application ends its answers when the client's END comes
        await client.sink((function * () { for (let i = 1; i <= N; i++) yield item(`c${i}`) })())
        await reading
        await expect.poll(() => client.status, { timeout: 5_000 }).toBe('closed')
        expect(lost).toEqual([])
        expect(a.took).toEqual(Array.from({ length: N }, (_, i) => `c${i + 1}`))
        expect(got).toEqual(Array.from({ length: N }, (_, i) => `s${i + 1}`))
        expect(client.stats().link).toMatchObject({ accepted: N, confirmed: N, unconfirmed: 0, unsent: 0 })
        expect(client.stats()).toMatchObject({ sessionsLost: 0, resentAfterLoss: 0 })
        await client.close()
      }
    } finally {
      await a.close()
    }
  })

  it('a session that completed on node A, whose last ACK was lost: the client resuming on node B is told it completed, and nothing is sent twice', async () => {
    // the nodes' applications write nothing (their END goes at once) and take what the client writes
    const reader = (session: SessionDuplex, took: string[]): void => {
      void session.sink([]).catch(() => {})
      void (async () => { for await (const f of session.source) took.push(dec(f)) })().catch(() => {})
    }
    const a = await startNode('a', redis.url, {}, reader)
    const b = await startNode('b', redis.url, {}, reader)
    const relay = await lossyRelay({ port: a.port })
    try {
      const client = sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port: relay.port }, { signal }), { initialDelay: 10, maxDelay: 100, onLost: 'replay' })
      const lost: unknown[] = []
      client.addEventListener('session-lost', (e) => { lost.push(e.detail) })
      for await (const _ of client.source) { /* node A's END */ }
      // from now on nothing node A sends arrives: its ACKs of our items and of our END
      relay.dropToClient = true
      const N = 20
      await client.sink(Array.from({ length: N }, (_, i) => item(`c${i + 1}`)))
      const written = Array.from({ length: N }, (_, i) => `c${i + 1}`)
      await expect.poll(() => a.took, { timeout: 5_000 }).toEqual(written)
      // complete on A: forgotten there, its marker left in Redis
      await expect.poll(() => a.server.stats().sessions, { timeout: 5_000 }).toBe(0)
      await expect.poll(() => a.store.stats().completed, { timeout: 5_000 }).toBe(1)
      // the load balancer sends the client to B now; its connection to A is lost
      relay.target.port = b.port
      relay.dropToClient = false
      relay.cut()
      await expect.poll(() => client.status, { timeout: 5_000 }).toBe('closed')
      expect(lost).toEqual([])
      expect(client.stats().link).toMatchObject({ accepted: N, confirmed: N, unconfirmed: 0 })
      expect(client.stats()).toMatchObject({ sessionsLost: 0, resentAfterLoss: 0 })
      await new Promise(resolve => setTimeout(resolve, 100))
      expect(a.took).toEqual(written) // once each
      expect(b.took).toEqual([]) // nothing sent into a new session on B
      expect(b.server.stats()).toMatchObject({ created: 0, refused: { completed: 1, unknown: 0 } })
    } finally {
      relay.close()
      await a.close()
      await b.close()
    }
  })

  it('a client whose END node A acknowledged moves to node B before A\'s answer: B\'s application sees the request end, answers, and the session completes', async () => {
    // "read the whole request, then answer": the answer needs the source's end
    const ended: string[] = []
    const answerAfterEnd = (session: SessionDuplex, took: string[]): void => {
      void (async () => {
        for await (const f of session.source) took.push(dec(f))
        ended.push(session.origin ?? '')
        await new Promise(resolve => setTimeout(resolve, session.origin === 'new' ? 2_000 : 0)) // A works a while
        await session.sink([item(`answer to ${took.length}`)])
      })().catch(() => {})
    }
    const a = await startNode('a', redis.url, {}, answerAfterEnd)
    const b = await startNode('b', redis.url, {}, answerAfterEnd)
    const relay = await lossyRelay({ port: a.port })
    try {
      const client = sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port: relay.port }, { signal }), { initialDelay: 10, maxDelay: 100 })
      const lost: unknown[] = []
      client.addEventListener('session-lost', (e) => { lost.push(e.detail) })
      const got: string[] = []
      const reading = (async () => { for await (const f of client.source) got.push(dec(f)) })()
      await client.sink([item('q1'), item('q2'), item('q3')])
      await expect.poll(() => ended, { timeout: 5_000 }).toEqual(['new']) // A delivered the END, and acknowledges it
      await new Promise(resolve => setTimeout(resolve, 300))
      // before A answers, the load balancer sends the client to B: A hands the session over
      relay.target.port = b.port
      relay.cut()
      await reading
      await expect.poll(() => client.status, { timeout: 5_000 }).toBe('closed')
      expect(ended).toEqual(['new', 'handover'])
      // B's application takes the session where A left it: the request's items went to A (an application
      // that answers on another node keeps what it needs in the session's attributes)
      expect(got).toEqual(['answer to 0'])
      expect(a.took).toEqual(['q1', 'q2', 'q3'])
      expect(b.took).toEqual([]) // nothing twice
      expect(lost).toEqual([])
      expect(client.stats().link).toMatchObject({ accepted: 3, confirmed: 3, unconfirmed: 0 })
    } finally {
      relay.close()
      await a.close()
      await b.close()
    }
  })
})
