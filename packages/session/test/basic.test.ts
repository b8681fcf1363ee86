import { getEventListeners } from 'node:events'
import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import type { ByteDuplex } from '@proto/interface'
import { pushable } from '@proto/interface'
import { countOver } from '@proto/stage-compliance'
import { connect } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { SESSION_FLAG } from '../src/index.js'
import type { Harness } from './helpers/stack.js'
import { echo, harness, item, num } from './helpers/stack.js'

let h: Harness | undefined
afterEach(async () => { await h?.close(); h = undefined })

describe('a session over real TCP', () => {
  it('carries items both ways exactly once, in order, and ends cleanly', async () => {
    h = await harness(echo)
    const client = h.client()
    const got: number[] = []
    const reading = (async () => { for await (const f of client.source) got.push(num(f)) })()
    await client.sink(Array.from({ length: 1_000 }, (_, i) => item(i)))
    await reading
    await client.close()
    expect(got).toEqual(Array.from({ length: 1_000 }, (_, i) => i))
    const stats = client.stats()
    expect(stats.link).toMatchObject({ accepted: 1_000, confirmed: 1_000, unconfirmed: 0, unsent: 0 })
    expect(stats).toMatchObject({ delivered: 1_000, deduplicated: 0, sessionsLost: 0 })
    expect(h.sessions.length).toBe(1)
    expect(h.sessions[0].stats()).toMatchObject({ delivered: 1_000 })
  })

  it("forwards its link's status events as its own without a listener on the link, and a server session follows its connections", async () => {
    h = await harness(echo)
    const client = h.client()
    const seen: string[] = []
    for (const type of ['connecting', 'connected', 'disconnected', 'reconnecting', 'closed'] as const) {
      client.addEventListener(type, (e) => { seen.push(e.detail.type) })
    }
    const got: number[] = []
    const reading = (async () => { for await (const f of client.source) { got.push(num(f)); if (got.length === 2) break } })()
    const out = pushable<Frame>()
    const writing = client.sink(out)
    out.push(item(0))
    await expect.poll(() => got.length).toBe(1)
    const server = h.sessions[0]
    expect(h.server.stats()).toMatchObject({ sessions: 1, detached: 0 })
    // one callback carries every event: neither end's link has a listener of its own
    for (const session of [client, server]) {
      const link = (session as unknown as { link: EventTarget }).link
      for (const type of ['connecting', 'connected', 'disconnected', 'reconnecting', 'failed', 'closed']) {
        expect(getEventListeners(link, type)).toHaveLength(0)
      }
    }
    client.reconnect()
    out.push(item(1))
    await reading
    expect(h.server.stats()).toMatchObject({ sessions: 1, detached: 0, resumed: 1 })
    out.end()
    await writing
    await client.close()
    expect(seen).toEqual(['connecting', 'connected', 'disconnected', 'connecting', 'connected', 'closed'])
    // the server session saw its link close, and left the server
    await expect.poll(() => h?.server.stats().sessions).toBe(0)
  })

  it('keeps the attributes the application sets, on either end', async () => {
    h = await harness(echo)
    const client = h.client()
    expect(client.getAttribute('room')).toBeUndefined()
    client.setAttribute('gone', undefined) // removing what was never set: nothing
    client.setAttribute('room', 'lobby')
    client.setAttribute('cursor', '17')
    client.setAttribute('room', 'kitchen')
    client.setAttribute('cursor', undefined)
    expect(client.getAttribute('room')).toBe('kitchen')
    expect(client.getAttribute('cursor')).toBeUndefined()
    expect((client as unknown as { attributes(): Record<string, string> }).attributes()).toEqual({ room: 'kitchen' })
    // strings only (a durable store keeps them as they are): anything else is refused, and nothing changes
    for (const [key, value] of [['room', 42], ['room', null], ['room', { a: 1 }], [7, 'x']] as const) {
      expect(() => { client.setAttribute(key as never, value as never) }).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    }
    expect((client as unknown as { attributes(): Record<string, string> }).attributes()).toEqual({ room: 'kitchen' })
  })

  it('a batch source (pushable) is taken a batch at a time: exactly once, in order, across a reconnect in the middle', async () => {
    h = await harness(echo)
    const client = h.client()
    const got: number[] = []
    const reading = (async () => { for await (const f of client.source) { got.push(num(f)); if (got.length === 2_000) break } })()
    const out = pushable<Frame>({ maxItems: 256 })
    const writing = client.sink(out)
    for (let i = 0; i < 2_000; i++) {
      if (out.room === 0) await out.onRoom()
      out.push(item(i))
      if (i === 1_000) {
        await expect.poll(() => got.length).toBeGreaterThan(0) // the session is established and carrying items
        client.reconnect()
      }
    }
    await reading
    out.end()
    await writing
    expect(got).toEqual(Array.from({ length: 2_000 }, (_, i) => i))
    expect(client.stats().link).toMatchObject({ accepted: 2_000, unsent: 0, rejected: 0 })
    expect(client.stats()).toMatchObject({ sessionsLost: 0, resumes: 1 })
  })

  it('a version 1 client (HELLO without the session flag) is served through the plain event, on the same port', async () => {
    h = await harness(echo)
    h.server.addEventListener('plain', (e) => { void e.detail.sink(e.detail.source).catch(() => {}) })
    const v1 = heartbeat(codec(await connect({ host: '127.0.0.1', port: h.port })), { hello: true })
    const got: number[] = []
    await Promise.all([
      v1.sink([item(7), item(8)]),
      (async () => { for await (const f of v1.source) got.push(num(f)) })()
    ])
    expect(got).toEqual([7, 8])
    expect(h.server.stats()).toMatchObject({ plain: 1, sessions: 0 })
    await v1.close()
  })

  it('an idle session pings about once per interval between its two ends, not once per end (crossing pings settled)', async () => {
    const INTERVAL = 100
    const links: HeartbeatDuplex[] = []
    const hb = { interval: INTERVAL, timeout: 10 * INTERVAL }
    const stack = (conn: ByteDuplex): HeartbeatDuplex => {
      const link = heartbeat(codec(conn), { ...hb, hello: true, helloFlags: SESSION_FLAG })
      links.push(link)
      return link
    }
    h = await harness(echo, { stack })
    const client = h.client({ stack })
    const got: number[] = []
    const reading = (async () => { for await (const f of client.source) got.push(num(f)) })()
    const out = pushable<Frame>()
    const writing = client.sink(out)
    out.push(item(0))
    await expect.poll(() => got.length).toBe(1)
    expect(links).toHaveLength(2) // one connection: the client's heartbeat and the server's
    const pings = (): number => links[0].stats().pingsSent + links[1].stats().pingsSent
    // a few intervals to settle (each crossing is settled with probability ½), then count
    const { count, elapsed } = await countOver(pings, 15 * INTERVAL, 20 * INTERVAL)
    // two heartbeats in step send two pings per interval; settled, one (generous: timers fire late on a busy machine)
    expect(count / (elapsed / INTERVAL)).toBeGreaterThanOrEqual(0.5)
    expect(count / (elapsed / INTERVAL)).toBeLessThanOrEqual(1.3)
    // and the session is still the one it was: nothing lost, nothing resumed
    out.push(item(1))
    await expect.poll(() => got.length).toBe(2)
    out.end()
    await writing
    await client.close()
    await reading
    expect(got).toEqual([0, 1])
    expect(client.stats()).toMatchObject({ sessionsLost: 0, resumes: 0 })
  })
})

describe('one consumer of a session\'s source', () => {
  it('a second read while one waits is refused with InvalidParametersError; the first is answered', async () => {
    h = await harness(echo)
    const client = h.client()
    const first = client.source[Symbol.asyncIterator]().next()
    const second = client.source[Symbol.asyncIterator]().next()
    await expect(second).rejects.toMatchObject({ name: 'InvalidParametersError' })
    await client.sink([item(7)])
    const r = await first
    expect(r.done === true ? undefined : num(r.value)).toBe(7)
  })
})
