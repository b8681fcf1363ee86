import { raceSignal } from './abort.js'
import type { BatchIterator, BatchSource } from './batch.js'
import { DONE, RESOLVED_DONE } from './batch.js'
import type { AbortOptions } from './duplex.js'
import { InvalidParametersError } from './errors.js'
import { PushableEndedError, PushableFullError } from './pushable-errors.js'
import * as validate from './validate.js'

/** Items a pushable holds before `push()` refuses more, by default. */
export const DEFAULT_PUSHABLE_MAX_ITEMS = 1024

/** Options of `pushable()`. */
export interface PushableInit {
  /**
   * Items the queue holds (pushed, not yet taken by the consumer) before `push()` refuses more with
   * `PushableFullError` (items, ≥ 1).
   * @default 1024
   */
  maxItems?: number
}

/**
 * A bounded queue a producer fills by hand and one consumer drains as a {@link BatchSource}: a stage's
 * sink that reads with `nextBatch()` takes everything pushed since its last read in one step; `for await`
 * takes the same items one by one.
 */
export interface Pushable<T> extends BatchSource<T> {
  /** Queues `item`. Throws `PushableFullError` when `maxItems` are queued, `PushableEndedError` after `end()` or once the consumer stopped. */
  push(item: T): void
  /** No more items: the consumer gets what is queued, then the end, or rejects with `err` once the queue is empty. Later calls do nothing. */
  end(err?: Error): void
  /** Items queued, not yet taken. */
  readonly length: number
  /** Items `push()` accepts now (0 when full, or after the end). */
  readonly room: number
  /** Whether `end()` was called or the consumer stopped reading: `push()` throws. */
  readonly ended: boolean
  /**
   * Resolves once the queue is down to half of `maxItems` or less (at once if it is), or once it has
   * ended. Rejects with `signal.reason` if `signal` aborts first.
   */
  onRoom(options?: AbortOptions): Promise<void>
}

/** Makes a bounded {@link Pushable}. Throws `InvalidParametersError` at once on a bad option. */
export function pushable<T> (init: PushableInit = {}): Pushable<T> {
  const options = validate.options('init', init)
  return new PushQueue<T>(validate.integer('maxItems', options.maxItems, DEFAULT_PUSHABLE_MAX_ITEMS, { min: 1 }))
}

interface Reader<T> {
  resolve(value: IteratorResult<T> | T[] | undefined): void
  reject(err: Error): void
  batch: boolean
}

class PushQueue<T> implements Pushable<T>, BatchIterator<T> {
  private items: T[] = []
  private head = 0
  private over = false
  private failure: Error | undefined
  private reader: Reader<T> | undefined
  private roomWaiters: Array<() => void> = []
  /** `onRoom()` resolves at or below this many queued items. */
  private readonly half: number

  constructor (private readonly maxItems: number) {
    this.half = Math.floor(maxItems / 2)
  }

  get length (): number { return this.items.length - this.head }
  get room (): number { return this.over ? 0 : this.maxItems - this.length }
  get ended (): boolean { return this.over }

  [Symbol.asyncIterator] (): this { return this }

  push (item: T): void {
    if (this.over) throw new PushableEndedError()
    const reader = this.reader
    if (reader !== undefined) {
      this.reader = undefined
      reader.resolve(reader.batch ? [item] : { done: false, value: item })
      return
    }
    if (this.length >= this.maxItems) throw new PushableFullError(`expected at most ${this.maxItems} queued items (maxItems), but the queue is full; await onRoom() before pushing more, or raise maxItems`)
    this.items.push(item)
  }

  end (err?: Error): void {
    if (this.over) return
    this.over = true
    this.failure = err
    const reader = this.reader
    this.reader = undefined
    if (reader !== undefined) this.settleEnd(reader)
    this.wakeProducers()
  }

  async onRoom (options: AbortOptions = {}): Promise<void> {
    if (this.over || this.length <= this.half) return
    let waiter: (() => void) | undefined
    try {
      await raceSignal(new Promise<void>((resolve) => { waiter = resolve; this.roomWaiters.push(resolve) }), options.signal)
    } catch (err) {
      // aborted: its waiter goes, or a producer that polls with a timeout would pile them up while the consumer stalls
      const at = waiter === undefined ? -1 : this.roomWaiters.indexOf(waiter)
      if (at >= 0) this.roomWaiters.splice(at, 1)
      throw err
    }
  }

  next (): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const item = this.items[this.head]
      this.items[this.head++] = undefined as T
      if (this.head === this.items.length) this.reset()
      this.taken()
      return Promise.resolve({ done: false, value: item })
    }
    if (this.over) return this.finish(false) as Promise<IteratorResult<T>>
    return this.wait(false) as Promise<IteratorResult<T>>
  }

  nextBatch (): Promise<T[] | undefined> {
    if (this.head < this.items.length) {
      const batch = this.head === 0 ? this.items : this.items.slice(this.head)
      this.reset()
      this.taken()
      return Promise.resolve(batch)
    }
    if (this.over) return this.finish(true) as Promise<T[] | undefined>
    return this.wait(true) as Promise<T[] | undefined>
  }

  /** The consumer's read, parked until an item or the end; one at a time (a second would orphan the first). */
  private wait (batch: boolean): Promise<IteratorResult<T> | T[] | undefined> {
    if (this.reader !== undefined) return Promise.reject(new InvalidParametersError('expected one read at a time from a pushable (one consumer), but a read was already waiting'))
    return new Promise((resolve, reject) => { this.reader = { resolve, reject, batch } })
  }

  /** The consumer stopped: what is queued is dropped and `push()` throws from now on. */
  async return (): Promise<IteratorReturnResult<undefined>> {
    this.reset()
    this.end()
    this.failure = undefined
    return DONE
  }

  private reset (): void {
    this.items = []
    this.head = 0
  }

  /** The end, or the failure given to `end()` (reported once; the end after it). */
  private finish (batch: boolean): Promise<IteratorResult<T> | T[] | undefined> {
    const err = this.failure
    if (err !== undefined) {
      this.failure = undefined
      return Promise.reject(err)
    }
    return batch ? Promise.resolve(undefined) : RESOLVED_DONE
  }

  private settleEnd (reader: Reader<T>): void {
    const err = this.failure
    if (err !== undefined) {
      this.failure = undefined
      reader.reject(err)
    } else {
      reader.resolve(reader.batch ? undefined : DONE)
    }
  }

  private taken (): void {
    if (this.roomWaiters.length > 0 && this.length <= this.half) this.wakeProducers()
  }

  private wakeProducers (): void {
    const waiters = this.roomWaiters
    if (waiters.length === 0) return
    this.roomWaiters = []
    for (const wake of waiters) wake()
  }
}
