import type { Frame } from '@proto/codec'
import type { Clock, PushTarget } from '@proto/interface'
import { isPushSource } from '@proto/interface'
import type { InboundQueue } from './inbound.js'
import type { FrameKinds } from './kinds.js'
import { Kind } from './kinds.js'

/** The receive clock the pump keeps. */
export interface PumpClocks {
  /** Frames from the peer were read at `now`. */
  received(now: number): void
  /** Reading resumed at `now` after our own backpressure: restart the receive clock. */
  resumed(now: number): void
}

/** What the pump tells its stage. */
export interface PumpOwner {
  /** The stage has failed, or the handler found a violation: stop at once. */
  readonly stopped: boolean
  /** The handler found a violation: the data frames read before it were queued; apply it now. */
  halted(): void
  /** The peer finished writing. */
  ended(): void
  /** The lower source threw. */
  failed(err: Error): void
}

/** Who handles the frames that are not plain data (the protocol half of the stage). */
export interface FrameHandler {
  /** Until the peer's HELLO has arrived (with `hello: true`), every frame goes to `receive`. */
  readonly awaitingHello: boolean
  /** Handles one frame of `kind` read at `now`; `true` if it is data for the user after all. */
  receive(frame: Frame, kind: number, now: number): boolean
}

/** A lower source, with the codec's batch interface when it has one. */
export type LowerSource = AsyncIterator<Frame> & { nextBatch?: () => Promise<Frame[] | undefined> }

/**
 * Reads the lower source continuously, whatever the consumer does: frames that are not data are handed to
 * the protocol handler as they arrive (so pings are answered and pongs timed even while nobody reads), data
 * frames go to the bounded inbound queue. When the queue is full the pump stops reading — backpressure
 * down to TCP — and reports `paused` so the stage suspends its receive clock. Driven by callbacks made
 * once rather than an `async` loop: an idle connection keeps one pending read. A lower source that can push
 * (the codec over the transport) is subscribed to instead: frames arrive in the socket's read callback,
 * and an idle connection keeps no pending read at all.
 */
export class Pump implements PushTarget<Frame> {
  private isPaused = false
  /** The lower source pushes (see `push`). */
  private pushed = false
  private source: LowerSource | undefined
  private nextBatch: (() => Promise<Frame[] | undefined>) | undefined
  private leftover: Frame[] | undefined
  private leftoverIndex = 0
  private onRead: ((value: unknown) => void) | undefined
  private onResumed: (() => void) | undefined
  private onError: ((err: unknown) => void) | undefined

  constructor (
    private readonly inbound: InboundQueue,
    private readonly handler: FrameHandler,
    private readonly owner: PumpOwner,
    private readonly clocks: PumpClocks,
    private readonly clock: Clock,
    private readonly kinds: FrameKinds,
    /** Empty data frames are keep-alives, for the handler. */
    private readonly keepalive: boolean
  ) {}

  /** Reading is stopped because the consumer is behind. */
  get paused (): boolean {
    return this.isPaused
  }

  /** Starts reading `source`. */
  run (source: LowerSource): void {
    this.source = source
    if (isPushSource<Frame>(source)) {
      this.pushed = true
      source.subscribe(this)
      return
    }
    this.nextBatch = source.nextBatch
    this.step()
  }

  /** Push mode: frames from below, in the read callback. `false` while the consumer is behind. */
  push (batch: Frame[]): boolean {
    if (this.owner.stopped) return false
    try {
      this.batch(batch)
    } catch (err) {
      this.fail(err)
      return false
    }
    if (this.owner.stopped) return false
    if (this.leftover === undefined && !this.inbound.full) return true
    this.waitForRoom()
    return false
  }

  /** Push mode: the lower source ended or failed. */
  end (err?: Error): void {
    if (this.owner.stopped) return
    if (err !== undefined) this.fail(err)
    else this.owner.ended()
  }

  private waitForRoom (): void {
    this.pause().then(this.onResumed ??= () => { this.afterPause() }, this.onError ??= (err) => { this.fail(err) })
  }

  /** Reads on until something must be waited for. */
  private step (): void {
    if (this.owner.stopped) return
    if (this.leftover !== undefined || this.inbound.full) {
      this.waitForRoom()
      return
    }
    if (this.pushed) {
      (this.source as LowerSource & { resume(): void }).resume()
      return
    }
    const it = this.source as LowerSource
    let read: Promise<Frame[] | undefined> | Promise<IteratorResult<Frame>>
    try {
      read = this.nextBatch !== undefined ? this.nextBatch.call(it) : it.next()
    } catch (err) {
      this.fail(err)
      return
    }
    (read as Promise<unknown>).then(this.onRead ??= (value) => { this.read(value) }, this.onError ??= (err) => { this.fail(err) })
  }

  private read (value: unknown): void {
    if (this.owner.stopped) return
    try {
      const batch = this.nextBatch !== undefined ? value as Frame[] | undefined : (value as IteratorResult<Frame>).done === true ? undefined : [(value as IteratorResult<Frame>).value]
      if (batch === undefined) {
        this.owner.ended()
        return
      }
      this.batch(batch)
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

  /** One batch from below: one timestamp for all; other frames handled, data frames queued in order. */
  private batch (batch: Frame[]): void {
    const now = this.clock.now()
    this.clocks.received(now)
    const { handler, kinds, keepalive } = this
    let hello = handler.awaitingHello
    let w = 0
    for (let i = 0; i < batch.length; i++) {
      const frame = batch[i]
      const kind = kinds[frame.type]
      // data frames skip the handler (the common case on a busy link)
      if (kind === Kind.DATA && !hello && !(keepalive && frame.body.length === 0)) {
        if (w !== i) batch[w] = frame
        w++
      } else {
        const data = handler.receive(frame, kind, now)
        hello = handler.awaitingHello
        if (data) {
          if (w !== i) batch[w] = frame
          w++
        } else if (this.owner.stopped) {
          // a violation: the data read before it is still delivered, then the stage fails
          if (w > 0) this.inbound.pushAll(batch, 0, w)
          this.owner.halted()
          return
        }
      }
    }
    if (w === 0) return // only control frames
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
    this.isPaused = true
    await this.inbound.waitForSpace()
    this.isPaused = false
    if (!this.owner.stopped) this.clocks.resumed(this.clock.now())
  }
}
