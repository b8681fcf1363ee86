import type { Frame } from '@proto/codec'
import type { Clock } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { BURST_STAMP_EVERY, MAX_CONTROL_QUEUE, OUTBOUND_BATCH_BYTES, OUTBOUND_BATCH_FRAMES } from './constants.js'

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

/** What the outbound tells its owner. */
export interface OutboundHooks {
  /** A control frame was handed to the connection. */
  controlSent(frame: Frame): void
  /** The user's source threw. */
  userFailed(err: unknown): void
}

/**
 * The one source the stage feeds into the lower sink: control frames (pings, pongs, GOAWAY, HELLO) are
 * served before the next user frame, so a pong never waits behind queued data. User frames are pulled when
 * the lower sink asks, so the user's producer feels the connection's backpressure: a synchronous source
 * only then; an async source is read ahead by at most one outbound batch while the lower sink is busy, so
 * its next read takes them at once; a source that offers `nextBatch()` (an upper stage's queue) is pulled a
 * batch at a time. Either way a burst goes down as batches instead of one hop per frame.
 * Data frames are timestamped sparingly (see `BURST_STAMP_EVERY`).
 */
export class Outbound implements AsyncIterableIterator<Frame> {
  private readonly control: Frame[] = []
  private user: Iterator<Frame> | AsyncIterator<Frame> | undefined
  private userPending = false
  private stash: IteratorResult<Frame> | undefined
  /** The user source's own `nextBatch()` (another stage's source, e.g. reconnect's feed): pulled a batch at a time. */
  private userNextBatch: (() => Promise<Frame[] | undefined>) | undefined
  /**
   * User frames ready to hand down, from `stashIndex` on: the last batch pulled from a `nextBatch()` source,
   * or frames an async source yielded while the lower sink was busy (read ahead, at most one outbound batch).
   */
  private stashBatch: Frame[] | undefined
  private stashIndex = 0
  private aheadBytes = 0
  /** The async user source failed after frames read ahead: surfaces once those are handed down. */
  private userFailure: { err: unknown } | undefined
  /** The lower sink's pending read (`next()` or, with `writerBatch`, `nextBatch()`). */
  private writerResolve: ((value: IteratorResult<Frame> | Frame[] | undefined) => void) | undefined
  private writerReject: ((err: unknown) => void) | undefined
  private writerBatch = false
  private failure: Error | undefined
  /** End as soon as the control queue is empty, whatever the user source does. */
  private finishing = false
  /** End once the user source (if any) has ended and the control queue is empty. */
  private closing = false
  /** The user's source has ended. */
  userDone = false
  /** `next()` has returned the end: nothing more can be sent. */
  done = false
  /** User frames handed down so far. */
  dataSent = 0
  /** When a user frame was last handed down (a lower bound during bursts). */
  lastDataAt = -Infinity
  /** `take()` is running on behalf of a writer that was waiting: what it hands down is timestamped. */
  private waking = false

  constructor (private readonly hooks: OutboundHooks, private readonly clock: Clock) {}

  [Symbol.asyncIterator] (): this {
    return this
  }

  /** Whether a user source is attached and still running. */
  get userActive (): boolean {
    return this.user != null && !this.userDone
  }

  /** Starts pulling frames from the user's source. */
  attach (source: Source<Frame>): void {
    if (Symbol.asyncIterator in source) {
      const it: AsyncIterator<Frame> & { nextBatch?: unknown } = (source as AsyncIterable<Frame>)[Symbol.asyncIterator]()
      if (typeof it.nextBatch === 'function') this.userNextBatch = it.nextBatch as () => Promise<Frame[] | undefined>
      this.user = it
    } else {
      this.user = (source as Iterable<Frame>)[Symbol.iterator]()
    }
    this.wake()
  }

  /** Queues a control frame ahead of user data; `false` if it cannot be sent (ended, or too many queued). */
  send (frame: Frame): boolean {
    if (this.done || this.failure != null || this.finishing || this.control.length >= MAX_CONTROL_QUEUE) return false
    this.control.push(frame)
    this.wake()
    return true
  }

  /** Ends after the user source ends (at once if there is none). */
  close (): void {
    this.closing = true
    this.wake()
  }

  /** Ends once the queued control frames are out; the user source is abandoned. */
  finish (): void {
    this.finishing = true
    this.dropUser()
    this.wake()
  }

  /** Fails the lower sink's read with `err`; nothing more is sent. */
  fail (err: Error): void {
    if (this.failure != null || this.done) return
    this.failure = err
    this.control.length = 0
    this.dropUser()
    this.rejectWriter(err)
  }

  next (): Promise<IteratorResult<Frame>> {
    let frame: Frame | undefined
    try {
      frame = this.take()
    } catch (err) {
      return Promise.reject(err)
    }
    if (frame !== undefined) return Promise.resolve({ done: false, value: frame })
    if (this.done) return Promise.resolve(DONE)
    return new Promise((resolve, reject) => { this.park(resolve, reject, false) })
  }

  /**
   * Everything that can be handed down now, control frames first (at least one frame; waits for it), or
   * `undefined` at the end: the batch form of `next()` for a lower sink that can write many frames at once.
   * A batch holds at most `OUTBOUND_BATCH_FRAMES` frames or about `OUTBOUND_BATCH_BYTES`, so a control frame
   * queued meanwhile waits for at most one batch.
   */
  nextBatch (): Promise<Frame[] | undefined> {
    let frame: Frame | undefined
    try {
      frame = this.take()
    } catch (err) {
      return Promise.reject(err)
    }
    if (frame !== undefined) return Promise.resolve(this.fill(frame))
    if (this.done) return Promise.resolve(undefined)
    return new Promise((resolve, reject) => { this.park(resolve, reject, true) })
  }

  /** The lower sink waits: a frame queued later resolves its read directly, with no hop in between. */
  private park (resolve: (value: never) => void, reject: (err: unknown) => void, batch: boolean): void {
    this.writerResolve = resolve as (value: IteratorResult<Frame> | Frame[] | undefined) => void
    this.writerReject = reject
    this.writerBatch = batch
  }

  /** A batch starting with `first`, plus whatever else is ready without waiting. */
  private fill (first: Frame): Frame[] {
    const batch = [first]
    let bytes = first.body.byteLength
    while (batch.length < OUTBOUND_BATCH_FRAMES && bytes < OUTBOUND_BATCH_BYTES) {
      let frame: Frame | undefined
      try {
        frame = this.take()
      } catch {
        break // the failure surfaces from the next call
      }
      if (frame === undefined) break
      batch.push(frame)
      bytes += frame.body.byteLength
    }
    return batch
  }

  async return (): Promise<IteratorReturnResult<undefined>> {
    this.done = true
    this.dropUser()
    return DONE
  }

  /** The next frame to hand down, or `undefined` to wait (or at the end: `done` is then set). */
  private take (): Frame | undefined {
    if (this.failure != null) throw this.failure
    if (this.done) return undefined
    if (this.control.length > 0) {
      const frame = this.control.shift() as Frame
      this.hooks.controlSent(frame)
      return frame
    }
    while (!this.finishing) {
      const batch = this.stashBatch
      if (batch !== undefined) {
        const frame = batch[this.stashIndex++]
        if (this.stashIndex >= batch.length) {
          this.stashBatch = undefined
          this.stashIndex = 0
        }
        this.dataSent++
        if (this.waking || this.dataSent % BURST_STAMP_EVERY === 0) this.lastDataAt = this.clock.now()
        return frame
      }
      const failed = this.userFailure
      if (failed !== undefined) {
        this.userFailure = undefined
        this.user = undefined
        this.hooks.userFailed(failed.err)
        throw failed.err
      }
      const r = this.stash
      if (r !== undefined) {
        this.stash = undefined
        if (r.done !== true) {
          this.dataSent++
          if (this.waking || this.dataSent % BURST_STAMP_EVERY === 0) this.lastDataAt = this.clock.now()
          return r.value
        }
        this.userDone = true
        this.user = undefined
        break
      }
      if (this.user == null || this.userPending) break
      if (this.userNextBatch !== undefined) {
        this.pullBatch(this.userNextBatch, this.user)
        break
      }
      let next: IteratorResult<Frame> | Promise<IteratorResult<Frame>>
      try {
        next = this.user.next()
      } catch (err) {
        this.user = undefined
        this.hooks.userFailed(err)
        throw err
      }
      if (typeof (next as Promise<IteratorResult<Frame>>).then === 'function') {
        this.userPending = true;
        (next as Promise<IteratorResult<Frame>>).then(this.onUserResult ??= (r) => { this.userResult(r) }, this.onUserError ??= (err) => { this.userError(err) })
        break
      }
      this.stash = next as IteratorResult<Frame>
    }
    if (this.finishing || (this.closing && this.user == null) || this.userDone) this.done = true
    return undefined
  }

  /** Asks the user source for its next batch (one pending request at a time). */
  private pullBatch (nextBatch: () => Promise<Frame[] | undefined>, user: AsyncIterator<Frame> | Iterator<Frame>): void {
    let p: Promise<Frame[] | undefined>
    try {
      p = nextBatch.call(user)
    } catch (err) {
      this.user = undefined
      this.hooks.userFailed(err)
      throw err
    }
    this.userPending = true
    p.then(this.onUserBatch ??= (b) => { this.userBatch(b) }, this.onUserError ??= (err) => { this.userError(err) })
  }

  private onUserBatch: ((b: Frame[] | undefined) => void) | undefined
  private onUserResult: ((r: IteratorResult<Frame>) => void) | undefined
  private onUserError: ((err: unknown) => void) | undefined

  private userResult (r: IteratorResult<Frame>): void {
    this.userPending = false
    if (this.failure != null || this.finishing || this.done) return
    if (r.done === true) {
      this.stash = r
      this.wake()
      return
    }
    const frame = r.value
    let ahead = this.stashBatch
    if (ahead === undefined) {
      ahead = this.stashBatch = [frame]
      this.stashIndex = 0
      this.aheadBytes = 0
    } else {
      ahead.push(frame)
    }
    this.aheadBytes += frame.body.byteLength
    // while the lower sink is busy, read on (at most one outbound batch): its next read takes them at once
    if (this.writerResolve === undefined && ahead.length < OUTBOUND_BATCH_FRAMES && this.aheadBytes < OUTBOUND_BATCH_BYTES) this.readAhead()
    this.wake()
  }

  /** Asks an async user source for one more frame while the lower sink is busy. */
  private readAhead (): void {
    const user = this.user
    if (user == null || this.userPending) return
    let next: IteratorResult<Frame> | Promise<IteratorResult<Frame>>
    try {
      next = user.next()
    } catch (err) {
      this.userFailure = { err }
      return
    }
    if (typeof (next as Promise<IteratorResult<Frame>>).then === 'function') {
      this.userPending = true;
      (next as Promise<IteratorResult<Frame>>).then(this.onUserResult ??= (r) => { this.userResult(r) }, this.onUserError ??= (err) => { this.userError(err) })
      return
    }
    this.userResult(next as IteratorResult<Frame>)
  }

  private userBatch (batch: Frame[] | undefined): void {
    this.userPending = false
    if (this.failure != null || this.finishing || this.done) return
    if (batch === undefined) this.stash = DONE
    else if (batch.length > 0) this.stashBatch = batch
    this.wake()
  }

  private userError (err: unknown): void {
    this.userPending = false
    if (this.failure != null || this.finishing || this.done) return
    if (this.stashBatch !== undefined) {
      // frames read ahead go down first, as if they had been pulled one by one
      this.userFailure = { err }
      return
    }
    this.user = undefined
    this.hooks.userFailed(err)
  }

  /** If the lower sink is waiting, hands it what is ready now (or the end, or the failure) directly. */
  private wake (): void {
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
    if (frame === undefined && !this.done) return
    this.writerResolve = undefined
    this.writerReject = undefined
    if (this.writerBatch) resolve(frame === undefined ? undefined : this.fill(frame))
    else resolve(frame === undefined ? DONE : { done: false, value: frame })
  }

  private rejectWriter (err: unknown): void {
    const reject = this.writerReject
    this.writerResolve = undefined
    this.writerReject = undefined
    reject?.(err)
  }

  private dropUser (): void {
    const user = this.user
    this.user = undefined
    this.stash = undefined
    this.stashBatch = undefined
    this.userNextBatch = undefined
    this.userFailure = undefined
    if (user?.return == null) return
    try {
      const r = user.return()
      if (typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, () => {})
    } catch {}
  }
}
