import type { PushSource, PushTarget } from '@proto/interface'
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

/** What counts the items handed to one connection (its `handed`). */
export interface HandedCount {
  handed: number
}

/**
 * The iterable a connection's sink drains: the outbox's items for this connection (items it has not had
 * yet, then buffered ones), done once writing has ended and everything was handed. It also offers
 * `nextBatch()`, everything ready at once, for lower stages that write batches. Ready items come as
 * already-resolved promises; a sink that waits is handed the next item as soon as there is one.
 *
 * A sink that takes pushes subscribes instead (`PushSource`): batches go to it when a waiting batch
 * sink would have been handed them (the same timing, below), and nothing is parked while there is
 * nothing to send. While it asks to wait, items stay in the outbox.
 */
export class Feed<T> implements AsyncIterableIterator<T>, PushSource<T> {
  /** The feed returned its end because writing ended (not because the connection was released). */
  ended = false
  private released = false
  private waiter: Waiter<T> | undefined
  private waiterWantsBatch = false
  private wakeQueued = false
  /** Push mode: the subscribed sink, whether it asked to wait, whether it was told the end. */
  private target: PushTarget<T> | undefined
  private targetFull = false
  private told = false
  private pushing = false
  private again = false

  constructor (private readonly owner: FeedOwner<T>, private readonly connection: HandedCount) {}

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

  /** The lower sink stopped pulling (or, subscribed, taking pushes: it is told nothing more). */
  async return (): Promise<IteratorResult<T>> {
    this.told = true
    return DONE
  }

  /** Push mode: from now on batches go to `target` (what is ready, at once), then the end. Once, with no read pending. */
  subscribe (target: PushTarget<T>): void {
    if (this.target !== undefined || this.waiter !== undefined) throw new Error('expected subscribe() once, with no read pending, on a connection\'s feed')
    this.target = target
    this.pushReady()
  }

  /** Push mode: the sink takes batches again after `push()` returned `false`. */
  resume (): void {
    if (!this.targetFull) return
    this.targetFull = false
    this.pushReady()
  }

  /** Something changed (an item arrived, room was made, writing ended): a waiting sink gets it now. */
  wake (): void {
    if (this.target !== undefined) {
      this.pushReady()
      return
    }
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
    if (this.target !== undefined) {
      if (this.targetFull || this.told) return
    } else {
      if (this.waiter === undefined) return
      if (!this.waiterWantsBatch) {
        this.wake()
        return
      }
    }
    const outbox = this.owner.outbox
    const full = outbox.buffer.byteLength >= FEED_BATCH_BYTES
    // the common case for a busy producer, item after item: a wake is queued and no batch is full yet
    if (this.wakeQueued && !full) return
    const halfFull = outbox.retentionHalfFull
    if (!halfFull && full) {
      this.wake()
      return
    }
    if (this.wakeQueued) return
    this.wakeQueued = true
    const wakeQueued = this.wakeQueuedBatch ??= () => {
      this.wakeQueued = false
      this.wake()
    }
    // half the retention window unconfirmed: let the I/O phase read the confirmations that came in first
    if (halfFull) afterIo(wakeQueued)
    else afterReady(wakeQueued)
  }

  /** Made at the first batch that waits (a connection that never writes makes none). */
  private wakeQueuedBatch: (() => void) | undefined

  /** The connection is gone: a waiting sink is told the end, and nothing more is handed. */
  release (): void {
    this.released = true
    if (this.target !== undefined) {
      this.pushReady()
      return
    }
    const waiter = this.waiter
    this.waiter = undefined
    if (waiter === undefined) return
    if (this.waiterWantsBatch) (waiter as (batch: T[] | undefined) => void)(undefined)
    else (waiter as (result: IteratorResult<T>) => void)(DONE)
  }

  /** Push mode: hands batches while the sink takes them, then the end (writing ended and all handed, or released). */
  private pushReady (): void {
    const target = this.target
    if (target === undefined || this.told) return
    if (this.pushing) {
      this.again = true // asked from within a push: looked at again once it returns, in order
      return
    }
    this.pushing = true
    try {
      do {
        this.again = false
        while (!this.targetFull && !this.told) {
          const batch = this.takeBatch()
          if (batch === undefined) break
          if (!target.push(batch)) this.targetFull = true
        }
        if (!this.told && this.atEnd()) {
          this.told = true
          target.end()
        }
      } while (this.again && !this.told)
    } finally {
      this.pushing = false
    }
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
    this.connection.handed += count
    this.owner.handed(count)
  }
}
