import { once } from 'node:events'
import type { Socket } from 'node:net'
import { connect as netConnect, createServer } from 'node:net'
import type { RedisServer } from '@proto/stage-compliance'
import { canRun, redisServerTool, startRedisServer } from '@proto/stage-compliance'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import type { RedisStoreEvents } from '../src/index.js'
import { dec, item, movingClient, startNode } from './helpers.js'

const runs = canRun(redisServerTool)
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

/** Writes `c<from>`…`c<to>` and waits until their answers arrived. */
async function exchange (got: string[], from: number, to: number, push: (f: ReturnType<typeof item>) => void): Promise<void> {
  for (let i = from; i <= to; i++) push(item(`c${i}`))
  await expect.poll(() => got.length, { timeout: 10_000 }).toBe(to)
}

function pushable (): { source: AsyncIterable<ReturnType<typeof item>>, push: (f: ReturnType<typeof item>) => void } {
  const queue: Array<ReturnType<typeof item>> = []
  let wake: (() => void) | undefined
  return {
    push: (f) => { queue.push(f); wake?.() },
    source: (async function * () {
      for (;;) {
        while (queue.length > 0) yield queue.shift() as ReturnType<typeof item>
        await new Promise<void>((resolve) => { wake = resolve })
        wake = undefined
      }
    })()
  }
}

async function setup (redis: RedisServer): Promise<{ a: Awaited<ReturnType<typeof startNode>>, b: Awaited<ReturnType<typeof startNode>>, client: ReturnType<typeof movingClient>, target: { port: number }, got: string[], push: (f: ReturnType<typeof item>) => void }> {
  const a = await startNode('a', redis.url, { commandTimeout: 300 })
  const b = await startNode('b', redis.url, { commandTimeout: 300 })
  const target = { port: a.port }
  const client = movingClient(target)
  cleanups.push(async () => { await client.close({ signal: AbortSignal.timeout(1_000) }).catch(() => {}); await a.close(); await b.close() })
  const got: string[] = []
  void (async () => { for await (const f of client.source) got.push(dec(f)) })().catch(() => {})
  const { source, push } = pushable()
  client.sink(source).catch(() => {})
  return { a, b, client, target, got, push }
}

const expected = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`)

describe.runIf(runs)('Redis faults', () => {
  it('Redis stopped mid-run: typed event, sessions carry on node-local with nothing lost; restarted empty: everything persisted again, and a handover is exact again', async () => {
    const redis = await startRedisServer()
    cleanups.push(async () => { await redis.close() })
    const { a, b, client, target, got, push } = await setup(redis)
    await exchange(got, 1, 50, push)

    const unavailable = once(a.store as unknown as EventTarget, 'unavailable') as Promise<[CustomEvent<RedisStoreEvents['unavailable']>]>
    await redis.stop()
    const [{ detail }] = await unavailable
    expect(detail.error.name).toBe('StoreUnavailableError')
    expect(detail.sessions).toBe(1)
    expect(a.store.mode).toBe('local')
    // the session goes on, acknowledged as on one node: nothing stalls, nothing is lost
    await exchange(got, 51, 150, push)
    // a RESUME that needs the store is refused as retryable meanwhile (not as unknown)
    expect(b.server.stats().refused.unknown).toBe(0)
    // a drain meanwhile hands nothing over: the session would exist nowhere; it stays served here
    const moved: unknown[] = []
    a.sessions[0].addEventListener('moved', (e) => { moved.push(e.detail) })
    await expect(a.store.drain()).rejects.toMatchObject({ name: 'StoreUnavailableError' })
    expect(moved).toEqual([])
    expect(a.server.stats().sessions).toBe(1)
    await exchange(got, 151, 160, push)

    const available = once(a.store as unknown as EventTarget, 'available')
    await redis.start() // empty: it kept nothing
    await available
    expect(a.store.mode).toBe('durable')
    const admin = new Redis(redis.url)
    cleanups.push(async () => { admin.disconnect() })
    await expect.poll(async () => await admin.exists(await admin.keys('test:s:{*}')), { timeout: 5_000 }).toBe(1)
    await exchange(got, 161, 200, push)

    target.port = b.port
    client.reconnect()
    await exchange(got, 201, 300, push)
    expect([...a.took, ...b.took]).toEqual(expected('c', 300))
    expect(got).toEqual(expected('s', 300))
    expect(b.server.stats().restored.handover).toBe(1)
    expect(b.store.stats().handovers).toMatchObject({ requested: 1, timedOut: 0 })
    expect(client.stats().possibleDuplicates).toBe(0)
  })

  it('Redis restarted empty: a session its node has not written back yet is refused as retryable on another node, not lost; once back, it is handed over exactly', async () => {
    const redis = await startRedisServer()
    cleanups.push(async () => { await redis.close() })
    const { a, b, client, target, got, push } = await setup(redis)
    await exchange(got, 1, 20, push)
    const lost: unknown[] = []
    client.addEventListener('session-lost', (e) => { lost.push(e.detail) })
    const aBack = once(a.store as unknown as EventTarget, 'available')
    const bBack = once(b.store as unknown as EventTarget, 'available')
    await redis.stop()
    await redis.start() // empty
    await Promise.all([aBack, bBack])
    const admin = new Redis(redis.url)
    cleanups.push(async () => { admin.disconnect() })
    // as if node A had not reconnected yet: its session is not in Redis
    await expect.poll(async () => (await admin.keys('test:s:*')).length, { timeout: 5_000 }).toBeGreaterThan(0)
    await admin.del(...await admin.keys('test:s:*'))
    target.port = b.port
    client.reconnect()
    await expect.poll(() => b.server.stats().refused.store, { timeout: 5_000 }).toBeGreaterThan(0)
    expect(b.server.stats().refused.unknown).toBe(0)
    expect(lost).toEqual([])
    // A writes it back (here: drains it, as on shutdown); the client's next attempt takes it, exactly
    await a.store.drain()
    await exchange(got, 21, 40, push)
    expect([...a.took, ...b.took]).toEqual(expected('c', 40))
    expect(got).toEqual(expected('s', 40))
    expect(lost).toEqual([])
    expect(client.stats().possibleDuplicates).toBe(0)
  })

  it('Redis restarted empty, and the first node back started while it was away: the refill window opens all the same, so a session an old node holds is refused as retryable, not unknown, until it is written back', async () => {
    const redis = await startRedisServer()
    cleanups.push(async () => { await redis.close() })
    // node A reaches Redis through a relay that the test holds shut after the restart: A comes back last
    let open = true
    const links = new Set<Socket>()
    const relay = createServer((down) => {
      if (!open) { down.destroy(); return }
      const up = netConnect(redis.port, '127.0.0.1')
      links.add(down).add(up)
      down.pipe(up).pipe(down)
      down.on('error', () => {})
      up.on('error', () => { down.destroy() })
      down.on('close', () => { up.destroy(); links.delete(down) })
      up.on('close', () => { down.destroy(); links.delete(up) })
    })
    await new Promise<void>((resolve) => { relay.listen(0, '127.0.0.1', resolve) })
    cleanups.push(async () => { relay.close(); for (const l of links) l.destroy() })
    const a = await startNode('a', `redis://127.0.0.1:${(relay.address() as { port: number }).port}`, { commandTimeout: 300 })
    const target = { port: a.port }
    const client = movingClient(target)
    cleanups.push(async () => { await client.close({ signal: AbortSignal.timeout(1_000) }).catch(() => {}); await a.close() })
    const got: string[] = []
    void (async () => { for await (const f of client.source) got.push(dec(f)) })().catch(() => {})
    const { source, push } = pushable()
    client.sink(source).catch(() => {})
    const lost: unknown[] = []
    client.addEventListener('session-lost', (e) => { lost.push(e.detail) })
    await exchange(got, 1, 20, push)

    open = false
    for (const l of links) l.destroy()
    await redis.stop()
    await redis.start() // empty
    const c = await startNode('c', redis.url, { commandTimeout: 300 }) // its first connection: Redis holds nothing
    cleanups.push(async () => { await c.close() })
    target.port = c.port
    client.reconnect()
    await expect.poll(() => c.server.stats().refused.store, { timeout: 5_000 }).toBeGreaterThan(0)
    expect(c.server.stats().refused.unknown).toBe(0)
    expect(lost).toEqual([])
    open = true // A reconnects, writes its session back, and hands it to C on request
    await exchange(got, 21, 40, push)
    expect([...a.took, ...c.took]).toEqual(expected('c', 40))
    expect(got).toEqual(expected('s', 40))
    expect(lost).toEqual([])
  })

  it('drain() while Redis stopped answering and nothing told the store yet: nothing is handed over, the session stays served', async () => {
    const redis = await startRedisServer()
    cleanups.push(async () => { await redis.close() })
    const { a, got, push } = await setup(redis)
    await exchange(got, 1, 20, push)
    const moved: unknown[] = []
    a.sessions[0].addEventListener('moved', (e) => { moved.push(e.detail) })
    const admin = new Redis(redis.url)
    cleanups.push(async () => { admin.disconnect() })
    await admin.call('CLIENT', 'PAUSE', '1500', 'ALL') // Redis answers no one for 1.5 s; the store sends nothing meanwhile
    expect(a.store.mode).toBe('durable')
    await expect(a.store.drain()).rejects.toMatchObject({ name: 'StoreUnavailableError' })
    expect(moved).toEqual([])
    expect(a.server.stats().sessions).toBe(1)
    expect(a.store.stats()).toMatchObject({ handedOver: 0, held: 1 })
    await exchange(got, 21, 40, push)
    expect(a.took).toEqual(expected('c', 40))
  })

  it('a Redis slower than commandTimeout counts as unavailable, and recovers when it answers again', async () => {
    const redis = await startRedisServer()
    cleanups.push(async () => { await redis.close() })
    const { a, got, push } = await setup(redis)
    await exchange(got, 1, 20, push)
    const unavailable = once(a.store as unknown as EventTarget, 'unavailable')
    const available = once(a.store as unknown as EventTarget, 'available')
    const admin = new Redis(redis.url)
    cleanups.push(async () => { admin.disconnect() })
    await admin.call('CLIENT', 'PAUSE', '1500', 'ALL') // Redis answers no other client for 1.5 s
    await new Promise(resolve => setTimeout(resolve, 50))
    await exchange(got, 21, 60, push) // changes to persist meet the sleeping Redis
    await unavailable
    await available
    await exchange(got, 61, 80, push)
    expect(a.took).toEqual(expected('c', 80))
    expect(got).toEqual(expected('s', 80))
    expect(a.store.stats().outages).toBeGreaterThanOrEqual(1)
  })

  it('keys: one hash tag per session, the token never stored (only its SHA-256), expiry set', async () => {
    const redis = await startRedisServer()
    cleanups.push(async () => { await redis.close() })
    const { client, got, push } = await setup(redis)
    await exchange(got, 1, 5, push)
    const admin = new Redis(redis.url)
    cleanups.push(async () => { admin.disconnect() })
    const keys = (await admin.keys('test:s:*')).sort()
    // the hash, and the journal list while something is unacknowledged: both under the same hash tag
    expect(keys[0]).toMatch(/^test:s:\{[0-9a-f]{64}\}$/)
    for (const k of keys.slice(1)) expect(k).toBe(`${keys[0]}:j`)
    expect(await admin.pttl(keys[0])).toBeGreaterThan(0)
    const token = (client as unknown as { state: { token: Uint8Array } }).state.token
    const dump = Buffer.concat([Buffer.from(keys.join()), ...(await admin.hvalsBuffer(keys[0]))])
    expect(dump.includes(Buffer.from(token))).toBe(false)
    expect(dump.includes(Buffer.from(Buffer.from(token).toString('hex')))).toBe(false)
  })

  it('ttl and nodeTtl with a fraction of a millisecond: Redis gets whole milliseconds, and the store stays durable', async () => {
    const redis = await startRedisServer()
    cleanups.push(async () => { await redis.close() })
    // Redis refuses PX 600.5 ("value is not an integer"): each liveness write failed, and the store flapped
    // between durable and node-local while Redis was up
    const a = await startNode('a', redis.url, { nodeTtl: 600.5, ttl: 60_000.5 })
    cleanups.push(async () => { await a.close() })
    let unavailable = 0
    ;(a.store as unknown as EventTarget).addEventListener('unavailable', () => { unavailable++ })
    const client = movingClient({ port: a.port })
    cleanups.push(async () => { await client.close({ signal: AbortSignal.timeout(1_000) }).catch(() => {}) })
    const got: string[] = []
    void (async () => { for await (const f of client.source) got.push(dec(f)) })().catch(() => {})
    const { source, push } = pushable()
    client.sink(source).catch(() => {})
    await exchange(got, 1, 3, push)
    await new Promise(resolve => setTimeout(resolve, 700)) // past a liveness refresh (every nodeTtl / 3)
    expect(unavailable).toBe(0)
    expect(a.store.mode).toBe('durable')
    const admin = new Redis(redis.url)
    cleanups.push(async () => { admin.disconnect() })
    const [session] = await admin.keys('test:s:*')
    expect(await admin.pttl(session)).toBeGreaterThan(59_000)
    const nodes = await admin.keys('test:n:*')
    expect(nodes).toHaveLength(1)
    expect(await admin.pttl(nodes[0])).toBeGreaterThan(0)
  })

  it('a node whose session another node took without a handover is fenced by the epoch: it stops serving it (typed event)', async () => {
    const redis = await startRedisServer()
    cleanups.push(async () => { await redis.close() })
    const { a, got, push } = await setup(redis)
    await exchange(got, 1, 10, push)
    const admin = new Redis(redis.url)
    cleanups.push(async () => { admin.disconnect() })
    const [hash] = await admin.keys('test:s:{*}')
    await admin.hincrby(hash, 'e', 1) // what another node's CLAIM does
    const fenced = once(a.store as unknown as EventTarget, 'fenced') as Promise<[CustomEvent<RedisStoreEvents['fenced']>]>
    const moved = once(a.sessions[0] as unknown as EventTarget, 'moved')
    push(item('c11'))
    const [{ detail }] = await fenced
    expect(detail.error.name).toBe('SessionFencedError')
    await moved
    expect(a.server.stats().sessions).toBe(0)
    expect(a.store.stats().fenced).toBe(1)
  })
})
