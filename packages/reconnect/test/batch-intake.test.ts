import type { BatchIterator } from '@proto/interface'
import { pushable } from '@proto/interface'
import { describe, expect, it, vi } from 'vitest'
import type { DurableDuplex } from '../src/index.js'
import { reconnect } from '../src/index.js'
import { batches, numbered } from './helpers/batches.js'
import { nextEvent, settle } from './helpers/events.js'
import { gated } from './helpers/gated.js'
import { ledger } from './helpers/ledger.js'
import { durablesUnderFakeTimers, RETAIN } from './helpers/open.js'

const open = durablesUnderFakeTimers()

function expectLedger (d: DurableDuplex<number>, counts: Record<string, number> = {}): void {
  const s = d.stats()
  expect(ledger(s)).toMatchObject({ sum: s.accepted, ...counts })
}

describe('batch intake: a sink source that offers nextBatch() is read a batch at a time', () => {
  it('takes whole batches (never next()), and across a reconnect hands the unconfirmed ones again exactly once, in order', async () => {
    const { d, up, conns } = gated<number>(open, RETAIN)
    up()
    await vi.advanceTimersByTimeAsync(0)
    const source = pushable<number>()
    const it = source[Symbol.asyncIterator]()
    const calls = { next: 0, nextBatch: 0 }
    const counted = {
      [Symbol.asyncIterator]: () => ({
        next: async () => { calls.next++; return await it.next() },
        nextBatch: async () => { calls.nextBatch++; return await it.nextBatch() },
        return: async () => await it.return?.() ?? { done: true, value: undefined }
      })
    }
    for (let i = 0; i < 10; i++) source.push(i)
    const writing = d.sink(counted)
    await vi.advanceTimersByTimeAsync(0)
    expect(conns[0].toFar).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(calls).toEqual({ next: 0, nextBatch: 2 }) // one batch of ten, then a read that waits
    expectLedger(d, { accepted: 10, retained: 10 })
    d.confirm(4)
    conns[0].reset(new Error('cut'))
    expect(await nextEvent(d, 'disconnected')).toMatchObject({ handed: 10, retained: 6 })
    for (let i = 10; i < 15; i++) source.push(i)
    await vi.advanceTimersByTimeAsync(0)
    expectLedger(d, { accepted: 15, buffered: 5, retained: 6, confirmed: 4 })
    up()
    await vi.advanceTimersByTimeAsync(10)
    expect(conns[1].toFar).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
    expect(d.stats()).toMatchObject({ handed: 15, replayed: 6 })
    expectLedger(d, { accepted: 15, retained: 11, buffered: 0 })
    source.end()
    await writing
    d.confirm(11)
    expectLedger(d, { accepted: 15, confirmed: 15, retained: 0, unconfirmed: 0, unsent: 0 })
    expect(calls.next).toBe(0)
  })

  it('a batch bigger than the buffer and the retention window goes in as room is made; the rest waits, counted', async () => {
    const { d, up, conns } = gated<number>(open, { ...RETAIN, retention: { maxMessages: 3 }, buffer: { maxMessages: 5 } })
    up()
    await vi.advanceTimersByTimeAsync(0)
    const source = batches(numbered(20, 20))
    const writing = d.sink(source)
    await vi.advanceTimersByTimeAsync(0)
    expect(conns[0].toFar).toEqual([0, 1, 2])
    // the retention window is full; the buffer holds what fitted; the rest of the batch waits
    expectLedger(d, { accepted: 20, retained: 3 })
    expect(d.stats().buffered).toBeGreaterThan(0)
    expect(d.stats().buffered + d.stats().waiting).toBe(17)
    for (let step = 0; step < 20 && d.stats().confirmed < 20; step++) {
      d.confirm(d.stats().retained)
      await vi.advanceTimersByTimeAsync(0)
      expectLedger(d, { accepted: 20 })
      expect(d.stats().buffered).toBeLessThanOrEqual(5)
      expect(d.stats().retained).toBeLessThanOrEqual(3)
    }
    await writing
    expect(conns[0].toFar).toEqual(Array.from({ length: 20 }, (_, i) => i))
    expectLedger(d, { accepted: 20, confirmed: 20, waiting: 0 })
    expect(d.stats()).toMatchObject({ handed: 20, replayed: 0 })
    expect(source.calls).toMatchObject({ next: 0, nextBatch: 2 })
  })

  it('a batch that outgrows the buffer while disconnected gets the overflow policy item by item', async () => {
    for (const [overflow, kept] of [['drop-newest', [0, 1, 2, 3]], ['drop-oldest', [5, 6, 7, 8]]] as const) {
      const g = gated<number>(open, { buffer: { maxMessages: 4, overflow } })
      void g.d.sink(batches([[0, 1, 2], [3, 4, 5, 6, 7, 8]])).catch(() => {})
      await vi.advanceTimersByTimeAsync(0)
      expectLedger(g.d, { accepted: 9, buffered: 4, dropped: 5 })
      g.up()
      await vi.advanceTimersByTimeAsync(0)
      expect(g.conns[0].toFar).toEqual(kept)
    }

    const refuse = gated<number>(open, { buffer: { maxMessages: 4, overflow: 'error' } })
    const source = batches([[0, 1, 2], [3, 4, 5, 6, 7, 8], [9]])
    const r = await settle(refuse.d.sink(source))
    expect(r.ok ? undefined : r.error.name).toBe('BufferOverflowError')
    // the first three and one more fit; the fifth item is refused, and the rest of its batch with it
    expectLedger(refuse.d, { accepted: 9, buffered: 4, rejected: 5 })
    expect(source.calls).toMatchObject({ nextBatch: 2, return: 1 })
  })

  it('validate refuses an item of a batch as item by item: what came before it goes on, it and the rest of its batch are rejected; failFast refuses a batch whole while offline', async () => {
    const checked = gated<number>(open, { validate: (n) => { if (n === 5) throw new RangeError('no fives') } })
    const source = batches([[1, 2], [3, 4, 5, 6], [7]])
    const r = await settle(checked.d.sink(source))
    expect(r.ok ? undefined : r.error.name).toBe('RangeError')
    expectLedger(checked.d, { accepted: 6, buffered: 4, rejected: 2 })
    expect(source.calls).toMatchObject({ nextBatch: 2, return: 1 })

    // the items before the refused one wait for room like any others, and the sink fails once they are placed
    const tight = gated<number>(open, { buffer: { maxMessages: 2, overflow: 'wait' }, validate: (n) => { if (n === 5) throw new RangeError('no fives') } })
    let settled = false
    const t = settle(tight.d.sink(batches([[1, 2, 3, 4, 5]]))).then((x) => { settled = true; return x })
    await vi.advanceTimersByTimeAsync(0)
    expect(settled).toBe(false) // 3 and 4 wait for room
    tight.up()
    const tr = await t
    expect(tr.ok ? undefined : tr.error.name).toBe('RangeError')
    expect(tight.conns[0].toFar).toEqual([1, 2, 3, 4])
    expectLedger(tight.d, { accepted: 5, rejected: 1 })

    const fast = gated<number>(open, { failFast: true })
    const f = await settle(fast.d.sink(batches([[1, 2, 3]])))
    expect(f.ok ? undefined : f.error.name).toBe('NotConnectedError')
    expectLedger(fast.d, { accepted: 3, rejected: 3 })
  })

  it('buffer.size that throws or returns no byte count refuses the item, typed, as validate does: counted rejected, the bytes counted stay true', async () => {
    const sizes = new Map<number, unknown>([[3, NaN], [13, '5'], [23, -1], [33, 1.5], [43, Infinity]])
    const size = (n: number): number => {
      if (n === 53) throw new TypeError('cannot measure')
      return (sizes.has(n) ? sizes.get(n) : 1) as number
    }
    for (const bad of [3, 13, 23, 33, 43, 53]) {
      const item = gated<number>(open, { buffer: { size } })
      const r = await settle(item.d.sink([bad - 2, bad - 1, bad, bad + 1]))
      expect(r.ok ? undefined : r.error.name).toBe('InvalidParametersError')
      expect(r.ok ? undefined : r.error.message).toMatch(/^expected buffer\.size\(\) to/)
      if (bad === 53) expect(r.ok ? undefined : r.error.cause).toBeInstanceOf(TypeError)
      expectLedger(item.d, { accepted: 3, buffered: 2, rejected: 1 })
      expect(item.d.stats().bufferedBytes).toBe(2)

      const batch = gated<number>(open, { buffer: { size } })
      const source = batches([[bad - 2, bad - 1, bad, bad + 1]])
      const b = await settle(batch.d.sink(source))
      expect(b.ok ? undefined : b.error.name).toBe('InvalidParametersError')
      expectLedger(batch.d, { accepted: 4, buffered: 2, rejected: 2 })
      expect(batch.d.stats().bufferedBytes).toBe(2)
      batch.up()
      await vi.advanceTimersByTimeAsync(0)
      expect(batch.conns[0].toFar).toEqual([bad - 2, bad - 1])
      expect(batch.d.stats().bufferedBytes).toBe(0)
    }
  })

  it('the user source failing after some batches aborts the duplex with its error; what it gave is accounted for', async () => {
    const { d, up, conns } = gated<number>(open, { buffer: { maxMessages: 100 } })
    up()
    await vi.advanceTimersByTimeAsync(0)
    const boom = new Error('the producer broke')
    const closed = nextEvent(d, 'closed')
    const source = batches([[0, 1, 2], [3, 4]], boom)
    const r = await settle(d.sink(source))
    expect(r.ok ? undefined : r.error).toBe(boom)
    expect(source.calls).toMatchObject({ next: 0, nextBatch: 3 })
    expect((await closed).error).toBe(boom)
    expect(d.status).toBe('closed')
    // the items handed before the abort are unconfirmed (no retention); nothing is lost from the count
    expect([0, 1, 2, 3, 4].slice(0, conns[0].toFar.length)).toEqual(conns[0].toFar)
    expectLedger(d, { accepted: 5, waiting: 0, buffered: 0 })
    const read = await settle(d.source[Symbol.asyncIterator]().next())
    expect(read.ok ? undefined : read.error).toBe(boom)
  })

  it('a source whose nextBatch() resolves with an empty array aborts the duplex with InvalidParametersError', async () => {
    const { d } = gated<number>(open)
    const r = await settle(d.sink(batches([[1], []])))
    expect(r.ok ? undefined : r.error.name).toBe('InvalidParametersError')
    expect(r.ok ? undefined : r.error.message).toMatch(/non-empty array/)
    expectLedger(d, { accepted: 1 })
  })

  it('close() while part of a batch waits for room counts the waiting items unsent', async () => {
    const { d, up } = gated<number>(open, { ...RETAIN, retention: { maxMessages: 2 }, buffer: { maxMessages: 3 }, closeTimeout: 100 })
    up()
    await vi.advanceTimersByTimeAsync(0)
    const writing = settle(d.sink(batches(numbered(10, 10))))
    await vi.advanceTimersByTimeAsync(0)
    expectLedger(d, { accepted: 10, retained: 2 })
    expect(d.stats().buffered + d.stats().waiting).toBe(8)
    expect(d.stats().waiting).toBeGreaterThan(0)
    const closing = settle(d.close())
    await vi.advanceTimersByTimeAsync(200)
    await closing
    const r = await writing
    expect(r.ok ? undefined : r.error.name).toBe('ClosedError')
    expectLedger(d, { accepted: 10, waiting: 0, buffered: 0, retained: 0 })
    expect(d.stats().unsent).toBeGreaterThanOrEqual(5)
  })
})

describe('batch hand-down with retention: a lower sink reading nextBatch() gets runs bounded by the retention window', () => {
  it('hands runs within retention (items and bytes), then after a reconnect the unconfirmed run again, first, in order', async () => {
    vi.useRealTimers()
    const seen: number[][][] = []
    const lowers: Array<{ fail(err: Error): void }> = []
    const d = reconnect<Uint8Array>(async () => {
      const got: number[][] = []
      seen.push(got)
      let fail!: (err: Error) => void
      const failed = new Promise<never>((_resolve, reject) => { fail = reject })
      failed.catch(() => {})
      lowers.push({ fail })
      return {
        source: { [Symbol.asyncIterator]: () => ({ next: async () => await failed }) },
        sink: async (source) => {
          const it = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]() as BatchIterator<Uint8Array>
          for (let b = await it.nextBatch(); b !== undefined; b = await it.nextBatch()) got.push(b.map(x => x[0]))
        }
      }
    }, { retention: { maxMessages: 6, maxBytes: 40 }, initialDelay: 1, jitter: 'none', minStableTime: 0 })
    open.push(d as DurableDuplex<any>)
    await new Promise<void>((resolve) => { d.addEventListener('connected', () => { resolve() }, { once: true }) })
    // ten items of 10 bytes: retention takes four (40 bytes), a confirmation of two lets two more in
    const items = Array.from({ length: 10 }, (_, i) => new Uint8Array(10).fill(i))
    const writing = d.sink(batches([items]))
    await new Promise(resolve => setImmediate(resolve))
    expect(seen[0]).toEqual([[0, 1, 2, 3]])
    d.confirm(2)
    await new Promise(resolve => setImmediate(resolve))
    expect(seen[0]).toEqual([[0, 1, 2, 3], [4, 5]])
    expect(d.stats()).toMatchObject({ retained: 4, retainedBytes: 40, buffered: 4, handed: 6 })
    const reconnected = nextEvent(d, 'connected')
    lowers[0].fail(new Error('cut'))
    await reconnected
    await new Promise(resolve => setImmediate(resolve))
    expect(seen[1][0]).toEqual([2, 3, 4, 5])
    d.confirm(4)
    for (let i = 0; i < 20 && d.stats().handed < 10; i++) await new Promise(resolve => setImmediate(resolve))
    d.confirm(d.stats().retained)
    await writing
    expect(seen[1].flat()).toEqual([2, 3, 4, 5, 6, 7, 8, 9])
    expect(d.stats()).toMatchObject({ handed: 10, replayed: 4, confirmed: 10, retained: 0 })
    expect(ledger(d.stats())).toMatchObject({ accepted: 10, sum: 10 })
  })
})
