import type { Frame } from '@proto/codec'
import type { Clock } from '@proto/interface'
import type { InboundQueue } from './inbound.js'
import type { Peer } from './peer.js'

/** What the pump tells its stage. */
export interface PumpOwner {
  /** The stage has failed: stop at once. */
  readonly stopped: boolean
  /** Frames from the peer were read at `now`. */
  received(now: number): void
  /** Reading resumed at `now` after our own backpressure: restart the receive clock. */
  resumed(now: number): void
  /** The peer finished writing. */
  ended(): void
  /** The lower source threw. */
  failed(err: Error): void
}

/** A lower source, with the codec's batch interface when it has one. */
export type LowerSource = AsyncIterator<Frame> & { nextBatch?: () => Promise<Frame[] | undefined> }

/**
 * Reads the lower source continuously, whatever the consumer does: control frames are handled as they
 * arrive (so pings are answered and pongs timed even while nobody reads), data frames go to the bounded
 * inbound queue. When the queue is full the pump stops reading — backpressure down to TCP — and reports
 * `paused` so the stage suspends its receive clock.
 */
export class Pump {
  /** Reading is stopped because the consumer is behind. */
  paused = false
  private leftover: Frame[] | undefined
  private leftoverIndex = 0

  constructor (
    private readonly source: LowerSource,
    private readonly inbound: InboundQueue,
    private readonly peer: Peer,
    private readonly owner: PumpOwner,
    private readonly clock: Clock
  ) {
    this.nextBatch = source.nextBatch
  }

  /**
   * Starts reading. Driven by callbacks rather than an `async` loop: an idle connection keeps one pending
   * read and two callbacks made once, not a suspended function with fresh await closures per read.
   */
  run (): void {
    this.step()
  }

  /** Reads on until something must be waited for. */
  private step (): void {
    if (this.owner.stopped) return
    if (this.leftover !== undefined || this.inbound.full) {
      this.pause().then(this.onResumed ??= () => { this.afterPause() }, this.onError ??= (err) => { this.fail(err) })
      return
    }
    const it = this.source
    let read: Promise<Frame[] | undefined> | Promise<IteratorResult<Frame>>
    try {
      read = this.nextBatch !== undefined ? this.nextBatch.call(it) : it.next()
    } catch (err) {
      this.fail(err)
      return
    }
    (read as Promise<unknown>).then(this.onRead ??= (value) => { this.read(value) }, this.onError ??= (err) => { this.fail(err) })
  }

  private readonly nextBatch: (() => Promise<Frame[] | undefined>) | undefined
  private onRead: ((value: unknown) => void) | undefined
  private onResumed: (() => void) | undefined
  private onError: ((err: unknown) => void) | undefined

  private read (value: unknown): void {
    if (this.owner.stopped) return
    try {
      if (this.nextBatch !== undefined) {
        const batch = value as Frame[] | undefined
        if (batch === undefined) {
          this.owner.ended()
          return
        }
        this.batch(batch)
      } else {
        const r = value as IteratorResult<Frame>
        if (r.done === true) {
          this.owner.ended()
          return
        }
        const now = this.clock.now()
        this.owner.received(now)
        if (this.peer.receive(r.value, now)) this.deliver([r.value], 0)
      }
    } catch (err) {
      this.fail(err)
      return
    }
    this.step()
  }

  private afterPause (): void {
    if (this.owner.stopped) return
    if (this.leftover !== undefined) {
      try {
        this.deliver(this.leftover, this.leftoverIndex)
      } catch (err) {
        this.fail(err)
        return
      }
    }
    this.step()
  }

  private fail (err: unknown): void {
    this.owner.failed(err instanceof Error ? err : new Error(String(err)))
  }

  /** One batch from below: one timestamp for all; control frames handled, data frames queued in order. */
  private batch (batch: Frame[]): void {
    const now = this.clock.now()
    this.owner.received(now)
    const peer = this.peer
    const { pingType, pongType } = peer
    let hello = peer.awaitingHello
    let w = 0
    for (let i = 0; i < batch.length; i++) {
      const frame = batch[i]
      const type = frame.type
      // data frames skip the protocol handler (the common case on a busy link)
      if (type !== pingType && type !== pongType && !hello) {
        if (w !== i) batch[w] = frame
        w++
      } else {
        const data = peer.receive(frame, now)
        hello = peer.awaitingHello
        if (data) {
          if (w !== i) batch[w] = frame
          w++
        } else if (this.owner.stopped) return
      }
    }
    if (w === 0) return // only pings and pongs
    if (w !== batch.length) batch.length = w
    this.deliver(batch, 0)
  }

  private deliver (frames: Frame[], from: number): void {
    const i = this.inbound.pushMany(frames, from)
    if (i < frames.length) {
      this.leftover = frames
      this.leftoverIndex = i
    } else {
      this.leftover = undefined
    }
  }

  /** Our consumer is behind: stop reading until it has made room. */
  private async pause (): Promise<void> {
    this.paused = true
    await this.inbound.waitForSpace()
    this.paused = false
    if (!this.owner.stopped) this.owner.resumed(this.clock.now())
  }
}
