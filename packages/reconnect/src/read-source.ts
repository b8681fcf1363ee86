import type { BatchIterator, PushSource, PushTarget } from '@proto/interface'
import { asyncIteratorOf, isBatchIterator, isPushSource, iteratorOf, SourceError, toError } from '@proto/interface'
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
 *
 * A source that can push (`PushSource`: a heartbeat link's or a session's source, written straight back
 * as an echo or a relay does) is subscribed to instead: each batch is placed in the call that brought it,
 * and while it waits for room the source is asked to wait; nothing is parked while it is quiet.
 */
export class SourceReader<T> implements PushTarget<T> {
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
  /** The source pushes to this object; `paused` while a batch waits for room. */
  private pusher: PushSource<T> | undefined
  private paused = false
  private onPushPlacedFn: (() => void) | undefined

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
        const it = this.it = asyncIteratorOf(source)
        if (isPushSource<T>(it)) {
          this.pusher = it
          try {
            it.subscribe(this) // what it holds now comes at once
            return
          } catch {
            this.pusher = undefined // a source that refuses a subscriber is read instead
          }
        }
        this.batched = isBatchIterator(it)
      } else {
        this.syncIt = iteratorOf(source)
      }
    } catch (err) {
      this.finish(err)
      return
    }
    this.readGuarded()
  }

  /** From a source that pushes: a batch, placed now; `false` asks the source to wait until it is. */
  push (items: T[]): boolean {
    if (this.over) return false
    if (items.length === 0) return true
    let wait: Promise<void> | undefined
    try {
      wait = items.length === 1 ? this.taker.offer(items[0] as T) : this.taker.offerBatch(items)
    } catch (err) {
      release(this.it as AsyncIterator<T>)
      this.finish(err)
      return false
    }
    if (wait === undefined) return true
    this.paused = true
    wait.then(this.onPushPlacedFn ??= () => { this.pushPlaced() }, this.onPlaceErrorFn ??= (err) => {
      release((this.syncIt ?? this.it) as { return?: () => unknown })
      this.finish(err)
    })
    return false
  }

  /** From a source that pushes: its end, or its failure (a `SourceError`, as a rejected read's). */
  end (err?: unknown): void {
    if (err === undefined) this.finish()
    else this.finish(new SourceError(toError(err)))
  }

  /** A pushed batch that waited for room is placed: the source goes on. */
  private pushPlaced (): void {
    if (!this.paused || this.over) return
    this.paused = false
    this.pusher?.resume()
  }

  /** `read()`, with anything it throws (a malformed result of a synchronous iterator) ending the reading. */
  private readGuarded (): void {
    try {
      this.read()
    } catch (err) {
      release((this.syncIt ?? this.it) as { return?: () => unknown })
      this.finish(err)
    }
  }

  private finish (err?: unknown): void {
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
      this.finish(new SourceError(toError(err)))
      return
    }
    // a hand-written iterator may answer with a plain value, as `await` (and `for await`) accept
    if (!(read instanceof Promise)) read = Promise.resolve(read)
    const onError = this.onReadErrorFn ??= (err) => { this.finish(new SourceError(toError(err))) }
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
      this.finish(err)
    }
  }

  private gotBatch (batch: T[] | undefined): void {
    if (batch === undefined) {
      this.finish()
      return
    }
    if (!Array.isArray(batch) || batch.length === 0) {
      release(this.it as AsyncIterator<T>)
      this.finish(new SourceError(new InvalidParametersError(`expected the source's nextBatch() to resolve with a non-empty array or undefined, but got ${Array.isArray(batch) ? 'an empty array' : String(batch)}; fix the source, or have it return undefined at its end`)))
      return
    }
    this.place(batch.length === 1 ? undefined : batch, batch[0] as T, this.it as AsyncIterator<T>)
  }

  private gotItem (r: IteratorResult<T>): void {
    if (r.done === true) {
      this.finish()
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
      this.finish(err)
      return false
    }
    if (wait === undefined) {
      if (this.syncIt === undefined) this.read()
      return true
    }
    wait.then(this.onPlacedFn ??= () => { this.readGuarded() }, this.onPlaceErrorFn ??= (err) => {
      release((this.syncIt ?? this.it) as { return?: () => unknown })
      this.finish(err)
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
        this.finish(new SourceError(toError(err)))
        return
      }
      if (r.done === true) {
        this.finish()
        return
      }
      if (!this.place(undefined, r.value, it)) return
    }
  }
}
