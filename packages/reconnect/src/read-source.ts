import type { BatchIterator } from '@proto/interface'
import { isBatchIterator, SourceError, toError } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { InvalidParametersError } from './errors.js'

/** Where the items read from the user's source go: `undefined` once placed, else a promise for when they are. */
export interface Taker<T> {
  offer(item: T): Promise<void> | undefined
  offerBatch(items: T[]): Promise<void> | undefined
  /** The source ended (`err` undefined) or reading it stopped on `err`. Called once. */
  readEnded(err?: unknown): void
}

/** Asks `it` to stop, whatever it does about it. */
function release (it: { return?: () => unknown }): void {
  try {
    const r = it.return?.() as Promise<unknown> | undefined
    if (r != null && typeof r.then === 'function') r.then(undefined, () => {})
  } catch {}
}

/**
 * Reads the user's source to its end, the way its kind allows: a whole batch per read from a source that
 * offers `nextBatch()`, else one item per `next()`; then tells the taker how it ended (`readEnded`). What
 * the source throws comes out as a `SourceError`; what the taker throws stops the source (its `return()` is
 * called) and comes out as it is.
 *
 * No async function runs it: a read and a wait for room are each one promise with a callback made once,
 * so a sink that waits on a quiet source for a connection's whole life keeps no suspended frame.
 */
export class SourceReader<T> {
  private it: (AsyncIterator<T> & Partial<BatchIterator<T>>) | undefined
  private syncIt: Iterator<T> | undefined
  private batched = false
  private over = false
  /** Within `start()`: an end reached there is told from a microtask, never from within the caller's `sink()`. */
  private starting = false
  private onBatchFn: ((batch: unknown) => void) | undefined
  private onNextFn: ((r: unknown) => void) | undefined
  private onReadErrorFn: ((err: unknown) => void) | undefined
  private onPlacedFn: (() => void) | undefined
  private onPlaceErrorFn: ((err: unknown) => void) | undefined

  constructor (private readonly source: Source<T>, private readonly taker: Taker<T>) {}

  /** Starts reading; the first read happens in this call. */
  start (): void {
    this.starting = true
    try {
      this.begin()
    } finally {
      this.starting = false
    }
  }

  private begin (): void {
    try {
      const source = this.source
      if (Symbol.asyncIterator in source) {
        const it = this.it = source[Symbol.asyncIterator]()
        this.batched = isBatchIterator(it)
      } else {
        this.syncIt = source[Symbol.iterator]()
      }
    } catch (err) {
      this.end(err)
      return
    }
    this.readGuarded()
  }

  /** `read()`, with anything it throws (a malformed result of a synchronous iterator) ending the reading. */
  private readGuarded (): void {
    try {
      this.read()
    } catch (err) {
      release((this.syncIt ?? this.it) as { return?: () => unknown })
      this.end(err)
    }
  }

  private end (err?: unknown): void {
    if (this.over) return
    this.over = true
    if (this.starting) queueMicrotask(() => { this.taker.readEnded(err) })
    else this.taker.readEnded(err)
  }

  /** Reads until a read or a wait for room is pending, or the source ends. */
  private read (): void {
    const syncIt = this.syncIt
    if (syncIt !== undefined) {
      this.readSync(syncIt)
      return
    }
    const it = this.it as AsyncIterator<T> & Partial<BatchIterator<T>>
    let read: Promise<unknown>
    try {
      read = this.batched ? (it as BatchIterator<T>).nextBatch() : it.next()
    } catch (err) {
      this.end(new SourceError(toError(err)))
      return
    }
    // a hand-written iterator may answer with a plain value, as `await` (and `for await`) accept
    if (!(read instanceof Promise)) read = Promise.resolve(read)
    const onError = this.onReadErrorFn ??= (err) => { this.end(new SourceError(toError(err))) }
    if (this.batched) read.then(this.onBatchFn ??= (batch) => { this.guarded(batch, true) }, onError)
    else read.then(this.onNextFn ??= (r) => { this.guarded(r, false) }, onError)
  }

  /** What a read brought, handled; anything it throws (a malformed result) ends the reading with that error. */
  private guarded (read: unknown, batch: boolean): void {
    try {
      if (batch) this.gotBatch(read as T[] | undefined)
      else this.gotItem(read as IteratorResult<T>)
    } catch (err) {
      release(this.it as AsyncIterator<T>)
      this.end(err)
    }
  }

  private gotBatch (batch: T[] | undefined): void {
    if (batch === undefined) {
      this.end()
      return
    }
    if (!Array.isArray(batch) || batch.length === 0) {
      release(this.it as AsyncIterator<T>)
      this.end(new SourceError(new InvalidParametersError(`expected the source's nextBatch() to resolve with a non-empty array or undefined, but got ${Array.isArray(batch) ? 'an empty array' : String(batch)}; fix the source, or have it return undefined at its end`)))
      return
    }
    this.place(batch.length === 1 ? undefined : batch, batch[0] as T, this.it as AsyncIterator<T>)
  }

  private gotItem (r: IteratorResult<T>): void {
    if (r.done === true) {
      this.end()
      return
    }
    this.place(undefined, r.value, this.it as AsyncIterator<T>)
  }

  /** Offers `batch` (or the one `item`); reads on once it is placed. Returns whether it was placed at once. */
  private place (batch: T[] | undefined, item: T, it: { return?: () => unknown }): boolean {
    let wait: Promise<void> | undefined
    try {
      wait = batch === undefined ? this.taker.offer(item) : this.taker.offerBatch(batch)
    } catch (err) {
      release(it)
      this.end(err)
      return false
    }
    if (wait === undefined) {
      if (this.syncIt === undefined) this.read()
      return true
    }
    wait.then(this.onPlacedFn ??= () => { this.readGuarded() }, this.onPlaceErrorFn ??= (err) => {
      release((this.syncIt ?? this.it) as { return?: () => unknown })
      this.end(err)
    })
    return false
  }

  /** A synchronous iterable: pulled in a loop while its items are placed at once. */
  private readSync (it: Iterator<T>): void {
    for (;;) {
      let r: IteratorResult<T>
      try {
        r = it.next()
      } catch (err) {
        this.end(new SourceError(toError(err)))
        return
      }
      if (r.done === true) {
        this.end()
        return
      }
      if (!this.place(undefined, r.value, it)) return
    }
  }
}
