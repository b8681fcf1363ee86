import { describe, expect, it } from 'vitest'
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
