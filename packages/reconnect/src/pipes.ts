import type { Source } from 'it-stream-types'
import { DONE, RESOLVED_DONE, noop } from './connection.js'
import type { Connection } from './connection.js'
import { BufferOverflowError, ClosedError, InvalidParametersError } from './errors.js'
import type { ResolvedOptions } from './options.js'
import { OutboundQueue } from './queue.js'
import type { DisconnectReason } from './types.js'

interface Settle { resolve(): void, reject(err: Error): void }
interface Reader<T> { resolve(result: IteratorResult<T>): void, reject(err: Error): void }

/** Thrown inside `consume` to mark an error that came from the user's own source. */
class UserSourceError extends Error {
  constructor (readonly error: unknown) { super('user source failed') }
}

/**
 * The data paths of a durable duplex: the durable source reading from the current connection (one item
 * read ahead), and the user's sink feeding the bounded queue that the current connection's sink drains.
 * Hand-written iterators: queued items are returned as already-resolved promises.
 */
export abstract class DurablePipes<T> {
  protected conn: Connection<T> | undefined
  protected closing = false
  protected finished = false
  protected terminalError: Error | undefined
  protected readonly queue: OutboundQueue<T>
  protected readonly counters = { attempts: 0, connects: 0, reconnects: 0, dropped: 0, handed: 0, unconfirmed: 0, unsent: 0, discardedInbound: 0 }
  // inbound
  protected held: IteratorResult<T> | undefined
  protected reader: Reader<T> | undefined
  protected sourceDone = false
  protected sourceError: Error | undefined
  // outbound
  protected feedWaiter: { conn: Connection<T>, resolve(result: IteratorResult<T>): void } | undefined
  protected spaceWaiter: (() => void) | undefined
  protected sinkSettle: Settle | undefined
  protected userEnded = false
  protected writeComplete = false

  readonly source: AsyncIterable<T>

  constructor (protected readonly opts: ResolvedOptions<T>) {
    this.queue = new OutboundQueue(opts.maxMessages, opts.maxBytes)
    const iterator = {
      next: () => this.readNext(),
      return: () => this.readReturn(),
      [Symbol.asyncIterator] () { return this }
    }
    this.source = iterator
  }

  protected abstract lose (conn: Connection<T>, reason: DisconnectReason, err: Error | undefined): void
  protected abstract maybeComplete (): void
  abstract abort (err: Error): void

  // ---- inbound ------------------------------------------------------------------------------------

  private readNext (): Promise<IteratorResult<T>> {
    const held = this.held
    if (held !== undefined) {
      this.held = undefined
      this.pull()
      return Promise.resolve(held)
    }
    const err = this.sourceError
    if (err !== undefined) {
      this.sourceError = undefined
      return Promise.reject(err)
    }
    if (this.sourceDone) return RESOLVED_DONE
    return new Promise((resolve, reject) => {
      this.reader = { resolve, reject }
      this.pull()
    })
  }

  private async readReturn (): Promise<IteratorResult<T>> {
    this.held = undefined
    this.endSource()
    this.maybeComplete()
    return DONE
  }

  /** Keeps one read outstanding on the current connection's source while there is room for its result. */
  protected pull (): void {
    const c = this.conn
    if (c == null || c.reading || c.lost || this.held !== undefined || this.sourceDone) return
    c.reading = true
    try {
      c.iter ??= c.duplex.source[Symbol.asyncIterator]()
      c.iter.next().then(c.onRead, c.onReadError)
    } catch (err) {
      c.onReadError(err)
    }
  }

  protected onRead (c: Connection<T>, result: IteratorResult<T>): void {
    c.reading = false
    if (c.lost || this.sourceDone) {
      if (result.done !== true) this.counters.discardedInbound++
      return
    }
    if (result.done === true) {
      if (this.closing || this.userEnded || this.opts.peerEnd === 'end') {
        this.endSource()
        this.maybeComplete()
      } else {
        this.lose(c, 'peer-ended', undefined)
      }
      return
    }
    const reader = this.reader
    if (reader === undefined) {
      this.held = result
      return
    }
    this.reader = undefined
    reader.resolve(result)
    this.pull()
  }

  protected onReadError (c: Connection<T>, err: Error): void {
    c.reading = false
    if (c.lost) return
    if (this.closing) this.endSource()
    else this.lose(c, 'read-error', err)
  }

  protected endSource (): void {
    this.sourceDone = true
    const reader = this.reader
    this.reader = undefined
    reader?.resolve(DONE)
  }

  /** Ends (or fails) the durable source unless it already ended. */
  protected finishSource (err: Error | undefined): void {
    if (this.sourceDone) return
    if (err === undefined) { this.endSource(); return }
    this.sourceDone = true
    const reader = this.reader
    this.reader = undefined
    if (reader !== undefined) reader.reject(err)
    else this.sourceError = err
  }

  // ---- outbound -----------------------------------------------------------------------------------

  sink = async (source: Source<T>): Promise<void> => {
    if (this.terminalError !== undefined) throw this.terminalError
    if (this.closing || this.finished || this.userEnded) throw new ClosedError('the write side has ended (sink finished or close() called); no more writes are accepted')
    if (this.sinkSettle !== undefined) throw new InvalidParametersError('sink is already consuming a source; call it once at a time')
    await new Promise<void>((resolve, reject) => {
      this.sinkSettle = { resolve, reject }
      this.consume(source).then(() => { this.onUserEnd() }, (err: Error) => { this.onUserSinkError(err) })
    })
  }

  private async consume (source: Source<T>): Promise<void> {
    if (Symbol.asyncIterator in source) {
      const it = source[Symbol.asyncIterator]()
      for (;;) {
        let r: IteratorResult<T>
        try { r = await it.next() } catch (err) { throw new UserSourceError(err) }
        if (r.done === true) return
        try {
          const wait = this.offer(r.value)
          if (wait !== undefined) await wait
        } catch (err) {
          void it.return?.()?.then(noop, noop)
          throw err
        }
      }
    }
    const it = source[Symbol.iterator]()
    for (;;) {
      let r: IteratorResult<T>
      try { r = it.next() } catch (err) { throw new UserSourceError(err) }
      if (r.done === true) return
      try {
        const wait = this.offer(r.value)
        if (wait !== undefined) await wait
      } catch (err) {
        try { it.return?.() } catch {}
        throw err
      }
    }
  }

  /** Accepts one item: `undefined` when taken at once, else a promise for when it is taken. */
  private offer (item: T): Promise<void> | undefined {
    this.checkWritable()
    const size = this.opts.size(item)
    if (this.handOff(item)) return undefined
    if (this.queue.fits(size)) {
      this.queue.push(item, size)
      return undefined
    }
    return this.offerFull(item, size)
  }

  private checkWritable (): void {
    if (this.terminalError !== undefined) throw this.terminalError
    if (this.closing || this.finished) throw new ClosedError('close() was called; the rest of the source is not written')
  }

  /** Gives `item` straight to a connection sink that is waiting on an empty queue. */
  private handOff (item: T): boolean {
    const w = this.feedWaiter
    if (w === undefined) return false
    this.feedWaiter = undefined
    w.conn.handed++
    this.counters.handed++
    w.resolve({ done: false, value: item })
    return true
  }

  private async offerFull (item: T, size: number): Promise<void> {
    for (;;) {
      if (this.conn == null && this.opts.overflow !== 'wait') { this.overflow(item, size); return }
      await new Promise<void>(resolve => { this.spaceWaiter = resolve })
      this.checkWritable()
      if (this.handOff(item)) return
      if (this.queue.fits(size)) { this.queue.push(item, size); return }
    }
  }

  private overflow (item: T, size: number): void {
    const { overflow, maxMessages, maxBytes } = this.opts
    if (overflow === 'drop-newest') { this.counters.dropped++; return }
    if (overflow === 'drop-oldest') {
      while (!this.queue.fits(size)) { this.queue.shift(); this.counters.dropped++ }
      this.queue.push(item, size)
      return
    }
    throw new BufferOverflowError(`The outbound buffer is full while disconnected (${this.queue.length} items, ${this.queue.byteLength} bytes; limits ${maxMessages} items / ${maxBytes} bytes). Raise buffer.maxMessages/maxBytes, choose another overflow policy, or write again after 'connected'`)
  }

  protected wakeProducer (): void {
    const w = this.spaceWaiter
    this.spaceWaiter = undefined
    w?.()
  }

  private onUserEnd (): void {
    this.userEnded = true
    this.endFeed()
  }

  private onUserSinkError (err: Error): void {
    if (err instanceof UserSourceError) {
      const cause = err.error instanceof Error ? err.error : new Error(String(err.error), { cause: err.error })
      this.abort(cause)
      return
    }
    this.settleSink(err)
  }

  protected settleSink (err?: Error): void {
    const s = this.sinkSettle
    if (s === undefined) return
    this.sinkSettle = undefined
    if (err === undefined) s.resolve()
    else s.reject(err)
  }

  /** The iterable a connection's sink drains: items from the queue, done once the write side ends. */
  protected feed (c: Connection<T>): AsyncIterable<T> {
    const iterator = {
      next: (): Promise<IteratorResult<T>> => this.feedNext(c),
      return: (): Promise<IteratorResult<T>> => RESOLVED_DONE,
      [Symbol.asyncIterator] () { return this }
    }
    return iterator
  }

  private feedNext (c: Connection<T>): Promise<IteratorResult<T>> {
    if (c.lost) return RESOLVED_DONE
    if (this.queue.length > 0) {
      const value = this.queue.shift()
      c.handed++
      this.counters.handed++
      this.wakeProducer()
      return Promise.resolve({ done: false, value })
    }
    if (this.userEnded || this.closing) {
      c.feedEnded = true
      return RESOLVED_DONE
    }
    return new Promise(resolve => { this.feedWaiter = { conn: c, resolve } })
  }

  /** Tells a waiting connection sink that the write side has ended. */
  protected endFeed (): void {
    const w = this.feedWaiter
    if (w === undefined) return
    this.feedWaiter = undefined
    w.conn.feedEnded = true
    w.resolve(DONE)
  }

  /** Releases a waiting connection sink of a connection that is gone. */
  protected releaseFeed (c: Connection<T>): void {
    const w = this.feedWaiter
    if (w === undefined || w.conn !== c) return
    this.feedWaiter = undefined
    w.resolve(DONE)
  }

  protected onLowerSinkDone (c: Connection<T>): void {
    c.sinkDone = true
    if (c.lost) return
    if (c.feedEnded && this.queue.length === 0) {
      if (this.userEnded) {
        this.writeComplete = true
        this.settleSink()
        this.maybeComplete()
      }
      return
    }
    if (!this.closing) this.lose(c, 'write-ended', undefined)
  }

  protected onLowerSinkError (c: Connection<T>, err: Error): void {
    c.sinkDone = true
    c.sinkFailed = true
    if (c.lost || this.closing) return
    this.lose(c, 'write-error', err)
  }
}
