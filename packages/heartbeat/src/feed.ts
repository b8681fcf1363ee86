import type { Frame } from '@proto/codec'
import { asyncIteratorOf, isBatchIterator, isPushSource, iteratorOf } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { abandon } from './ahead-feed.js'
import { AsyncFeed, BatchFeed } from './async-feed.js'
import { PushedFeed } from './pushed-feed.js'

/** What a feed needs from the outbound that reads it. */
export interface FeedOwner {
  /** Whether the lower sink is parked waiting for a frame (then there is no point reading ahead). */
  readonly writerWaiting: boolean
  /** Frames, the end or a failure became ready while no one was asking: hand them down if the writer waits. */
  ready(): void
  /** `count` frames the source gave were dropped: the feed had been stopped. */
  unsent(count: number): void
}

/** The user's source as the outbound sees it: frames in order, then the end or the source's failure. */
export interface Feed {
  /**
   * The next frame ready now, or `undefined` when none is: a read is then under way (`ready()` follows)
   * or the source has ended (`ended`). Throws what the source threw, once the frames before it were taken.
   */
  take(): Frame | undefined
  /**
   * Appends to `into` the frames of the batch already read that are ready now, while `into` holds fewer
   * than `maxFrames` and `bytes` (the bytes `into` holds, returned updated) stays under `maxBytes`. Never
   * reads the source, never throws: a read, the end and a failure are `take()`'s.
   */
  takeRun(into: Frame[], maxFrames: number, maxBytes: number, bytes: number): number
  /** The source has ended and every frame it gave was taken. */
  readonly ended: boolean
  /** A frame, the end or a failure can be taken now without waiting for the source. */
  readonly hasReady: boolean
  /** What `take()` gives next is the source's failure: every frame before it was taken. */
  readonly failing: boolean
  /** Stops reading: frames not taken are dropped (and reported as unsent) and the source's `return()` is called. */
  stop(): void
}

/**
 * Reads `source` the way its kind allows: subscribed to when it pushes (another stage's source), else
 * synchronously, a batch at a time, or one frame at a time with read-ahead.
 */
export function feed (source: Source<Frame>, owner: FeedOwner): Feed {
  if (Symbol.asyncIterator in source) {
    const it = asyncIteratorOf(source as AsyncIterable<Frame>)
    if (isPushSource<Frame>(it)) return new PushedFeed(it, owner)
    return isBatchIterator(it) ? new BatchFeed(it, owner) : new AsyncFeed(it, owner)
  }
  return new SyncFeed(iteratorOf(source as Iterable<Frame>))
}

/** A synchronous source: pulled only when the lower sink asks, so it feels the connection's backpressure. */
class SyncFeed implements Feed {
  ended = false

  constructor (private readonly it: Iterator<Frame>) {}

  get hasReady (): boolean {
    return !this.ended
  }

  /** A synchronous source's failure is known only when `take()` pulls it. */
  get failing (): boolean {
    return false
  }

  take (): Frame | undefined {
    if (this.ended) return undefined
    let r: IteratorResult<Frame>
    try {
      r = this.it.next()
    } catch (err) {
      this.ended = true
      throw err
    }
    if (r.done !== true) return r.value
    this.ended = true
    return undefined
  }

  /** A synchronous source has nothing read ahead: `take()` pulls it. */
  takeRun (_into: Frame[], _maxFrames: number, _maxBytes: number, bytes: number): number {
    return bytes
  }

  stop (): void {
    if (this.ended) return
    this.ended = true
    abandon(this.it)
  }
}
