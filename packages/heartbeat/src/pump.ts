import type { InboundQueue } from './inbound.js'
import type { Peer } from './peer.js'
import type { Frame } from '@proto/codec'
import type { Clock } from '@proto/interface'

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
  ) {}

  async run (): Promise<void> {
    const it = this.source
    const nextBatch = it.nextBatch
    try {
      for (;;) {
        if (this.leftover !== undefined || this.inbound.full) {
          await this.pause()
          if (this.owner.stopped) return
          if (this.leftover !== undefined) this.deliver(this.leftover, this.leftoverIndex)
          continue
        }
        if (nextBatch !== undefined) {
          const batch = await nextBatch.call(it)
          if (this.owner.stopped) return
          if (batch === undefined) break
          this.batch(batch)
        } else {
          const r = await it.next()
          if (this.owner.stopped) return
          if (r.done === true) break
          const now = this.clock.now()
          this.owner.received(now)
          if (this.peer.receive(r.value, now)) this.deliver([r.value], 0)
        }
      }
    } catch (err) {
      this.owner.failed(err instanceof Error ? err : new Error(String(err)))
      return
    }
    this.owner.ended()
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
