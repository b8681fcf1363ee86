import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import type { Frame } from '@proto/codec'
import type { SessionSnapshot, StoredSession } from '@proto/session'
import { canRun, redisServerTool, startRedisServer } from '@proto/stage-compliance'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import type { RedisStore } from '../src/index.js'
import { MAX_FLUSHES_IN_FLIGHT, redisStore } from '../src/index.js'
import { laggedSnapshot } from '../src/record.js'
import { CLAIM, PERSIST } from '../src/scripts.js'
import { dec, item } from './helpers.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

/** A session as the store sees it, driven by the test: its journal grows, its received position moves. */
function fakeSession (): StoredSession & { journal: Frame[], outAcked: number, received: number, acked: number[], attributes: Record<string, string> } {
  const idBytes = randomBytes(8)
  const digest = createHash('sha256').update(randomBytes(16)).digest()
  const s = {
    id: idBytes.toString('hex'),
    digest,
    journal: [] as Frame[],
    received: 0,
    acked: [] as number[],
    outAcked: 0,
    attributes: {} as Record<string, string>,
    snapshot: (): SessionSnapshot => ({ id: s.id, idBytes, digest, outAcked: s.outAcked, outSent: s.outAcked + s.journal.length, received: s.received, endAt: undefined, endAcked: false, peerEndAt: undefined, inEnded: false, journal: s.journal.slice(), attributes: { ...s.attributes } }),
    persisted: (received: number) => { s.acked.push(received) },
    handOver: () => s.snapshot(),
    fenced: () => {}
  }
  return s
}

/** Opens a fake session in `store` (listed in `held`, what its host holds), writes one frame, and waits until it is persisted. */
async function persistedOne (store: RedisStore, held: StoredSession[]): Promise<{ session: ReturnType<typeof fakeSession>, hash: string }> {
  const session = fakeSession()
  held.push(session)
  store.opened(session)
  session.journal.push(item('f1'))
  store.persistSoon(session)
  await expect.poll(() => session.acked.length).toBe(1)
  return { session, hash: `p:s:{${Buffer.from(session.digest).toString('hex')}}` }
}

/**
 * A real Redis, a store on it whose interval is a minute (only the test's `persistSoon` calls flush), one
 * fake session opened in it, and an admin connection to read what Redis holds.
 */
async function storeWithOneSession (): Promise<{ store: RedisStore, session: ReturnType<typeof fakeSession>, admin: Redis, hash: string }> {
  const redis = await startRedisServer()
  cleanups.push(async () => { await redis.close() })
  const store = redisStore({ redis: redis.url, prefix: 'p:', persistInterval: 60_000, commandTimeout: 5_000 })
  cleanups.push(async () => { await store.close() })
  await store.ready()
  const session = fakeSession()
  store.bind({ find: () => undefined, sessions: () => [session] })
  store.opened(session)
  const admin = new Redis(redis.url)
  cleanups.push(() => { admin.disconnect() })
  return { store, session, admin, hash: `p:s:{${Buffer.from(session.digest).toString('hex')}}` }
}

describe.runIf(canRun(redisServerTool))('persisting', () => {
  it('a session whose ACKs wait does not queue behind a flush in flight: PERSISTs overlap, each frame is written once, ACK limits only grow', async () => {
    const { store, session, admin, hash } = await storeWithOneSession()
    store.persistSoon(session) // the interval is a minute: only early persists run in this test
    await expect.poll(() => session.acked.length).toBe(1)

    // Redis holds every write for a while: what the store sends meanwhile stays in flight
    await admin.call('CLIENT', 'PAUSE', '400', 'WRITE')
    const before = store.stats().persists
    const rounds = MAX_FLUSHES_IN_FLIGHT + 2
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < 10; i++) session.journal.push(item(`f${session.journal.length + 1}`))
      session.received += 5
      store.persistSoon(session)
      await new Promise(resolve => setImmediate(resolve))
    }
    // overlapping PERSISTs went out while the first was unanswered, at most MAX_FLUSHES_IN_FLIGHT
    expect(store.stats().persists - before).toBe(MAX_FLUSHES_IN_FLIGHT)

    await expect.poll(() => session.acked[session.acked.length - 1], { timeout: 5_000 }).toBe(session.received)
    for (let i = 1; i < session.acked.length; i++) expect(session.acked[i]).toBeGreaterThanOrEqual(session.acked[i - 1])
    const stored = (await admin.lrangeBuffer(`${hash}:j`, 0, -1)).map(b => dec({ type: b[0], body: b.subarray(1) }))
    expect(stored).toEqual(session.journal.map(dec)) // in order, each once
    // and each frame crossed the wire once: a PERSIST appends only what follows those in flight
    expect(store.stats().framesPersisted).toBe(session.journal.length)
  })

  it('a session fenced while several PERSISTs are in flight is fenced once: one event, one count', async () => {
    const { store, session, admin, hash } = await storeWithOneSession()
    let fenced = 0
    session.fenced = () => { fenced++ }
    const events: unknown[] = []
    store.addEventListener('fenced', (e) => { events.push(e.detail) })
    store.persistSoon(session)
    await expect.poll(() => session.acked.length).toBe(1)
    await admin.hincrby(hash, 'e', 1) // what another node's CLAIM does
    // Redis holds every write for a while: the PERSISTs sent meanwhile are all in flight, and all fenced
    await admin.call('CLIENT', 'PAUSE', '300', 'WRITE')
    for (let r = 0; r < MAX_FLUSHES_IN_FLIGHT; r++) {
      session.journal.push(item(`f${r}`))
      session.received++
      store.persistSoon(session)
      await new Promise(resolve => setImmediate(resolve))
    }
    await expect.poll(() => store.stats().fenced, { timeout: 5_000 }).toBe(1)
    await new Promise(resolve => setTimeout(resolve, 500)) // every PERSIST in flight has come back
    expect(store.stats().fenced).toBe(1)
    expect(events.length).toBe(1)
    expect(fenced).toBe(1)
  })

  it('a session that keeps writing and receives nothing is persisted one interval behind: frames its client acknowledges within an interval never reach Redis, and the copy catches up, consistent, once it pauses', async () => {
    // the test makes each flush happen (persistSoon), so the timing is its own
    const { store, session, admin, hash } = await storeWithOneSession()
    /** One flush, done: its PERSIST answered (the session was told what is persisted). */
    const flush = async (): Promise<void> => {
      const before = session.acked.length
      store.persistSoon(session)
      await expect.poll(() => session.acked.length).toBeGreaterThan(before)
    }
    await flush()
    // 15 rounds: the application writes 10 frames, a flush sees them unacknowledged, the client then acknowledges them
    let position = 0
    for (let round = 0; round < 15; round++) {
      for (let i = 0; i < 10; i++) session.journal.push(item(`f${++position}`))
      await flush()
      session.outAcked += session.journal.length
      session.journal = []
      session.attributes.cursor = String(position)
      await flush()
    }
    // the copy was always a state the session was in (positions, journal, cursor together): one interval behind
    // while it wrote; after two flushes with nothing new it is the current state, with no journal left to write
    await flush()
    await flush()
    expect(await admin.hget(hash, 'ob')).toBe(String(position))
    expect(await admin.hget(hash, 'a')).toBe(JSON.stringify({ cursor: String(position) }))
    expect(await admin.llen(`${hash}:j`)).toBe(0)
    // no frame was ever written: each was acknowledged within an interval (without the lag: all 150)
    expect(store.stats().framesPersisted).toBe(0)
    expect(store.stats().lagged).toBeGreaterThan(0)
  })

  it('a copy one interval behind is consistent: its journal, positions and attributes are those of one moment, trimmed by later acknowledgements', () => {
    const base = fakeSession()
    for (let i = 1; i <= 4; i++) base.journal.push(item(`f${i}`))
    base.attributes.cursor = '4'
    const prev = base.snapshot()
    base.journal.push(item('f5'), item('f6'))
    base.outAcked = 3 // the client acknowledged f1–f3
    base.journal = base.journal.slice(3)
    base.attributes.cursor = '6'
    const cur = base.snapshot()
    const lagged = laggedSnapshot(prev, cur)
    expect(lagged).toMatchObject({ outAcked: 3, outSent: 4, attributes: { cursor: '4' } })
    expect(lagged?.journal.map(dec)).toEqual(['f4'])
    // something came in: the current snapshot is persisted (ACKs wait for it)
    expect(laggedSnapshot(prev, { ...cur, received: cur.received + 1 })).toBeUndefined()
    // nothing written since: the current snapshot is persisted (the copy catches up)
    expect(laggedSnapshot(cur, { ...cur, outAcked: 5, journal: cur.journal.slice(2) })).toBeUndefined()
    // whether the client has heard of a recovery is as it is now, not as it was one interval ago
    expect(laggedSnapshot({ ...prev, recovered: true }, cur)).not.toHaveProperty('recovered')
    expect(laggedSnapshot(prev, { ...cur, recovered: true })).toMatchObject({ outAcked: 3, recovered: true })
  })
})

/**
 * A real Redis, an admin connection to it, and three stores on it (`node-a`, `node-b`, `node-c`), each
 * bound to a host holding the sessions in its list of `held` (found by digest, as a server finds them).
 */
async function threeStores (): Promise<{ admin: Redis, stores: RedisStore[], held: StoredSession[][] }> {
  const redis = await startRedisServer()
  cleanups.push(async () => { await redis.close() })
  const admin = new Redis(redis.url)
  cleanups.push(() => { admin.disconnect() })
  const held: StoredSession[][] = [[], [], []]
  const stores = ['a', 'b', 'c'].map((name, i) => {
    const store = redisStore({ redis: redis.url, prefix: 'p:', nodeId: `node-${name}`, persistInterval: 60_000, commandTimeout: 5_000 })
    cleanups.push(async () => { await store.close() })
    store.bind({ find: digest => held[i].find(s => Buffer.from(s.digest).equals(digest)), sessions: () => held[i] })
    return store
  })
  await Promise.all(stores.map(async (s) => { await s.ready() }))
  return { admin, stores, held }
}

describe.runIf(canRun(redisServerTool))('taking a session', () => {
  it('two nodes that take one session at the same moment (a client dialled both): one takes it, the other is refused, retryably', async () => {
    const { admin, stores, held: [held] } = await threeStores()
    const [a, b, c] = stores
    for (let round = 0; round < 5; round++) {
      const { session, hash } = await persistedOne(a, held)
      await admin.hset(hash, 'o', 'node-gone') // its node died: no live node to ask for a handover
      const [rb, rc] = await Promise.allSettled([b.restore(session.digest), c.restore(session.digest)])
      const taken = [rb, rc].filter(r => r.status === 'fulfilled' && r.value !== undefined)
      const refused = [rb, rc].filter(r => r.status === 'rejected')
      expect(taken).toHaveLength(1) // never both: the second would serve the client from a copy the first moves past
      // both read the dead node as its owner before either claimed it (each read is written in the same turn,
      // each claim only after two round trips): the second claim finds another owner and is refused
      expect(refused.map(r => (r as PromiseRejectedResult).reason.name)).toEqual(['StoreUnavailableError'])
      expect(await admin.hget(hash, 'o')).toBe(rb.status === 'fulfilled' ? 'node-b' : 'node-c')
    }
    expect(b.stats().contended + c.stats().contended).toBe(5)

    // the claim itself compares: an owner other than the one read is left alone, epoch and all
    const session = fakeSession()
    held.push(session)
    a.opened(session)
    a.persistSoon(session)
    await expect.poll(() => session.acked.length).toBe(1)
    const hash = `p:s:{${Buffer.from(session.digest).toString('hex')}}`
    const epoch = await admin.hget(hash, 'e')
    expect(await admin.eval(CLAIM, 2, hash, `${hash}:j`, 'node-c', '60000', 'node-somebody-else')).toBe(-1)
    expect(await admin.hget(hash, 'o')).toBe('node-a')
    expect(await admin.hget(hash, 'e')).toBe(epoch)
  })

  it('a node back after Redis was emptied and refilled, another node back first and its window over: the mark is not the one this node knew, so it opens the refill window again', async () => {
    const { admin, stores: [a] } = await threeStores()
    await expect.poll(async () => await admin.exists('p:refill')).toBe(1) // the first start's
    await admin.flushall()
    await admin.set('p:filled', 'node-x:1') // set by a node that was back first; its window has passed
    const unavailable = once(a as unknown as EventTarget, 'unavailable')
    const available = once(a as unknown as EventTarget, 'available')
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes')
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    await unavailable
    await available
    await expect.poll(async () => await admin.exists('p:refill')).toBe(1)
    expect(await admin.get('p:filled')).toBe('node-x:1')
  })

  it('a session a node took and then did not serve (its server was closing) is given back as it was: the next node takes it as a handover', async () => {
    const { admin, stores: [a, b, c], held: [held] } = await threeStores()
    const { session, hash } = await persistedOne(a, held)
    await admin.hset(hash, 'o', '') // released, as a handover leaves it
    const taken = await b.restore(session.digest)
    expect(taken).toMatchObject({ origin: 'handover' })
    expect(await admin.hget(hash, 'o')).toBe('node-b')
    b.unused(session.digest)
    await expect.poll(async () => await admin.hget(hash, 'o')).toBe('')
    expect(await c.restore(session.digest)).toMatchObject({ origin: 'handover', journal: [expect.anything()] })
  })

  it('a recovered copy stays recovered until its client hears so: given back unused, or handed over by the node that recovered it, the next node takes it as recovered', async () => {
    const { admin, stores: [a, b, c], held } = await threeStores()
    const { session, hash } = await persistedOne(a, held[0])
    await admin.hset(hash, 'o', 'node-gone') // its node died
    expect(await b.restore(session.digest)).toMatchObject({ origin: 'recovered' })
    // B's server did not take it (closing): given back, still a copy no client has heard was recovered
    b.unused(session.digest)
    await expect.poll(async () => await admin.hget(hash, 'o')).toBe('')
    expect(await c.restore(session.digest)).toMatchObject({ origin: 'recovered' })
    expect(c.stats().restored).toEqual({ handover: 0, recovered: 1 })

    // C serves it; its client loses the connection before it reads C's RESUME (flag RECOVERED) and comes back
    // to B, which asks C to hand it over: the copy C persists says its client has not heard, and B takes it so
    const served = { ...fakeSession(), id: session.id, digest: session.digest }
    const recoveredSnapshot = (): SessionSnapshot => ({ ...session.snapshot(), recovered: true })
    held[2].push({ ...served, snapshot: recoveredSnapshot, handOver: recoveredSnapshot })
    c.opened(held[2][0])
    expect(await b.restore(session.digest)).toMatchObject({ origin: 'recovered', journal: [expect.anything()] })
    expect(c.stats().handedOver).toBe(1)
    expect(await admin.hget(hash, 'rc')).toBe('1')

    // once its client acknowledged the RESUME that said so, a handover is a handover again
    held[1].push({ ...served, handOver: () => session.snapshot() })
    b.opened(held[1][0])
    expect(await a.restore(session.digest)).toMatchObject({ origin: 'handover' })
    expect(await admin.hget(hash, 'rc')).toBe('0')
  })

  it('a session that completed leaves a marker for ttl: any node is told it completed, a fenced node cannot bring it back; one closed or expired leaves nothing', async () => {
    const redis = await startRedisServer()
    cleanups.push(async () => { await redis.close() })
    const admin = new Redis(redis.url)
    cleanups.push(() => { admin.disconnect() })
    const a = redisStore({ redis: redis.url, prefix: 'p:', nodeId: 'node-a', ttl: 30_000, persistInterval: 60_000, commandTimeout: 5_000 })
    const b = redisStore({ redis: redis.url, prefix: 'p:', nodeId: 'node-b', ttl: 30_000, persistInterval: 60_000, commandTimeout: 5_000 })
    cleanups.push(async () => { await a.close() }, async () => { await b.close() })
    const held: StoredSession[] = []
    a.bind({ find: () => undefined, sessions: () => held })
    b.bind({ find: () => undefined, sessions: () => [] })
    await Promise.all([a.ready(), b.ready()])
    // the refill window a first start opens (Redis held nothing) is over
    await expect.poll(async () => await admin.exists('p:refill')).toBe(1)
    await admin.del('p:refill')
    const done = await persistedOne(a, held)
    const epoch = await admin.hget(done.hash, 'e')
    a.ended(done.session, 'completed')
    await expect.poll(async () => await admin.hgetall(done.hash)).toEqual({ e: epoch, c: '1' })
    expect(await admin.exists(`${done.hash}:j`)).toBe(0)
    const ttl = await admin.pttl(done.hash)
    expect(ttl).toBeGreaterThan(20_000)
    expect(ttl).toBeLessThanOrEqual(30_000)
    expect(a.stats().completed).toBe(1)
    expect(await b.restore(done.session.digest)).toBe('completed')
    // CLAIM itself refuses the marker (a session that completed between a node's read and its claim)
    expect(await admin.eval(CLAIM, 2, done.hash, `${done.hash}:j`, 'node-b', '60000', '')).toBe(-2)
    // a PERSIST from a node the session was taken from, late, is fenced by the epoch the marker keeps
    const stale = String(Number(epoch) - 1)
    expect(await admin.eval(PERSIST, 2, done.hash, `${done.hash}:j`, stale, 'node-x', '30000', done.session.id, '0', '1', '0', '', '0', '', '0', '{}', '0', '1', '0', 'x')).toBe(-1)
    expect(await admin.hgetall(done.hash)).toEqual({ e: epoch, c: '1' })

    for (const how of ['closed', 'expired'] as const) {
      const gone = await persistedOne(a, held)
      a.ended(gone.session, how)
      await expect.poll(async () => await admin.exists(gone.hash, `${gone.hash}:j`)).toBe(0)
      expect(await b.restore(gone.session.digest)).toBeUndefined()
    }
    expect(a.stats().completed).toBe(1)
  })

  it('a session that ends while Redis is away: its keys are forgotten (a completed one marked) once Redis is back, not left for another node to restore', async () => {
    const redis = await startRedisServer()
    cleanups.push(async () => { await redis.close() })
    const admin = new Redis(redis.url)
    cleanups.push(() => { admin.disconnect() })
    const a = redisStore({ redis: redis.url, prefix: 'p:', nodeId: 'node-a', ttl: 30_000, nodeTtl: 600, persistInterval: 60_000, commandTimeout: 300 })
    cleanups.push(async () => { await a.close() })
    const held: StoredSession[] = []
    a.bind({ find: () => undefined, sessions: () => held })
    await a.ready()
    const done = await persistedOne(a, held)
    const closed = await persistedOne(a, held)
    const epoch = await admin.hget(done.hash, 'e')
    const unavailable = once(a as unknown as EventTarget, 'unavailable')
    const available = once(a as unknown as EventTarget, 'available')
    await admin.call('CLIENT', 'PAUSE', '1500', 'ALL') // Redis answers no other client for 1.5 s
    done.session.journal.push(item('f2'))
    a.persistSoon(done.session) // meets the paused Redis: the store is node-local
    await unavailable
    a.ended(done.session, 'completed')
    a.ended(closed.session, 'closed')
    expect(a.stats()).toMatchObject({ mode: 'local', held: 0, owed: 2 })
    await available
    await expect.poll(async () => await admin.hgetall(done.hash)).toEqual({ e: epoch, c: '1' })
    await expect.poll(async () => await admin.exists(closed.hash, `${closed.hash}:j`)).toBe(0)
    expect(await admin.exists(`${done.hash}:j`)).toBe(0)
    expect(await admin.pttl(done.hash)).toBeGreaterThan(20_000)
    expect(a.stats()).toMatchObject({ completed: 1, owed: 0 })
  })
})
