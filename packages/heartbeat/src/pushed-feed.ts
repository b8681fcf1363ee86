import type { Frame } from '@proto/codec'
import type { PushSource, PushTarget } from '@proto/interface'
import { afterReady } from '@proto/interface'
import { AheadFeed, ENDED } from './ahead-feed.js'
import { OUTBOUND_BATCH_BYTES, OUTBOUND_BATCH_FRAMES } from './constants.js'
import type { FeedOwner } from './feed.js'

/**
 * A source that pushes (another stage's source: a heartbeat's, the codec's): subscribed to instead of
 * read, so nothing is parked while it has nothing to give. What it pushes waits here for the lower sink,
 * and is announced at once (a source pushes whole batches: there is nothing more to gather). Once a
 * batch's worth waits (frames, or bytes pushed since the lower sink last took everything), the source is
 * told to wait; it is resumed once the lower sink has taken it all, from the next tick, so that nothing it
 * pushes then reaches the outbound while it is handing frames down.
 */
export class PushedFeed extends AheadFeed implements PushTarget<Frame> {
  private aheadBytes = 0
  private sourceWaits = false
  private resumeQueued = false
  private resumeLater: (() => void) | undefined
  /** `subscribe()` runs: what the source pushes at once is announced by the owner's own `ready()` after it. */
  private starting = true

  constructor (private readonly pusher: PushSource<Frame>, owner: FeedOwner) {
    super(owner, pusher)
    try {
      pusher.subscribe(this)
    } catch (err) {
      this.over = { err }
    }
    this.starting = false
  }

  /** From the source: frames, in order. `false` once a batch's worth waits (the source waits for `resume()`). */
  push (frames: Frame[]): boolean {
    if (this.stopped || this.over !== undefined) {
      this.owner.unsent(frames.length)
      return false
    }
    let bytes = 0
    for (let i = 0; i < frames.length; i++) bytes += (frames[i] as Frame).body.length
    const ahead = this.ahead
    if (ahead === undefined) this.ahead = frames
    else for (let i = 0; i < frames.length; i++) ahead.push(frames[i] as Frame)
    this.aheadBytes += bytes
    if (!this.starting) this.owner.ready() // the lower sink may take them all, here and now
    const waiting = this.ahead === undefined ? 0 : this.ahead.length - this.index
    if (waiting < OUTBOUND_BATCH_FRAMES && this.aheadBytes < OUTBOUND_BATCH_BYTES) return true
    this.sourceWaits = true
    return false
  }

  /** From the source: the end, or its failure (surfaced once every frame before it was taken). */
  end (err?: Error): void {
    if (this.stopped || this.over !== undefined) return
    this.over = err === undefined ? ENDED : { err }
    if (!this.starting) this.owner.ready()
  }

  /** Nothing is read: the source pushes when it has frames. */
  protected nothingAhead (): undefined {
    return undefined
  }

  protected override clearAhead (): void {
    super.clearAhead()
    this.aheadBytes = 0
    if (this.sourceWaits && !this.resumeQueued && !this.stopped) {
      this.resumeQueued = true
      afterReady(this.resumeLater ??= () => { this.resume() })
    }
  }

  private resume (): void {
    this.resumeQueued = false
    if (!this.sourceWaits || this.stopped || this.over !== undefined) return
    this.sourceWaits = false
    this.pusher.resume()
  }
}
