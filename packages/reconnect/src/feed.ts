import { afterIo, afterReady, DONE, RESOLVED_DONE } from '@proto/interface'
import { FEED_BATCH_BYTES, FEED_BATCH_ITEMS } from './constants.js'
import type { Outbox } from './outbox.js'
import { NOTHING } from './outbox.js'

/** What a connection's feed needs from the durable duplex. */
export interface FeedOwner<T> {
  readonly outbox: Outbox<T>
  /** Writing has ended (the user's sink finished, or `close()`): the feed ends once all was handed. */
  readonly writeEnded: boolean
  /** `count` items were handed to the feed's connection: the producer may have room now. */
  handed(count: number): void
}

type Waiter<T> = ((result: IteratorResult<T>) => void) | ((batch: T[] | undefined) => void)

/**
 * The iterable a connection's sink drains: the outbox's items for this connection (items it has not had
 * yet, then buffered ones), done once writing has ended and everything was handed. It also offers
 * `nextBatch()`, everything ready at once, for lower stages that write batches. Ready items come as
 * already-resolved promises; a sink that waits is handed the next item as soon as there is one.
 */
export class Feed<T> implements AsyncIterableIterator<T> {
  /** The feed returned its end because writing ended (not because the connection was released). */
  ended = false
  private released = false
  private waiter: Waiter<T> | undefined
  private waiterWantsBatch = false
  private wakeQueued = false

  constructor (private readonly owner: FeedOwner<T>, private readonly onHanded: (count: number) => void) {}

  [Symbol.asyncIterator] (): this { return this }

  next (): Promise<IteratorResult<T>> {
    const item = this.takeOne()
    if (item !== NOTHING) return Promise.resolve({ done: false, value: item })
    if (this.atEnd()) return RESOLVED_DONE
    return new Promise((resolve) => { this.park(resolve, false) })
  }

  /** Up to `FEED_BATCH_ITEMS` items at once; waits for one when none is ready; `undefined` at the end. */
  nextBatch (): Promise<T[] | undefined> {
    const batch = this.takeBatch()
    if (batch !== undefined) return Promise.resolve(batch)
    if (this.atEnd()) return Promise.resolve(undefined)
    return new Promise((resolve) => { this.park(resolve, true) })
  }

  /** The lower sink stopped pulling. */
  async return (): Promise<IteratorResult<T>> {
    return DONE
  }

  /** Something changed (an item arrived, room was made, writing ended): a waiting sink gets it now. */
  wake (): void {
    const waiter = this.waiter
    if (waiter === undefined) return
    if (this.waiterWantsBatch) {
      const batch = this.takeBatch()
      if (batch === undefined && !this.atEnd()) return
      this.waiter = undefined
      ;(waiter as (batch: T[] | undefined) => void)(batch)
      return
    }
    const item = this.takeOne()
    if (item === NOTHING && !this.atEnd()) return
    this.waiter = undefined
    ;(waiter as (result: IteratorResult<T>) => void)(item === NOTHING ? DONE : { done: false, value: item })
  }

  /**
   * Items were buffered. A sink waiting for one item is handed it now. A sink waiting for a batch is handed
   * one once the producer has nothing more ready (`afterReady`): what a busy producer buffers meanwhile
   * leaves as one batch (handed at once when `FEED_BATCH_BYTES` are buffered), and a lone item still
   * leaves in this turn of the event loop. While half the retention window or more is unconfirmed, the
   * batch waits for the event loop's I/O phase (`afterIo`) instead: a producer that never waits would
   * otherwise run until the window is full before the confirmations already on the socket are read, and
   * then wait for them.
   */
  pushed (): void {
    if (this.waiter === undefined) return
    if (!this.waiterWantsBatch) {
      this.wake()
      return
    }
    const outbox = this.owner.outbox
    const halfFull = outbox.retentionHalfFull
    if (!halfFull && outbox.buffer.byteLength >= FEED_BATCH_BYTES) {
      this.wake()
      return
    }
    if (this.wakeQueued) return
    this.wakeQueued = true
    // half the retention window unconfirmed: let the I/O phase read the confirmations that came in first
    if (halfFull) afterIo(this.wakeQueuedBatch)
    else afterReady(this.wakeQueuedBatch)
  }

  private readonly wakeQueuedBatch = (): void => {
    this.wakeQueued = false
    this.wake()
  }

  /** The connection is gone: a waiting sink is told the end, and nothing more is handed. */
  release (): void {
    this.released = true
    const waiter = this.waiter
    this.waiter = undefined
    if (waiter === undefined) return
    if (this.waiterWantsBatch) (waiter as (batch: T[] | undefined) => void)(undefined)
    else (waiter as (result: IteratorResult<T>) => void)(DONE)
  }

  private park (waiter: Waiter<T>, batch: boolean): void {
    this.waiter = waiter
    this.waiterWantsBatch = batch
  }

  private atEnd (): boolean {
    if (this.released) return true
    if (this.owner.writeEnded && this.owner.outbox.drained) {
      this.ended = true
      return true
    }
    return false
  }

  private takeOne (): T | typeof NOTHING {
    if (this.released) return NOTHING
    const item = this.owner.outbox.takeOne()
    if (item !== NOTHING) this.handed(1)
    return item
  }

  private takeBatch (): T[] | undefined {
    if (this.released) return undefined
    const batch = this.owner.outbox.takeBatch(FEED_BATCH_ITEMS)
    if (batch !== undefined) this.handed(batch.length)
    return batch
  }

  private handed (count: number): void {
    this.onHanded(count)
    this.owner.handed(count)
  }
}
