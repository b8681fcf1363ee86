import type { Frame } from '@proto/codec'
import type { PushSource, PushTarget } from '@proto/interface'
import { afterReady } from '@proto/interface'
import { OUTBOUND_BATCH_BYTES, OUTBOUND_BATCH_FRAMES } from './constants.js'
import type { Feed, FeedOwner } from './feed.js'

/** The source ended (no failure). */
const ENDED = Object.freeze({ err: undefined })

/**
 * A source that pushes (another stage's source: a heartbeat's, the codec's): subscribed to instead of
 * read, so nothing is parked while it has nothing to give. What it pushes waits here for the lower sink,
 * and is announced at once (a source pushes whole batches: there is nothing more to gather). Once a
 * batch's worth waits, the source is told to wait; it is resumed once the lower sink has taken it all,
 * from the next tick, so that nothing it pushes then reaches the outbound while it is handing frames down.
 */
export class PushedFeed implements Feed, PushTarget<Frame> {
  private ahead: Frame[] | undefined
  private index = 0
  private aheadBytes = 0
  private over: { err: unknown } | undefined
  private stopped = false
  private sourceWaits = false
  private resumeQueued = false
  private resumeLater: (() => void) | undefined
  /** `subscribe()` runs: what the source pushes at once is announced by the owner's own `ready()` after it. */
  private starting = true

  constructor (private readonly source: PushSource<Frame>, private readonly owner: FeedOwner) {
    try {
      source.subscribe(this)
    } catch (err) {
      this.over = { err }
    }
    this.starting = false
  }

  get ended (): boolean {
    return this.over === ENDED && this.ahead === undefined
  }

  get hasReady (): boolean {
    return this.ahead !== undefined || this.over !== undefined
  }

  get failing (): boolean {
    return this.ahead === undefined && this.over !== undefined && this.over !== ENDED
  }

  /** From the source: frames, in order. `false` once a batch's worth waits (the source waits for `resume()`). */
  push (frames: Frame[]): boolean {
    if (this.stopped || this.over !== undefined) {
      this.owner.unsent(frames.length)
      return false
    }
    let bytes = 0
    for (let i = 0; i < frames.length; i++) bytes += (frames[i] as Frame).body.byteLength
    const ahead = this.ahead
    if (ahead === undefined) this.ahead = frames
    else for (let i = 0; i < frames.length; i++) ahead.push(frames[i] as Frame)
    this.aheadBytes += bytes
    this.announce()
    if (this.roomy) return true
    this.sourceWaits = true
    return false
  }

  /** From the source: the end, or its failure (surfaced once every frame before it was taken). */
  end (err?: Error): void {
    if (this.stopped || this.over !== undefined) return
    this.over = err === undefined ? ENDED : { err }
    this.announce()
  }

  take (): Frame | undefined {
    const ahead = this.ahead
    if (ahead !== undefined) {
      const frame = ahead[this.index++] as Frame
      this.aheadBytes -= frame.body.byteLength
      if (this.index >= ahead.length) this.clearAhead()
      return frame
    }
    const over = this.over
    if (over === undefined || over === ENDED) return undefined
    this.over = ENDED
    throw over.err
  }

  takeRun (into: Frame[], maxFrames: number, maxBytes: number, bytes: number): number {
    const ahead = this.ahead
    if (ahead === undefined) return bytes
    let i = this.index
    let taken = 0
    while (i < ahead.length && into.length < maxFrames && bytes < maxBytes) {
      const frame = ahead[i++] as Frame
      into.push(frame)
      bytes += frame.body.byteLength
      taken += frame.body.byteLength
    }
    this.aheadBytes -= taken
    if (i >= ahead.length) this.clearAhead()
    else this.index = i
    return bytes
  }

  stop (): void {
    if (this.stopped) return
    this.stopped = true
    if (this.ahead !== undefined) this.owner.unsent(this.ahead.length - this.index)
    this.ahead = undefined
    this.index = 0
    this.aheadBytes = 0
    if (this.over === undefined) {
      try {
        const r = this.source.return?.()
        if (r != null && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, () => {})
      } catch {}
    }
    this.over = ENDED
  }

  /** Less than a batch waits: the source may push again. */
  private get roomy (): boolean {
    return (this.ahead === undefined ? 0 : this.ahead.length - this.index) < OUTBOUND_BATCH_FRAMES && this.aheadBytes < OUTBOUND_BATCH_BYTES
  }

  private clearAhead (): void {
    this.ahead = undefined
    this.index = 0
    this.aheadBytes = 0
    if (this.sourceWaits && !this.resumeQueued) {
      this.resumeQueued = true
      afterReady(this.resumeLater ??= () => { this.resume() })
    }
  }

  private resume (): void {
    this.resumeQueued = false
    if (!this.sourceWaits || this.stopped || this.over !== undefined) return
    this.sourceWaits = false
    this.source.resume()
  }

  private announce (): void {
    if (!this.starting) this.owner.ready()
  }
}
