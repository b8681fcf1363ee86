import { isBatchIterator } from '@proto/interface'
import { pipe } from 'it-pipe'
import { describe, expect, it, vi } from 'vitest'
import { memoryPair } from '../src/index.js'
import { readAll, settle } from './helpers.js'

/** An async source that also offers `nextBatch()`, as batching upper stages do; `next()` must not be used. */
function batchingSource (batches: Array<Uint8Array[] | Error>): AsyncIterable<Uint8Array> & { batchCalls: number } {
  const queue = [...batches]
  const source = {
    batchCalls: 0,
    [Symbol.asyncIterator]: () => ({
      next: async (): Promise<IteratorResult<Uint8Array>> => { throw new Error('next() called although nextBatch() exists') },
      nextBatch: async (): Promise<Uint8Array[] | undefined> => {
        source.batchCalls++
        const b = queue.shift()
        if (b instanceof Error) throw b
        return b
      },
      return: async (): Promise<IteratorResult<Uint8Array>> => ({ done: true, value: undefined })
    })
  }
  return source
}

describe('sink over a source with nextBatch()', () => {
  it('takes whole batches, in order, and writes each batch together', async () => {
    const [a, b] = memoryPair()
    const bytes = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v)
    const source = batchingSource([[bytes(3, 1), bytes(2, 2)], [], [bytes(4, 3)], [bytes(1, 4), bytes(1, 5), bytes(1, 6)]])
    const [, got] = await Promise.all([a.sink(source), readAll(b), b.sink([])])
    expect([...got]).toEqual([1, 1, 1, 2, 2, 3, 3, 3, 3, 4, 5, 6])
    // four batches and the end
    expect(source.batchCalls).toBe(5)
    const stats = a.stats()
    expect(stats.chunksOut).toBe(6)
    expect(stats.bytesOut).toBe(12)
    expect(stats.writes).toBeLessThan(stats.chunksOut)
  })

  it('a batch that fails aborts the connection with that error', async () => {
    const [a, b] = memoryPair()
    const boom = new Error('producer failed')
    const reading = settle(readAll(b))
    const r = await settle(a.sink(batchingSource([[new Uint8Array([1])], boom])))
    expect(r.ok ? undefined : r.error).toBe(boom)
    expect(await a.closed).toMatchObject({ reason: 'aborted', error: boom })
    expect((await reading).ok).toBe(false)
  })
})

describe('a connection source offers nextBatch()', () => {
  it('hands out every queued chunk at once, in order, waits for one when none is queued, and ends with undefined', async () => {
    const [a, b] = memoryPair()
    const source = b.source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array> & { nextBatch(): Promise<Uint8Array[] | undefined> }
    expect(isBatchIterator(source)).toBe(true)
    const waiting = source.nextBatch()
    await a.sink([new Uint8Array([1]), new Uint8Array([2, 3])].values())
    // the first chunk wakes the waiting call; the rest are queued for the next one
    const first = await waiting
    expect(first?.length).toBeGreaterThanOrEqual(1)
    const rest = first?.length === 1 ? await source.nextBatch() : []
    expect([...(first ?? []), ...(rest ?? [])].flatMap(c => [...c])).toEqual([1, 2, 3])
    expect(await source.nextBatch()).toBeUndefined()
    expect(await source.next()).toEqual({ done: true, value: undefined })
  })

  it('mixes with next(), and rejects once the connection failed', async () => {
    const [a, b] = memoryPair()
    const source = b.source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array> & { nextBatch(): Promise<Uint8Array[] | undefined> }
    const writing = settle(a.sink((async function * () {
      for (let i = 0; i < 5; i++) yield new Uint8Array([i])
      await new Promise(resolve => setTimeout(resolve, 20))
      throw new Error('producer failed')
    })()))
    const seen: number[] = []
    while (seen.length < 5) {
      const one = await source.next()
      if (one.done !== true) seen.push(...one.value)
      const batch = seen.length < 5 ? await source.nextBatch() : []
      for (const c of batch ?? []) seen.push(...c)
    }
    expect(seen).toEqual([0, 1, 2, 3, 4])
    const failed = await settle(source.nextBatch())
    expect(failed.ok ? undefined : failed.error.name).toBe('ConnectionResetError')
    expect((await writing).ok).toBe(false)
  })

  it('pipe(conn, conn) moves what arrived together in one hop: one write for chunks that queued up (pulled with nextBatch)', async () => {
    const [a, b] = memoryPair()
    // ten separate writes, each its own read on the other side, queued while nobody reads there yet
    const writing = a.sink((async function * () {
      for (let i = 0; i < 10; i++) {
        yield new Uint8Array([i])
        await new Promise(resolve => setImmediate(resolve))
      }
    })())
    await vi.waitFor(() => { expect(b.stats().chunksIn).toBe(10) })
    const source = b.source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array> & { nextBatch(): Promise<Uint8Array[] | undefined> }
    const batches: number[] = []
    const nextBatch = source.nextBatch.bind(source)
    vi.spyOn(source, 'nextBatch').mockImplementation(async () => { const batch = await nextBatch(); batches.push(batch?.length ?? 0); return batch })
    const next = vi.spyOn(source, 'next')
    // hide push mode (see the next test): the sink pulls
    const echo = pipe({ [Symbol.asyncIterator]: () => source }, b)
    const [, got] = await Promise.all([writing, readAll(a)])
    await echo
    expect([...got]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    // the ten queued chunks in one call, then the end
    expect(batches).toEqual([10, 0])
    expect(next).not.toHaveBeenCalled()
    expect(b.stats()).toMatchObject({ chunksIn: 10, chunksOut: 10, writes: 1 })
  })

  it('pipe(conn, conn) in push mode: the queued chunks go to the sink in one call, later ones as they arrive, with no read in between', async () => {
    const [a, b] = memoryPair()
    const writing = a.sink((async function * () {
      for (let i = 0; i < 10; i++) {
        yield new Uint8Array([i])
        await new Promise(resolve => setImmediate(resolve))
      }
    })())
    await vi.waitFor(() => { expect(b.stats().chunksIn).toBe(10) })
    const source = b.source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array> & { nextBatch(): Promise<Uint8Array[] | undefined> }
    const next = vi.spyOn(source, 'next')
    const nextBatch = vi.spyOn(source, 'nextBatch')
    const echo = pipe(b, b)
    const [, got] = await Promise.all([writing, readAll(a)])
    await echo
    expect([...got]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(next).not.toHaveBeenCalled()
    expect(nextBatch).not.toHaveBeenCalled()
    expect(b.stats()).toMatchObject({ chunksIn: 10, chunksOut: 10, writes: 1 })
  })
})
