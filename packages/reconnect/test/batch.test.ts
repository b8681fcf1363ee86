import type { StageDuplex } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { describe, expect, it } from 'vitest'
import { reconnect } from '../src/index.js'

interface Batching<T> extends AsyncIterator<T> { nextBatch?: () => Promise<T[] | undefined> }

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
