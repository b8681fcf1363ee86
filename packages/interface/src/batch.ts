/**
 * Batching between stages. A stage's source may also offer `nextBatch()`: every item it has ready at once
 * (or the next items to arrive), so the stage above moves a whole batch per hop instead of one item per
 * promise. A batch source is still a plain async iterable: `next()` gives the same items one by one, in
 * the same order, and the two may be mixed. A plain transform (`it-map`, an async generator) placed between
 * two stages hides `nextBatch()`, and the stage above falls back to one item per hop.
 */

/** An async iterator that can also hand out every item it has ready at once. */
export interface BatchIterator<T> extends AsyncIterator<T> {
  /**
   * Resolves with the items ready now (at least one; it waits for one when none is ready), or with
   * `undefined` once the source has ended. Never resolves with an empty array. Rejects as `next()` would.
   */
  nextBatch(): Promise<T[] | undefined>
}

/** An async iterable whose iterator offers `nextBatch()`. */
export interface BatchSource<T> extends AsyncIterable<T> {
  /** Returns the iterator, which also offers `nextBatch()`. */
  [Symbol.asyncIterator](): BatchIterator<T>
}

/** The end of iteration, shared (frozen). */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<undefined>

/** An already-resolved end of iteration, shared. */
export const RESOLVED_DONE: Promise<IteratorReturnResult<undefined>> = Promise.resolve(DONE)

/** Whether `iterator` offers `nextBatch()`. */
export function isBatchIterator<T> (iterator: AsyncIterator<T> | Iterator<T>): iterator is BatchIterator<T> {
  return typeof (iterator as Partial<BatchIterator<T>>).nextBatch === 'function'
}

/**
 * Runs `fn` once the microtasks queued now, and those they queue, have run: after everything an async
 * producer has ready (`process.nextTick`, or a zero timeout where there is none). A stage that gathers
 * items into batches hands them on from here, so a lone item still leaves in the same turn of the event
 * loop while a busy producer's items leave together. Captured at load, so fake timers in tests never hold
 * a stage back.
 */
export const afterReady: (fn: () => void) => void = typeof globalThis.process?.nextTick === 'function'
  ? globalThis.process.nextTick
  : (fn) => { setTimeout(fn, 0) }

const immediate = globalThis.setImmediate as ((fn: () => void) => unknown) | undefined

/**
 * Runs `fn` after the event loop's next I/O phase (`setImmediate`, or a zero timeout where there is none):
 * what has arrived on the sockets meanwhile is read first. Captured at load, like `afterReady`.
 */
export const afterIo: (fn: () => void) => void = typeof immediate === 'function'
  ? (fn) => { immediate(fn) }
  : (fn) => { setTimeout(fn, 0) }
