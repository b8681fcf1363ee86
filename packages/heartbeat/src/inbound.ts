import type { Frame } from '@proto/codec'
import type { PushTarget } from '@proto/interface'
import { DONE, InvalidParametersError, RESOLVED_DONE } from '@proto/interface'
import type { GoAwayDetail, GoAwayTarget } from './events.js'

const INITIAL_CAPACITY = 16
/** The ring before the first queued frame (shared; never written to: `push` grows it first). */
const NO_FRAMES: Array<Frame | undefined> = []

interface Waiter<T> {
  resolve(value: T): void
  reject(err: unknown): void
}

/**
 * The upper `source` of the stage: a bounded FIFO of inbound data frames, filled by the stage's pump and
 * drained by the consumer through a hand-written async iterator. Queued frames are served with
 * already-resolved promises; the ring grows by doubling up to `maxFrames` and is allocated lazily.
 *
 * A consumer that takes pushes (another stage's sink) subscribes instead: frames go to it as the pump
 * hands them over, in the same call, and queue here only while it asks to wait; nothing is parked while
 * the peer is silent.
 */
export class InboundQueue implements AsyncIterableIterator<Frame> {
  private buf: Array<Frame | undefined> = NO_FRAMES
  private mask = -1
  private head = 0
  private count = 0
  private bytes = 0
  private reader: Waiter<IteratorResult<Frame>> | Waiter<Frame[] | undefined> | undefined
  private readerWantsBatch = false
  private ended = false
  private failure: Error | undefined
  private space: (() => void) | undefined
  /** The consumer called `return()`: data frames are dropped from now on. */
  private discarding = false
  /** Push mode: the subscribed consumer; `targetFull` while it asked to wait; `told` once it got the end. */
  private target: PushTarget<Frame> | undefined
  private targetFull = false
  private told = false

  constructor (private readonly maxFrames: number, private readonly maxBytes: number) {}

  [Symbol.asyncIterator] (): this {
    return this
  }

  /** Frames queued. */
  get queuedFrames (): number {
    return this.count
  }

  /** Body bytes queued. */
  get queuedBytes (): number {
    return this.bytes
  }

  /** Whether the pump must stop reading from below. */
  get full (): boolean {
    return !this.discarding && (this.count >= this.maxFrames || this.bytes >= this.maxBytes)
  }

  /** Whether the consumer has drained the queue enough for the pump to resume (hysteresis at half). */
  private get roomy (): boolean {
    return this.count <= (this.maxFrames >>> 1) && this.bytes <= this.maxBytes / 2
  }

  /** Adds a data frame (the pump checks `full` first). */
  push (frame: Frame): void {
    if (this.discarding || this.ended || this.failure != null) return
    const target = this.target
    if (target !== undefined && !this.targetFull && this.count === 0) {
      if (!target.push([frame])) this.targetFull = true
      return
    }
    const reader = this.reader
    if (reader != null && this.count === 0) {
      this.reader = undefined
      if (this.readerWantsBatch) (reader as Waiter<Frame[] | undefined>).resolve([frame])
      else (reader as Waiter<IteratorResult<Frame>>).resolve({ done: false, value: frame })
      return
    }
    if (this.count === this.buf.length) this.grow()
    this.buf[(this.head + this.count) & this.mask] = frame
    this.count++
    this.bytes += frame.body.length
  }

  /**
   * Adds `frames[from…]` until the queue is full; a waiting reader gets them directly (a batch reader as
   * many as the limits allow, in one array). Returns the index of the first frame not taken.
   */
  pushMany (frames: Frame[], from: number): number {
    let i = from
    const target = this.target
    if (target !== undefined && !this.targetFull && this.count === 0 && i < frames.length && !this.discarding && !this.ended && this.failure == null) {
      // the consumer takes them all, in the pump's call
      if (!target.push(i === 0 ? frames : frames.slice(i))) this.targetFull = true
      return frames.length
    }
    const reader = this.reader
    if (reader != null && this.count === 0 && i < frames.length && !this.discarding) {
      this.reader = undefined
      if (this.readerWantsBatch) {
        let bytes = 0
        let j = i
        while (j < frames.length && j - i < this.maxFrames && bytes < this.maxBytes) bytes += frames[j++].body.length
        ;(reader as Waiter<Frame[] | undefined>).resolve(i === 0 && j === frames.length ? frames : frames.slice(i, j))
        i = j
      } else {
        (reader as Waiter<IteratorResult<Frame>>).resolve({ done: false, value: frames[i++] })
      }
    }
    if (this.discarding || this.ended || this.failure != null) return frames.length
    // the rest goes into the ring in one tight loop (no per-frame checks beyond the limits)
    const maxFrames = this.maxFrames
    const maxBytes = this.maxBytes
    while (i < frames.length && this.count < maxFrames && this.bytes < maxBytes) {
      if (this.count === this.buf.length) this.grow()
      const frame = frames[i++]
      this.buf[(this.head + this.count) & this.mask] = frame
      this.count++
      this.bytes += frame.body.length
    }
    return i
  }

  /**
   * Adds `frames[from…to)` whatever the limits: data read just before a protocol violation, which ends
   * the stream (at most one batch from below).
   */
  pushAll (frames: Frame[], from: number, to: number): void {
    for (let i = from; i < to; i++) this.push(frames[i])
  }

  /** The peer finished writing: the consumer gets what is queued, then the end. */
  end (): void {
    if (this.ended || this.failure != null) return
    this.ended = true
    if (this.count === 0) {
      this.settleReader(undefined)
      this.tell(undefined)
    }
  }

  /**
   * Fails the source with `err`. With `drain` the consumer first gets what is queued; otherwise the queue
   * is dropped and the pending read rejects now.
   */
  fail (err: Error, drain: boolean): void {
    if (this.failure != null) return
    this.failure = err
    if (!drain) this.clear()
    if (this.count === 0) {
      this.settleReader(err)
      this.tell(err)
    }
    this.wakePump()
  }

  /**
   * Push mode: from now on frames go to `target` as they arrive (those queued, at once), then the end or
   * the failure. Called at most once, with no read pending; frames read before it were the reader's (a
   * stage above may read a handshake, then subscribe).
   */
  subscribe (target: PushTarget<Frame>): void {
    if (this.target !== undefined) throw new Error('expected one subscriber for the inbound frames, but subscribe() was called twice')
    if (this.reader !== undefined) throw new Error('expected subscribe() with no read pending, but a next() is waiting for the inbound frames')
    this.target = target
    this.flush()
  }

  /** The peer's GOAWAY was read: a subscribed consumer that takes it is told now (`GoAwayTarget`). */
  goAwayRead (detail: GoAwayDetail): void {
    (this.target as (PushTarget<Frame> & GoAwayTarget) | undefined)?.goAway?.(detail)
  }

  /** Push mode: the consumer takes frames again. */
  resume (): void {
    if (!this.targetFull) return
    this.targetFull = false
    this.flush()
  }

  /** Resolves once the consumer has made room (or nobody will read any more). */
  async waitForSpace (): Promise<void> {
    if (!this.full || this.failure != null) return
    await new Promise<void>((resolve) => { this.space = resolve })
  }

  next (): Promise<IteratorResult<Frame>> {
    if (this.count > 0) return Promise.resolve({ done: false, value: this.shift() })
    if (this.failure != null) return Promise.reject(this.failure)
    if (this.ended || this.discarding) return RESOLVED_DONE
    if (this.reader !== undefined) return secondRead()
    return new Promise((resolve, reject) => {
      this.readerWantsBatch = false
      this.reader = { resolve, reject }
    })
  }

  /** Every queued frame at once, or the next frames to arrive; `undefined` at the end. For stages above. */
  nextBatch (): Promise<Frame[] | undefined> {
    if (this.count > 0) {
      const out = new Array<Frame>(this.count)
      for (let i = 0; i < out.length; i++) out[i] = this.shift()
      return Promise.resolve(out)
    }
    if (this.failure != null) return Promise.reject(this.failure)
    if (this.ended || this.discarding) return Promise.resolve(undefined)
    if (this.reader !== undefined) return secondRead()
    return new Promise((resolve, reject) => {
      this.readerWantsBatch = true
      this.reader = { resolve, reject }
    })
  }

  async return (): Promise<IteratorReturnResult<undefined>> {
    this.discarding = true
    this.told = true // a subscribed consumer that returns wants nothing more, its end included
    this.clear()
    this.settleReader(undefined)
    this.wakePump()
    return DONE
  }

  async throw (err?: unknown): Promise<IteratorReturnResult<undefined>> {
    await this.return()
    throw err
  }

  private shift (): Frame {
    const frame = this.buf[this.head] as Frame
    this.buf[this.head] = undefined
    this.head = (this.head + 1) & this.mask
    this.count--
    this.bytes -= frame.body.length
    if (this.space != null && this.roomy) this.wakePump()
    return frame
  }

  /** Push mode: hands the consumer what is queued while it takes it, then the end or the failure. */
  private flush (): void {
    const target = this.target
    if (target === undefined) return
    while (this.count > 0 && !this.targetFull && !this.told) {
      const out = new Array<Frame>(this.count)
      for (let i = 0; i < out.length; i++) out[i] = this.shift()
      if (!target.push(out)) this.targetFull = true
    }
    if (this.count === 0) {
      if (this.failure != null) this.tell(this.failure)
      else if (this.ended) this.tell(undefined)
    }
  }

  /** Push mode: the consumer is told the end (`err` undefined) or the failure, once. */
  private tell (err: Error | undefined): void {
    const target = this.target
    if (target === undefined || this.told) return
    this.told = true
    target.end(err)
  }

  private settleReader (err: Error | undefined): void {
    const reader = this.reader
    if (reader == null) return
    this.reader = undefined
    if (err != null) reader.reject(err)
    else if (this.readerWantsBatch) (reader as Waiter<Frame[] | undefined>).resolve(undefined)
    else (reader as Waiter<IteratorResult<Frame>>).resolve(DONE)
  }

  private wakePump (): void {
    const space = this.space
    this.space = undefined
    space?.()
  }

  private grow (): void {
    const capacity = this.buf.length === 0 ? INITIAL_CAPACITY : this.buf.length * 2
    const next = new Array<Frame | undefined>(capacity)
    for (let i = 0; i < this.count; i++) next[i] = this.buf[(this.head + i) & this.mask]
    this.buf = next
    this.head = 0
    this.mask = capacity - 1
  }

  private clear (): void {
    this.buf = NO_FRAMES
    this.mask = -1
    this.head = 0
    this.count = 0
    this.bytes = 0
  }
}

/** One consumer, one read at a time: a second read while one waits would leave one of them unanswered for good. */
function secondRead (): Promise<never> {
  return Promise.reject(new InvalidParametersError('expected one read at a time from the heartbeat\'s source (one consumer), but a read was already waiting'))
}
