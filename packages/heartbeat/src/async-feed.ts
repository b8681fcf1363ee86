import type { Frame } from '@proto/codec'
import type { BatchIterator } from '@proto/interface'
import { afterReady } from '@proto/interface'
import { AheadFeed, ENDED } from './ahead-feed.js'
import { OUTBOUND_BATCH_BYTES, OUTBOUND_BATCH_FRAMES } from './constants.js'
import type { FeedOwner } from './feed.js'

/**
 * What the two pulled feeds share: one read of the source pending at a time, its result kept ahead.
 */
abstract class PulledFeed extends AheadFeed {
  protected pending = false
  /** `take()` started the read: a result that comes back at once is taken by it, not announced. */
  private inTake = false
  protected onError: ((err: unknown) => void) | undefined

  constructor (protected readonly it: AsyncIterator<Frame>, owner: FeedOwner) {
    super(owner, it)
  }

  protected nothingAhead (): Frame | undefined {
    if (this.pending || this.stopped) return undefined
    this.inTake = true
    try {
      this.pull()
    } finally {
      this.inTake = false
    }
    return this.ahead !== undefined || this.over !== undefined ? this.take() : undefined
  }

  /** Starts the one pending read of the source. */
  protected abstract pull (): void

  protected failed (err: unknown): void {
    this.pending = false
    if (this.stopped) return
    this.over = { err }
    this.announce()
  }

  /** Tells the owner something can be taken, unless `take()` is running and will take it itself. */
  protected announce (): void {
    if (!this.inTake) this.owner.ready()
  }
}

/**
 * An async source without `nextBatch()`. Reads on ahead by at most one outbound batch, so the lower sink
 * takes what was read with one `takeRun()`. A frame that arrives while the lower sink waits is announced
 * once the producer has nothing more ready (`afterReady`), or at once when the batch is full: a busy
 * producer's frames go down together, a lone frame in the same turn of the event loop.
 */
export class AsyncFeed extends PulledFeed {
  private aheadBytes = 0
  private onResult: ((r: IteratorResult<Frame>) => void) | undefined
  private announceQueued = false
  private readonly announceLater = (): void => {
    this.announceQueued = false
    this.announce()
  }

  protected pull (): void {
    this.pending = true
    let r: IteratorResult<Frame> | Promise<IteratorResult<Frame>>
    try {
      r = this.it.next()
    } catch (err) {
      this.failed(err)
      return
    }
    const onResult = this.onResult ??= (result) => { this.result(result) }
    if (typeof (r as Promise<IteratorResult<Frame>>).then === 'function') (r as Promise<IteratorResult<Frame>>).then(onResult, this.onError ??= (err) => { this.failed(err) })
    else onResult(r as unknown as IteratorResult<Frame>)
  }

  protected override clearAhead (): void {
    super.clearAhead()
    this.aheadBytes = 0
  }

  private result (r: IteratorResult<Frame>): void {
    this.pending = false
    if (this.stopped) {
      if (r.done !== true) this.owner.unsent(1) // given after the stage stopped writing
      return
    }
    if (r.done === true) {
      this.over = ENDED
    } else {
      const ahead = this.ahead ??= []
      ahead.push(r.value)
      this.aheadBytes += r.value.body.length
      if (ahead.length - this.index < OUTBOUND_BATCH_FRAMES && this.aheadBytes < OUTBOUND_BATCH_BYTES) {
        this.pull()
        // a waiting lower sink is handed what else the producer has ready along with this frame
        if (this.owner.writerWaiting) {
          if (!this.announceQueued) {
            this.announceQueued = true
            afterReady(this.announceLater)
          }
          return
        }
      }
    }
    this.announce()
  }
}

/** An async source with `nextBatch()` (another stage's queue): pulled a batch at a time, each handed down whole. */
export class BatchFeed extends PulledFeed {
  private onBatch: ((batch: Frame[] | undefined) => void) | undefined

  constructor (protected override readonly it: BatchIterator<Frame>, owner: FeedOwner) {
    super(it, owner)
  }

  protected pull (): void {
    this.pending = true
    let p: Promise<Frame[] | undefined>
    try {
      p = this.it.nextBatch()
    } catch (err) {
      this.failed(err)
      return
    }
    p.then(this.onBatch ??= (batch) => { this.batch(batch) }, this.onError ??= (err) => { this.failed(err) })
  }

  private batch (batch: Frame[] | undefined): void {
    this.pending = false
    if (this.stopped) {
      if (batch !== undefined) this.owner.unsent(batch.length)
      return
    }
    if (batch === undefined) this.over = ENDED
    else if (batch.length > 0) this.ahead = batch
    this.announce()
  }
}
