import { describe, expect, it, vi } from 'vitest'
import type { OverflowPolicy, ReconnectInit } from '../src/index.js'
import { defaultSize } from '../src/index.js'
import { nextEvent, settle } from './helpers/events.js'
import type { Gated } from './helpers/gated.js'
import { gated as gatedLink } from './helpers/gated.js'
import { ledgerSum } from './helpers/ledger.js'
import { durablesUnderFakeTimers } from './helpers/open.js'

const open = durablesUnderFakeTimers()

function gated (init: ReconnectInit<any> = {}): Gated<any> {
  return gatedLink(open, init)
}

function * numbers (n: number, counter: { pulled: number }): Generator<number> {
  for (let i = 0; i < n; i++) {
    counter.pulled++
    yield i
  }
}

describe('writes while disconnected', () => {
  it('wait (default): the producer is held at maxMessages, then everything goes in order', async () => {
    const { d, up, conns } = gated({ buffer: { maxMessages: 4 } })
    const counter = { pulled: 0 }
    const writing = d.sink(numbers(10, counter))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(counter.pulled).toBe(5)
    expect(d.stats()).toMatchObject({ buffered: 4, dropped: 0 })
    up()
    await vi.advanceTimersByTimeAsync(0)
    await writing
    expect(conns[0].toFar).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it.each<[OverflowPolicy, number[], number]>([
    ['drop-oldest', [6, 7, 8, 9], 6],
    ['drop-newest', [0, 1, 2, 3], 6]
  ])('%s keeps the buffer bounded, counts drops and keeps FIFO order', async (overflow, delivered, dropped) => {
    const { d, up, conns } = gated({ buffer: { maxMessages: 4, overflow } })
    const counter = { pulled: 0 }
    const writing = settle(d.sink(numbers(10, counter)))
    await vi.advanceTimersByTimeAsync(0)
    expect(counter.pulled).toBe(10)
    expect(d.stats()).toMatchObject({ buffered: 4, dropped })
    up()
    await vi.advanceTimersByTimeAsync(0)
    expect((await writing).ok).toBe(true)
    expect(conns[0].toFar).toEqual(delivered)
  })

  it('error: the sink rejects with BufferOverflowError, keeps what it had, and a new sink may write on', async () => {
    const { d, up, conns } = gated({ buffer: { maxMessages: 4, overflow: 'error' } })
    const counter = { pulled: 0 }
    const w = await settle(d.sink(numbers(10, counter)))
    expect(w.ok).toBe(false)
    if (!w.ok) expect(w.error.name).toBe('BufferOverflowError')
    expect(counter.pulled).toBe(5)
    up()
    await vi.advanceTimersByTimeAsync(0)
    await d.sink([100, 101])
    expect(conns[0].toFar).toEqual([0, 1, 2, 3, 100, 101])
  })

  it('bounds the buffer in bytes too, and takes one oversized item into an empty buffer', async () => {
    const { d, up, conns } = gated({ buffer: { maxBytes: 10, overflow: 'drop-newest' } })
    const chunk = (n: number, size: number): Uint8Array => new Uint8Array(size).fill(n)
    void d.sink([chunk(1, 64), chunk(2, 4), chunk(3, 6), chunk(4, 4), chunk(5, 1)])
    await vi.advanceTimersByTimeAsync(0)
    // 64 B goes into the empty buffer; nothing else fits beside it.
    expect(d.stats()).toMatchObject({ buffered: 1, bufferedBytes: 64, dropped: 4 })
    up()
    await vi.advanceTimersByTimeAsync(0)
    expect(conns[0].toFar.map((c: Uint8Array) => c[0])).toEqual([1])
  })

  it('stays bounded while connected: a peer that does not read holds the producer back', async () => {
    const { d, up, conns } = gated({ buffer: { maxMessages: 8, overflow: 'drop-oldest' } })
    up()
    await vi.advanceTimersByTimeAsync(0)
    const counter = { pulled: 0 }
    const writing = d.sink(numbers(5_000, counter))
    await vi.advanceTimersByTimeAsync(1_000)
    // The in-memory connection holds 1 000 items, plus the one its sink waits on, plus the buffer.
    expect(counter.pulled).toBeLessThanOrEqual(1_000 + 1 + 8 + 1)
    expect(d.stats().dropped).toBe(0)
    const far = conns[0].far
    let got = 0
    const reading = (async () => { for await (const n of far.source) { expect(n).toBe(got++) } })()
    await writing
    await d.close()
    await reading
    expect(got).toBe(5_000)
  })

  it('switches from waiting to the drop policy when the connection is lost', async () => {
    const { d, up, conns } = gated({ buffer: { maxMessages: 2, overflow: 'drop-oldest' }, jitter: 'none', initialDelay: 1_000, minStableTime: 0 })
    up()
    await vi.advanceTimersByTimeAsync(0)
    const counter = { pulled: 0 }
    void d.sink(numbers(2_000, counter)).catch(() => {})
    await vi.advanceTimersByTimeAsync(0)
    const before = counter.pulled
    conns[0].reset(new Error('gone'))
    await nextEvent(d, 'reconnecting')
    await vi.advanceTimersByTimeAsync(0)
    expect(counter.pulled).toBe(2_000)
    expect(before).toBeLessThan(2_000)
    expect(d.stats().buffered).toBe(2)
    up()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(conns[1].toFar).toEqual([1998, 1999])
  })
})

describe('what happens to items a lost connection had', () => {
  it('never resends them and counts them as unconfirmed', async () => {
    const { d, up, conns } = gated({ jitter: 'none', initialDelay: 10, minStableTime: 0 })
    up()
    await vi.advanceTimersByTimeAsync(0)
    const writing = d.sink([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    await vi.advanceTimersByTimeAsync(0)
    expect(conns[0].toFar.length).toBe(10)
    conns[0].reset(new Error('reset before the peer read anything'))
    const ev = await nextEvent(d, 'disconnected')
    expect(ev).toMatchObject({ reason: 'read-error', handed: 10 })
    up()
    await vi.advanceTimersByTimeAsync(10)
    await writing
    expect(conns[1].toFar).toEqual([])
    expect(d.stats()).toMatchObject({ handed: 10, unconfirmed: 10, unsent: 0 })
  })

  it('a clean close counts nothing as unconfirmed', async () => {
    const { d, up, conns } = gated()
    up()
    await vi.advanceTimersByTimeAsync(0)
    await d.sink([1, 2, 3])
    await d.close()
    expect(conns[0].toFar).toEqual([1, 2, 3])
    expect(d.stats()).toMatchObject({ handed: 3, unconfirmed: 0, unsent: 0, status: 'closed' })
  })
})

describe('close and abort', () => {
  it('close() waits for the flush up to closeTimeout, then aborts the connection and counts what it held', async () => {
    const { d, up, conns } = gated({ closeTimeout: 2_000 })
    up()
    await vi.advanceTimersByTimeAsync(0)
    const writing = settle(d.sink(Array.from({ length: 1_100 }, (_, i) => i)))
    await vi.advanceTimersByTimeAsync(0)
    let closed = false
    const closing = d.close().then(() => { closed = true })
    await vi.advanceTimersByTimeAsync(1_999)
    expect(closed).toBe(false)
    expect(d.status).toBe('closing')
    await vi.advanceTimersByTimeAsync(1)
    await closing
    expect(conns[0].aborted).toBe(true)
    const w = await writing
    expect(w.ok).toBe(false)
    if (!w.ok) expect(w.error.name).toBe('ClosedError')
    const stats = d.stats()
    expect(stats.unsent + stats.handed).toBe(1_100)
    expect(stats.unconfirmed).toBe(stats.handed)
  })

  it('abort() overtaking a close() in progress settles both at once', async () => {
    const { d, up } = gated()
    up()
    await vi.advanceTimersByTimeAsync(0)
    const writing = settle(d.sink(Array.from({ length: 1_100 }, (_, i) => i)))
    await vi.advanceTimersByTimeAsync(0)
    const closing = d.close()
    const reason = new Error('shutting down now')
    d.abort(reason)
    await closing
    const w = await writing
    expect(w.ok).toBe(false)
    if (!w.ok) expect(w.error).toBe(reason)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('write after close is a ClosedError, and close() is idempotent', async () => {
    const { d } = gated()
    const p1 = d.close()
    expect(d.close()).toBe(p1)
    await p1
    const w = await settle(d.sink([1]))
    expect(w.ok).toBe(false)
    if (!w.ok) expect(w.error.name).toBe('ClosedError')
  })
})

describe('status', () => {
  it('the status iterator keeps the most recent events for a slow reader and ends after closed', async () => {
    const { d, conns, up } = gated({ statusBuffer: 4, jitter: 'none', initialDelay: 1, minStableTime: 0 })
    const statuses = d.statusIterator()
    for (let i = 0; i < 20; i++) {
      up()
      await vi.advanceTimersByTimeAsync(1)
      conns[conns.length - 1].reset(new Error(`cut ${i}`))
      await vi.advanceTimersByTimeAsync(0)
    }
    await d.close()
    const seen = []
    for await (const s of statuses) seen.push(s.type)
    expect(seen.length).toBe(4)
    expect(seen[seen.length - 1]).toBe('closed')
  })

  it('a reader that keeps up sees every event in order', async () => {
    const { d, up, conns } = gated({ jitter: 'none', initialDelay: 1, minStableTime: 0 })
    const seen: string[] = []
    const reading = (async () => { for await (const s of d.statusIterator()) seen.push(s.type) })()
    up()
    await vi.advanceTimersByTimeAsync(0)
    conns[0].reset(new Error('cut'))
    up()
    await vi.advanceTimersByTimeAsync(1)
    await d.close()
    await reading
    expect(seen).toEqual(['connecting', 'connected', 'disconnected', 'reconnecting', 'connecting', 'connected', 'closed'])
  })

  it('a peer that ends cleanly is an outage by default, and the end of an exchange once we ended ours', async () => {
    const { d, up, conns } = gated({ jitter: 'none', initialDelay: 1, minStableTime: 0 })
    up()
    await vi.advanceTimersByTimeAsync(0)
    conns[0].endFromFar()
    expect(await nextEvent(d, 'disconnected')).toMatchObject({ reason: 'peer-ended', error: undefined })
    up()
    await vi.advanceTimersByTimeAsync(1)
    await d.sink([7])
    const reading = (async () => { const got = []; for await (const n of d.source) got.push(n); return got })()
    const far = conns[1].far
    await far.sink([42])
    expect(await reading).toEqual([42])
    await vi.advanceTimersByTimeAsync(0)
    expect(d.status).toBe('closed')
  })

  it('a peer that ends while items we wrote are still buffered is an outage: they go to the next connection', async () => {
    // the far side takes two items and reads no more; our source has ended, four items wait in the buffer
    const { d, up, conns } = gatedLink(open, { jitter: 'none', initialDelay: 1, minStableTime: 0 }, 2)
    const writing = settle(d.sink([1, 2, 3, 4, 5, 6, 7]))
    up()
    await vi.advanceTimersByTimeAsync(0)
    const before = d.stats()
    expect(before.buffered).toBeGreaterThan(0)
    conns[0].endFromFar()
    expect(await nextEvent(d, 'disconnected')).toMatchObject({ reason: 'peer-ended', handed: before.inFlight })
    up()
    await vi.advanceTimersByTimeAsync(1)
    const second = []
    for await (const n of conns[1].far.source) second.push(n)
    expect(second).toEqual([1, 2, 3, 4, 5, 6, 7].slice(before.inFlight))
    expect(await writing).toEqual({ ok: true, value: undefined })
    const s = d.stats()
    expect(s).toMatchObject({ accepted: 7, unconfirmed: before.inFlight, buffered: 0 })
    expect(ledgerSum(s)).toBe(7)
  })
})

describe('defaultSize (the default buffer.size)', () => {
  it('measures bytes, frames, byte lists and anything with a byteLength; anything else is 0', () => {
    expect(defaultSize(new Uint8Array(7))).toBe(7)
    expect(defaultSize(Buffer.alloc(9).subarray(2, 5))).toBe(3)
    expect(defaultSize(new Uint16Array(4))).toBe(8) // a byteLength, not an element count
    expect(defaultSize({ type: 0, body: new Uint8Array(64) })).toBe(64)
    expect(defaultSize({ type: 0, body: { byteLength: 7, length: 7 } })).toBe(7) // a byte list (Uint8ArrayList)
    expect(defaultSize({ body: new DataView(new ArrayBuffer(5)) })).toBe(5)
    expect(defaultSize({ byteLength: 11, body: new Uint8Array(2) })).toBe(11) // the item's own byteLength first
    expect(defaultSize(new ArrayBuffer(6))).toBe(6)
    for (const none of [undefined, null, 'text', 12, {}, { body: 'text' }, { body: null }]) expect(defaultSize(none)).toBe(0)
  })
})
