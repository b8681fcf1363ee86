import type { BatchIterator } from '@proto/interface'

/** A batch source handing out `batches` one per `nextBatch()`, then failing with `failWith` if given; counts its calls. */
export interface CountedBatches<T> extends AsyncIterable<T> {
  [Symbol.asyncIterator](): BatchIterator<T>
  readonly calls: { next: number, nextBatch: number, return: number }
}

export function batches<T> (list: T[][], failWith?: Error): CountedBatches<T> {
  const queue = list.map(b => [...b])
  const calls = { next: 0, nextBatch: 0, return: 0 }
  const it: BatchIterator<T> = {
    async next () {
      calls.next++
      const item = queue[0]?.shift()
      if (queue[0]?.length === 0) queue.shift()
      if (item !== undefined) return { done: false, value: item }
      if (failWith !== undefined) throw failWith
      return { done: true, value: undefined }
    },
    async nextBatch () {
      calls.nextBatch++
      const batch = queue.shift()
      if (batch === undefined && failWith !== undefined) throw failWith
      return batch
    },
    async return () {
      calls.return++
      return { done: true, value: undefined }
    }
  }
  return { [Symbol.asyncIterator]: () => it, calls }
}

/** `0 … n-1` in batches of `size` (the last one shorter). */
export function numbered (n: number, size: number): number[][] {
  const out: number[][] = []
  for (let i = 0; i < n; i += size) out.push(Array.from({ length: Math.min(size, n - i) }, (_, k) => i + k))
  return out
}
