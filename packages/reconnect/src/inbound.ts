import type { PushSource, PushTarget } from '@proto/interface'
import { DONE, InvalidParametersError, isPushSource, RESOLVED_DONE } from '@proto/interface'
import type { Connection } from './connection.js'
import type { Ledger } from './ledger.js'
import type { DurableSourceIterator } from './types.js'

/** What the durable source needs from the durable duplex. */
export interface InboundOwner<TIn, TOut> {
  readonly conn: Connection<TIn, TOut> | undefined
  readonly ledger: Ledger
  /**
   * The connection's source ended cleanly. `idle`: the reader has taken everything read before the end,
   * so what it does about those items (confirming them) has had its chance to happen.
   */
  peerEnded(c: Connection<TIn, TOut>, idle: boolean): void
  /** Reading from the connection failed. */
  readFailed(c: Connection<TIn, TOut>, err: Error): void
  /** The reader was handed the end, or stopped reading (`return()`): what it had to read is read. */
  readerDone(): void
}

interface Reader<T> {
  resolve(result: IteratorResult<T> | T[] | undefined): void
  reject(err: Error): void
  batch: boolean
}

const NOTHING_HELD: never[] = []

/**
 * The durable source: reads from the current connection one read ahead of the user, so a peer's end or
 * failure is seen while the user is busy. A read is one item, or a whole batch when the connection's
 * source offers `nextBatch()`. Items already read are served as already-resolved promises, one by one
 * (`next()`) or all at once (`nextBatch()`), and survive the loss of the connection they came from.
 *
 * A connection's source that can push (a session's connection stage) is subscribed to instead: its batches
 * arrive in the call that made them, and it is asked to wait while a batch is held here, as a read would
 * not have been made; nothing is parked while the peer is silent.
 *
 * Its own reader may subscribe the same way (a session's source does): each batch goes to it in the call
 * that brought it, and while it asks to wait, one batch is held here and the connection is asked to wait.
 */
export class Inbound<TIn, TOut> implements DurableSourceIterator<TIn>, PushSource<TIn> {
  /** The durable source has ended (or failed). */
  done = false
  /** The reader has been handed the end (or left): an exchange can only be complete after that. */
  endTaken = false
  private held: TIn[] = NOTHING_HELD
  private heldAt = 0
  private reader: Reader<TIn> | undefined
  private failure: Error | undefined
  /** Push mode: the subscribed reader, whether it asked to wait, and whether it was told the end or the failure. */
  private target: PushTarget<TIn> | undefined
  private targetFull = false
  private told = false
  private flushing = false

  constructor (private readonly owner: InboundOwner<TIn, TOut>) {}

  /**
   * Push mode: from now on batches go to `target` as they come (what is held, at once), then the end or the
   * failure. Once, with no read pending; the subscriber then reads no more with `next()`.
   */
  subscribe (target: PushTarget<TIn>): void {
    if (this.target !== undefined || this.reader !== undefined) throw new Error('expected subscribe() once, with no read pending, on the durable source')
    this.target = target
    this.flush()
    this.pull()
  }

  /** Push mode: the subscriber takes batches again after `push()` returned `false`. */
  resume (): void {
    if (!this.targetFull) return
    this.targetFull = false
    this.flush()
    this.pull()
  }

  [Symbol.asyncIterator] (): this { return this }

  next (): Promise<IteratorResult<TIn>> {
    if (this.heldAt < this.held.length) {
      const value = this.held[this.heldAt++]
      if (this.heldAt === this.held.length) this.dropHeld()
      return Promise.resolve({ done: false, value })
    }
    return this.wait(false) as Promise<IteratorResult<TIn>>
  }

  nextBatch (): Promise<TIn[] | undefined> {
    if (this.heldAt < this.held.length) {
      const batch = this.heldAt === 0 ? this.held : this.held.slice(this.heldAt)
      this.dropHeld()
      return Promise.resolve(batch)
    }
    return this.wait(true) as Promise<TIn[] | undefined>
  }

  async return (): Promise<IteratorResult<TIn>> {
    this.told = true // a subscriber that returns wants nothing more, its end included
    this.held = NOTHING_HELD
    this.heldAt = 0
    this.end()
    this.endTaken = true
    this.owner.readerDone()
    return DONE
  }

  /** Keeps one read outstanding on the current connection's source while there is room for its result. */
  pull (): void {
    const c = this.owner.conn
    if (c == null || c.reading || c.lost || c.peerEnded || !this.room || this.done) return
    if (c.pusher !== undefined) {
      if (!c.paused) return
      c.paused = false
      c.pusher.resume()
      return
    }
    c.reading = true
    try {
      if (c.iter === undefined) {
        const iter = c.iter = c.duplex.source[Symbol.asyncIterator]()
        if (isPushSource<TIn>(iter)) {
          c.reading = false
          c.pusher = iter
          try {
            iter.subscribe(c)
            return
          } catch {
            // a source that refuses a subscriber is read instead
            c.pusher = undefined
            c.reading = true
          }
        }
      }
      const iter = c.iter
      if (typeof iter.nextBatch === 'function') iter.nextBatch().then(c.onBatch, c.onReadError)
      else iter.next().then(c.onRead, c.onReadError)
    } catch (err) {
      c.onReadError(err)
    }
  }

  /** What one read from `c` brought: items, or `undefined` when its source ended. */
  received (c: Connection<TIn, TOut>, items: TIn[] | undefined): void {
    c.reading = false
    if (c.lost || this.done) {
      if (items !== undefined) this.owner.ledger.discardedInbound += items.length
      return
    }
    if (items === undefined) {
      this.owner.peerEnded(c, this.room)
      return
    }
    if (items.length === 0) {
      this.pull()
      return
    }
    const target = this.target
    if (target !== undefined) {
      if (this.targetFull || this.flushing || !this.room) this.hold(items)
      else if (!target.push(items)) this.targetFull = true
      this.pull()
      return
    }
    const reader = this.reader
    if (reader === undefined) {
      this.held = items
      this.heldAt = 0
      return
    }
    this.reader = undefined
    if (reader.batch) {
      reader.resolve(items)
    } else {
      reader.resolve({ done: false, value: items[0] })
      if (items.length > 1) {
        this.held = items
        this.heldAt = 1
        return
      }
    }
    this.pull()
  }

  /**
   * Push mode: a batch from `c`'s source, as a read would have brought it; `false` asks the source to wait
   * (a batch is held for the reader, or the connection no longer counts), and `pull()` resumes it.
   */
  pushed (c: Connection<TIn, TOut>, items: TIn[]): boolean {
    // pushed although asked to wait: kept after what is held, in order
    if (this.heldAt < this.held.length && this.target === undefined && !c.lost && !this.done && items.length > 0) this.hold(items)
    else this.received(c, items)
    const more = !c.lost && !this.done && c === this.owner.conn && this.room
    if (!more) c.paused = true
    return more
  }

  readFailed (c: Connection<TIn, TOut>, err: Error): void {
    c.reading = false
    if (c.lost || this.done) return
    this.owner.readFailed(c, err)
  }

  /** Ends the durable source; a waiting reader (or a subscriber with nothing held for it) gets the end. */
  end (): void {
    if (this.done) return
    this.done = true
    if (this.target !== undefined) {
      if (this.told || !this.room) return // the end follows the held batch (flush)
      this.told = true
      this.endTaken = true
      this.target.end()
      return
    }
    const reader = this.reader
    this.reader = undefined
    if (reader === undefined) return
    this.endTaken = true
    reader.resolve(reader.batch ? undefined : DONE)
  }

  /** The reader asks after the end: it has taken everything; the exchange may complete now. */
  private handEnd (batch: boolean): Promise<IteratorResult<TIn> | TIn[] | undefined> {
    if (!this.endTaken) {
      this.endTaken = true
      this.owner.readerDone()
    }
    return batch ? Promise.resolve(undefined) : RESOLVED_DONE
  }

  /** Fails the durable source with `err` (after the items already read), unless it already ended. */
  fail (err: Error): void {
    if (this.done) return
    this.done = true
    if (this.target !== undefined) {
      if (this.told) return
      if (!this.room) {
        this.failure = err // after the held batch (flush)
        return
      }
      this.told = true
      this.target.end(err)
      return
    }
    const reader = this.reader
    this.reader = undefined
    if (reader !== undefined) reader.reject(err)
    else this.failure = err
  }

  private wait (batch: boolean): Promise<IteratorResult<TIn> | TIn[] | undefined> {
    const err = this.failure
    if (err !== undefined) {
      this.failure = undefined
      return Promise.reject(err)
    }
    if (this.done) return this.handEnd(batch)
    const c = this.owner.conn
    if (c?.peerEnded === true && !c.lost) {
      // the reader has caught up with everything read before the peer's end: decide what the end means
      c.peerEnded = false
      this.owner.peerEnded(c, true)
      if (this.done) return this.handEnd(batch)
    }
    // one consumer: a second read while one waits would leave one of them unanswered for good
    if (this.reader !== undefined) return Promise.reject(new InvalidParametersError('expected one read at a time from the durable source (one consumer), but a read was already waiting'))
    return new Promise((resolve, reject) => {
      this.reader = { resolve, reject, batch }
      this.pull()
    })
  }

  /** Another batch may be taken from the connection now: nothing is held, and a subscriber does not ask to wait. */
  private get room (): boolean {
    return this.heldAt >= this.held.length && !this.targetFull
  }

  /** Keeps `items` for the reader, after what is held already. */
  private hold (items: TIn[]): void {
    if (this.heldAt >= this.held.length) this.held = items
    else this.held = this.held.slice(this.heldAt).concat(items)
    this.heldAt = 0
  }

  /**
   * Push mode: hands the held batch on while the subscriber takes it; once it has taken everything, the
   * end or the failure, or the decision a peer's end was waiting for (as a reader's next read makes it).
   */
  private flush (): void {
    const target = this.target
    if (target === undefined || this.flushing || this.told) return
    this.flushing = true
    try {
      // a loop: what the connection pushes while a batch goes up is held, and follows it
      while (!this.targetFull && this.heldAt < this.held.length) {
        const batch = this.heldAt === 0 ? this.held : this.held.slice(this.heldAt)
        this.held = NOTHING_HELD
        this.heldAt = 0
        if (!target.push(batch)) this.targetFull = true
      }
      if (this.targetFull) return
      const c = this.owner.conn
      if (!this.done && c?.peerEnded === true && !c.lost) {
        c.peerEnded = false
        this.owner.peerEnded(c, true)
      }
      if (!this.done || this.told) return
      this.told = true
      const err = this.failure
      this.failure = undefined
      if (err !== undefined) {
        target.end(err)
        return
      }
      this.endTaken = true
      target.end()
      this.owner.readerDone()
    } finally {
      this.flushing = false
    }
  }

  private dropHeld (): void {
    this.held = NOTHING_HELD
    this.heldAt = 0
    this.pull()
  }
}
