import type { Frame } from '@proto/codec'
import type { Clock, PushSource, PushTarget } from '@proto/interface'
import { DONE, RESOLVED_DONE, toError } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { BURST_STAMP_EVERY, OUTBOUND_BATCH_BYTES, OUTBOUND_BATCH_FRAMES } from './constants.js'
import { ControlQueue } from './control-queue.js'
import type { Feed, FeedOwner } from './feed.js'
import { feed } from './feed.js'

/** What the outbound tells its stage. */
export interface OutboundOwner {
  /** A control frame was handed to the connection. */
  controlSent(frame: Frame): void
  /** User frames were handed to the connection at `now` (stamped sparingly: see `BURST_STAMP_EVERY`). */
  dataSent(now: number): void
  /** The user's source threw `err`. */
  userFailed(err: Error): void
  /** `count` frames the user's source gave could not be sent: writing had ended. */
  unsent(count: number): void
}

/** When writing ends, from the least to the most abrupt (the mode only ever moves up). */
const enum Mode {
  /** After the user's source ends (the user's half-close). */
  Open,
  /** Also at once when no user source is attached (`close()`). */
  Closing,
  /** Once nothing more is ready without waiting for the user's source (the owner is going away). */
  Draining,
  /** Once the queued control frames are out; the user's source is abandoned (a GOAWAY on its way). */
  Finishing
}

/**
 * The one source the stage gives the lower sink. Control frames (HELLO, PING, PONG, GOAWAY) go before the
 * next user frame, so a pong never waits behind queued data; user frames come from the feed, pulled only
 * when the lower sink asks, so the user's producer feels the connection's backpressure. A lower sink that
 * reads with `nextBatch()` gets everything ready at once (bounded per batch). A lower sink that waits is
 * handed a frame queued later directly, with no hop in between.
 *
 * A lower sink that can take pushes (the codec over the transport) subscribes instead (`PushSource`): then
 * whatever becomes ready — a ping from the timer, a pong from the pump, frames from the user's source —
 * is pushed down at once, in the same call, and an idle connection keeps nothing parked between layers.
 * While the lower pushes back, frames wait here exactly as they wait for a pulling sink.
 */
export class Outbound implements AsyncIterableIterator<Frame>, FeedOwner, PushSource<Frame> {
  /** Made at the first control frame. */
  private control: ControlQueue | undefined
  private feed: Feed | undefined
  private mode = Mode.Open
  private failure: Error | undefined
  private over = false
  private dataCount = 0
  /** `take()` runs for a writer that was waiting: what it hands down is timestamped. */
  private waking = false
  /** Closing: every user frame is timestamped, since `close()` measures its progress by them. */
  private stampAll = false
  private writerResolve: ((value: IteratorResult<Frame> | Frame[] | undefined) => void) | undefined
  private writerReject: ((err: unknown) => void) | undefined
  private writerBatch = false
  /** Push mode: the subscribed lower sink; `targetFull` while it asked to wait; `told` once it got the end. */
  private target: PushTarget<Frame> | undefined
  private targetFull = false
  private told = false
  private pushing = false

  constructor (private readonly owner: OutboundOwner, private readonly clock: Clock, private readonly pongType: number | undefined) {}

  [Symbol.asyncIterator] (): this {
    return this
  }

  /** Nothing more will be handed down (the end was returned, or writing failed). */
  get done (): boolean {
    return this.over || this.failure !== undefined
  }

  get writerWaiting (): boolean {
    return this.target !== undefined ? !this.targetFull : this.writerResolve !== undefined
  }

  /** Push mode: from now on frames go down as they become ready (see the class note). */
  subscribe (target: PushTarget<Frame>): void {
    if (this.target !== undefined) throw new Error('expected one subscriber for the outbound frames, but subscribe() was called twice')
    this.target = target
    this.push()
  }

  /** Push mode: the lower sink takes frames again. */
  resume (): void {
    if (!this.targetFull) return
    this.targetFull = false
    this.push()
  }

  /** Starts taking frames from the user's source. */
  attach (source: Source<Frame>): void {
    this.feed = feed(source, this)
    this.ready()
  }

  /** Queues one of our own control frames ahead of user data. */
  send (frame: Frame): void {
    if (this.done) return
    (this.control ??= new ControlQueue(this.pongType)).push(frame)
    this.ready()
  }

  /** Queues a pong unless too many are waiting; `false` if it was dropped. */
  sendPong (frame: Frame): boolean {
    if (this.done || !(this.control ??= new ControlQueue(this.pongType)).offerPong(frame)) return false
    this.ready()
    return true
  }

  /** Ends once the user's source has ended, or at once if there is none. */
  close (): void {
    this.stampAll = true
    this.raise(Mode.Closing)
  }

  /** Ends once nothing more is ready; the rest of the user's source is not read. */
  drain (): void {
    this.raise(Mode.Draining)
  }

  /** Ends once the control frames queued are out; the user's source is abandoned. */
  finish (): void {
    this.feed?.stop()
    this.feed = undefined
    this.raise(Mode.Finishing)
  }

  /** Fails the lower sink's read with `err`; nothing more is handed down. */
  fail (err: Error): void {
    if (this.done) return
    this.failure = err
    this.control = undefined
    this.feed?.stop()
    this.feed = undefined
    this.rejectWriter(err)
    this.tell(err)
  }

  next (): Promise<IteratorResult<Frame>> {
    let frame: Frame | undefined
    try {
      frame = this.take()
    } catch (err) {
      return Promise.reject(err)
    }
    if (frame !== undefined) return Promise.resolve({ done: false, value: frame })
    if (this.over) return RESOLVED_DONE
    return new Promise((resolve, reject) => { this.park(resolve, reject, false) })
  }

  /**
   * Everything that can be handed down now, control frames first (at least one frame; waits for it), or
   * `undefined` at the end. A batch holds at most `OUTBOUND_BATCH_FRAMES` frames or about
   * `OUTBOUND_BATCH_BYTES`, so a control frame queued meanwhile waits for at most one batch.
   */
  nextBatch (): Promise<Frame[] | undefined> {
    let frame: Frame | undefined
    try {
      frame = this.take()
    } catch (err) {
      return Promise.reject(err)
    }
    if (frame !== undefined) return Promise.resolve(this.fill(frame))
    if (this.over) return Promise.resolve(undefined)
    return new Promise((resolve, reject) => { this.park(resolve, reject, true) })
  }

  /** The lower sink stops taking frames (it finished or failed). */
  async return (): Promise<IteratorReturnResult<undefined>> {
    this.told = true
    this.end()
    this.control = undefined
    return DONE
  }

  /** Feed hook. */
  unsent (count: number): void {
    this.owner.unsent(count)
  }

  /** Feed hook (and after any change): if the lower sink waits, hands it what is ready now, the end or the failure. */
  ready (): void {
    if (this.target !== undefined) {
      this.push()
      return
    }
    const resolve = this.writerResolve
    if (resolve === undefined) return
    let frame: Frame | undefined
    this.waking = true
    try {
      frame = this.take()
    } catch (err) {
      this.rejectWriter(err)
      return
    } finally {
      this.waking = false
    }
    if (frame === undefined && !this.over) return
    this.writerResolve = undefined
    this.writerReject = undefined
    if (this.writerBatch) resolve(frame === undefined ? undefined : this.fill(frame))
    else resolve(frame === undefined ? DONE : { done: false, value: frame })
  }

  /** The next frame to hand down, or `undefined` to wait or at the end (`over` is then set). */
  private take (): Frame | undefined {
    if (this.failure !== undefined) throw this.failure
    if (this.over) return undefined
    const control = this.control?.shift()
    if (control !== undefined) {
      this.owner.controlSent(control)
      return control
    }
    const feed = this.feed
    if (feed !== undefined && (this.mode !== Mode.Draining || feed.hasReady)) {
      const frame = this.takeData(feed)
      if (frame !== undefined) return frame
      if (!feed.ended && this.mode !== Mode.Draining) return undefined
    }
    if (this.mode >= Mode.Draining || feed?.ended === true || (this.mode === Mode.Closing && feed === undefined)) this.end()
    return undefined
  }

  private takeData (feed: Feed): Frame | undefined {
    let frame: Frame | undefined
    try {
      frame = feed.take()
    } catch (thrown) {
      const err = toError(thrown)
      this.feed = undefined
      this.owner.userFailed(err)
      throw err
    }
    if (frame !== undefined && (this.waking || this.stampAll || ++this.dataCount % BURST_STAMP_EVERY === 0)) this.owner.dataSent(this.clock.now())
    return frame
  }

  /** A batch starting with `first`, plus whatever else is ready without waiting. */
  private fill (first: Frame): Frame[] {
    const batch = [first]
    let bytes = first.body.length
    while (batch.length < OUTBOUND_BATCH_FRAMES && bytes < OUTBOUND_BATCH_BYTES) {
      if (this.runReady()) {
        const before = batch.length
        bytes = (this.feed as Feed).takeRun(batch, OUTBOUND_BATCH_FRAMES, OUTBOUND_BATCH_BYTES, bytes)
        if (batch.length > before) {
          this.owner.dataSent(this.clock.now()) // one stamp per run of user frames
          continue
        }
      }
      // the source's failure surfaces from the next read, once this batch is written
      if (this.feed?.failing === true && (this.control === undefined || this.control.length === 0)) break
      let frame: Frame | undefined
      try {
        frame = this.take()
      } catch {
        break // the failure surfaces from the next read
      }
      if (frame === undefined) break
      batch.push(frame)
      bytes += frame.body.length
    }
    return batch
  }

  /** User frames may be taken as a run: nothing failed or ended, and no control frame waits to go first. */
  private runReady (): boolean {
    return this.feed !== undefined && this.failure === undefined && !this.over && (this.control === undefined || this.control.length === 0)
  }

  /** Push mode: hands down what is ready while the lower sink takes it, then the end or the failure. */
  private push (): void {
    const target = this.target
    if (target === undefined || this.pushing || this.told) return
    this.pushing = true
    try {
      while (!this.targetFull) {
        let frame: Frame | undefined
        this.waking = true
        try {
          frame = this.take()
        } catch (err) {
          this.tell(toError(err))
          return
        } finally {
          this.waking = false
        }
        if (frame === undefined) break
        if (!target.push(this.fill(frame))) this.targetFull = true
      }
      if (this.over) this.tell(undefined)
    } finally {
      this.pushing = false
    }
  }

  /** Push mode: the lower sink is told the end (`err` undefined) or the failure, once. */
  private tell (err: Error | undefined): void {
    const target = this.target
    if (target === undefined || this.told) return
    this.told = true
    target.end(err)
  }

  private raise (mode: Mode): void {
    if (mode > this.mode) this.mode = mode
    this.ready()
  }

  private end (): void {
    this.over = true
    this.feed?.stop()
    this.feed = undefined
  }

  /** The lower sink waits: a frame queued later resolves its read directly. */
  private park (resolve: (value: never) => void, reject: (err: unknown) => void, batch: boolean): void {
    this.writerResolve = resolve as (value: IteratorResult<Frame> | Frame[] | undefined) => void
    this.writerReject = reject
    this.writerBatch = batch
  }

  private rejectWriter (err: unknown): void {
    const reject = this.writerReject
    this.writerResolve = undefined
    this.writerReject = undefined
    reject?.(err)
  }
}
