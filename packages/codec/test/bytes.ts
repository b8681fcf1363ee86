/** Joins chunks (views or lists) into one `Uint8Array`, for comparing what was encoded. */
export function concat (chunks: Iterable<Uint8Array | { subarray(): Uint8Array }>): Uint8Array {
  const parts = [...chunks].map(c => c instanceof Uint8Array ? c : c.subarray())
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.byteLength }
  return out
}

/** Feeds `items` through an async generator, as a socket would deliver them. */
export async function * asAsync<T> (items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) yield item
}

/** An async source that hands its items out in the given batches through `nextBatch()`, and counts calls. */
export function batching<T> (batches: T[][]): AsyncIterableIterator<T> & { nextBatch(): Promise<T[] | undefined>, calls: { next: number, batch: number } } {
  const queue = batches.map(b => [...b])
  const calls = { next: 0, batch: 0 }
  const it = {
    calls,
    [Symbol.asyncIterator]: () => it,
    next: async (): Promise<IteratorResult<T>> => {
      calls.next++
      while (queue.length > 0 && queue[0].length === 0) queue.shift()
      const item = queue[0]?.shift()
      return item === undefined ? { done: true, value: undefined } : { done: false, value: item }
    },
    nextBatch: async (): Promise<T[] | undefined> => {
      calls.batch++
      while (queue.length > 0 && queue[0].length === 0) queue.shift()
      return queue.shift()
    }
  }
  return it
}

/** Resolves after `ms` milliseconds (for bounding waits in tests, never as synchronisation). */
export async function within<T> (promise: Promise<T>, ms = 2000): Promise<T | 'timed out'> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<'timed out'>((resolve) => { timer = setTimeout(() => { resolve('timed out') }, ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
