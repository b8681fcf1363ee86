import type { StageDuplex } from '@proto/interface'
import { pushable } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { describe, expect, it } from 'vitest'
import { ClosedError, reconnect } from '../src/index.js'

interface Batching<T> extends AsyncIterator<T> { nextBatch?: () => Promise<T[] | undefined> }

/**
 * A lower duplex whose sink reads the feed a batch at a time, as the heartbeat and codec do, handing each
 * batch to `onBatch`; `finished` once the feed ends, and its source ends then too.
 */
function batchReader (onBatch: (batch: number[]) => void): { lower: StageDuplex<number>, finished: Promise<void> } {
  let finish!: () => void
  const finished = new Promise<void>((resolve) => { finish = resolve })
  const lower: StageDuplex<number> = {
    source: { [Symbol.asyncIterator]: () => ({ next: async () => { await finished; return { done: true, value: undefined } } }) },
    sink: async (source: Source<number>) => {
      const it = (source as AsyncIterable<number>)[Symbol.asyncIterator]() as Batching<number>
      for (let b = await it.nextBatch?.(); b != null; b = await it.nextBatch?.()) onBatch(b)
      finish()
    }
  }
  return { lower, finished }
}

/** The batches a waiting batch sink gets when an async generator yields `count` items without pausing. */
async function batchesOfBusyProducer (count: number, init: Parameters<typeof reconnect<number>>[1] = {}): Promise<number[][]> {
  const batches: number[][] = []
  const { lower, finished } = batchReader((b) => { batches.push(b) })
  const link = reconnect<number>(async () => lower, init)
  // the lower sink is parked on nextBatch() when the producer starts: every item arrives while it waits
  await connectedAndWaiting(link)
  async function * produce (): AsyncGenerator<number> {
    for (let i = 0; i < count; i++) yield i
  }
  await link.sink(produce())
  await finished
  await link.close()
  expect(batches.flat()).toEqual(Array.from({ length: count }, (_, i) => i))
  return batches
}

/** Resolves once `link` is connected and the connection's sink waits on its feed. */
async function connectedAndWaiting (link: ReturnType<typeof reconnect<number>>): Promise<void> {
  await new Promise<void>((resolve) => { link.addEventListener('connected', () => { resolve() }, { once: true }) })
  await new Promise(resolve => setImmediate(resolve))
}

describe('connection feed batches', () => {
  it('offers nextBatch() to the lower sink, handing down everything queued at once, in order', async () => {
    const batches: number[][] = []
    let release!: () => void
    const lowerReady = new Promise<void>((resolve) => { release = resolve })
    let finished!: () => void
    const done = new Promise<void>((resolve) => { finished = resolve })
    const lower: StageDuplex<number> = {
      source: { [Symbol.asyncIterator]: () => ({ next: async () => { await done; return { done: true, value: undefined } } }) },
      sink: async (source: Source<number>) => {
        await lowerReady // let the user's writes queue up first
        const it = (source as AsyncIterable<number>)[Symbol.asyncIterator]() as Batching<number>
        expect(typeof it.nextBatch).toBe('function')
        for (let b = await it.nextBatch?.(); b != null; b = await it.nextBatch?.()) batches.push(b)
        finished()
      }
    }
    const link = reconnect<number>(async () => lower, { buffer: { maxMessages: 5_000 } })
    const writing = link.sink(Array.from({ length: 3000 }, (_, i) => i))
    // the lower sink holds off until every write is queued
    while (link.stats().buffered < 3000) await new Promise(resolve => setImmediate(resolve))
    release()
    await writing
    await done
    expect(batches.flat()).toEqual(Array.from({ length: 3000 }, (_, i) => i))
    expect(batches.length).toBeLessThan(10)
    expect(Math.max(...batches.map(b => b.length))).toBeLessThanOrEqual(1024)
    expect(link.stats().handed).toBe(3000)
    await link.close()
  })

  it('hands a busy async producer\'s items to a waiting batch sink together, once it has nothing more ready', async () => {
    const batches = await batchesOfBusyProducer(500)
    // one item per wake-up would be 500 batches of one
    expect(batches.length).toBeLessThanOrEqual(2)
  })

  it('hands large items to a waiting batch sink as soon as a socket write\'s worth is buffered', async () => {
    // every item counts 32 KiB: two of them are a write's worth (FEED_BATCH_BYTES)
    const batches = await batchesOfBusyProducer(10, { buffer: { size: () => 32 * 1024 } })
    // gathered until the producer had nothing more ready, they would come as one batch of ten
    expect(Math.max(...batches.map(b => b.length))).toBeLessThanOrEqual(2)
  })

  it('hands a lone item to a waiting batch sink in the same turn of the event loop', async () => {
    const got: number[][] = []
    const { lower } = batchReader((b) => { got.push(b) })
    const link = reconnect<number>(async () => lower)
    await connectedAndWaiting(link)
    const items = [7]
    const writing = link.sink((async function * () { yield * items; await new Promise(() => {}) })())
    // no timer or I/O callback runs before it is handed
    await new Promise(resolve => setImmediate(resolve))
    expect(got).toEqual([[7]])
    await link.close()
    await expect(writing).rejects.toThrow(ClosedError)
  })

  it('waits for the I/O phase before handing a batch once half the retention window is unconfirmed', async () => {
    // event-loop turns, counted in the check phase (where setImmediate callbacks run)
    let turns = 0
    let counting = true
    const count = (): void => { turns++; if (counting) setImmediate(count) }
    setImmediate(count)
    const got: Array<{ items: number[], turn: number }> = []
    const { lower } = batchReader((b) => { got.push({ items: b, turn: turns }) })
    // nothing confirms: every item handed stays retained
    const link = reconnect<number>(async () => lower, { retention: { maxMessages: 4 } })
    await connectedAndWaiting(link)
    const items = pushable<number>()
    const writing = link.sink(items)
    const turnOf: number[] = []
    for (const n of [1, 2, 3, 4]) {
      turnOf.push(turns)
      items.push(n)
      while (got.length < n) await new Promise(resolve => setImmediate(resolve))
    }
    counting = false
    expect(got.map(g => g.items)).toEqual([[1], [2], [3], [4]])
    // 0 and 1 retained: handed in the turn it was written; 2 and 3 (half the window or more): a later turn
    expect(got.map((g, i) => g.turn > turnOf[i])).toEqual([false, false, true, true])
    // nothing will confirm them: end without waiting
    link.abort(new Error('test over'))
    await expect(writing).rejects.toThrow('test over')
  })

  it('reads whole batches from a lower source that offers nextBatch(), and serves them in order', async () => {
    const batches = [[1, 2, 3], [], [4], [5, 6, 7, 8]]
    const calls = { next: 0, batch: 0 }
    const source = {
      [Symbol.asyncIterator]: () => source,
      next: async (): Promise<IteratorResult<number>> => { calls.next++; return { done: true, value: undefined } },
      nextBatch: async (): Promise<number[] | undefined> => { calls.batch++; return batches.shift() }
    }
    // the lower sink drains our feed until the write side ends
    const lower: StageDuplex<number> = { source, sink: async (feed) => { for await (const _ of feed as AsyncIterable<number>) continue } }
    const link = reconnect<number>(async () => lower, { peerEnd: 'end' })
    void link.sink([])
    const got: number[] = []
    for await (const n of link.source) got.push(n)
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(calls).toEqual({ next: 0, batch: 5 })
    await link.close()
  })
})
