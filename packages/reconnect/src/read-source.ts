import { isBatchIterator, SourceError, toError } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { InvalidParametersError } from './errors.js'

/** Where the items read from the user's source go: `undefined` once placed, else a promise for when they are. */
export interface Taker<T> {
  offer(item: T): Promise<void> | undefined
  offerBatch(items: T[]): Promise<void> | undefined
}

/**
 * Reads the user's source to its end, the way its kind allows: a whole batch per read from a source that
 * offers `nextBatch()`, else one item per `next()`. What the source throws comes out as a `SourceError`;
 * what the taker throws stops the source (its `return()` is called) and comes out as it is.
 */
export async function readSource<T> (source: Source<T>, taker: Taker<T>): Promise<void> {
  if (Symbol.asyncIterator in source) {
    const it = source[Symbol.asyncIterator]()
    if (isBatchIterator(it)) {
      for (;;) {
        let batch: T[] | undefined
        try { batch = await it.nextBatch() } catch (err) { throw new SourceError(toError(err)) }
        if (batch === undefined) return
        if (!Array.isArray(batch) || batch.length === 0) {
          void it.return?.()?.then(undefined, () => {})
          throw new SourceError(new InvalidParametersError(`expected the source's nextBatch() to resolve with a non-empty array or undefined, but got ${Array.isArray(batch) ? 'an empty array' : String(batch)}; fix the source, or have it return undefined at its end`))
        }
        try {
          const wait = batch.length === 1 ? taker.offer(batch[0]) : taker.offerBatch(batch)
          if (wait !== undefined) await wait
        } catch (err) {
          void it.return?.()?.then(undefined, () => {})
          throw err
        }
      }
    }
    for (;;) {
      let r: IteratorResult<T>
      try { r = await it.next() } catch (err) { throw new SourceError(toError(err)) }
      if (r.done === true) return
      try {
        const wait = taker.offer(r.value)
        if (wait !== undefined) await wait
      } catch (err) {
        void it.return?.()?.then(undefined, () => {})
        throw err
      }
    }
  }
  const it = source[Symbol.iterator]()
  for (;;) {
    let r: IteratorResult<T>
    try { r = it.next() } catch (err) { throw new SourceError(toError(err)) }
    if (r.done === true) return
    try {
      const wait = taker.offer(r.value)
      if (wait !== undefined) await wait
    } catch (err) {
      try { it.return?.() } catch {}
      throw err
    }
  }
}
