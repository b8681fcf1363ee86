import type { Source } from 'it-stream-types'
import type { Connection } from './connection.js'
import { DONE, noop, RESOLVED_DONE } from './connection.js'
import { FEED_BATCH_ITEMS } from './constants.js'
import { BufferOverflowError, ClosedError, InvalidParametersError } from './errors.js'
import { DurableInbound } from './inbound.js'

/** Thrown inside `consume` to mark an error that came from the user's own source. */
class UserSourceError extends Error {
  constructor (readonly error: unknown) { super('user source failed') }
}

/**
 * The outbound path of a durable duplex: the user's sink feeds the bounded queue, which the current
 * connection's sink drains through a hand-written iterator (queued items come as already-resolved
 * promises; an item written while the connection waits is handed over directly).
 */
export abstract class DurableOutbound<T> extends DurableInbound<T> {
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
      await new Promise<void>((resolve) => { this.spaceWaiter = resolve })
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

  /**
   * The iterable a connection's sink drains: items from the queue, done once the write side ends. It
   * also offers `nextBatch()`, everything queued at once, for lower stages that write batches.
   */
  protected feed (c: Connection<T>): AsyncIterable<T> {
    const iterator = {
      next: (): Promise<IteratorResult<T>> => this.feedNext(c),
      nextBatch: (): Promise<T[] | undefined> => this.feedBatch(c),
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
    return new Promise((resolve) => { this.feedWaiter = { conn: c, resolve } })
  }

  /** Up to `FEED_BATCH_ITEMS` queued items at once; waits for one when the queue is empty; `undefined` at the end. */
  private feedBatch (c: Connection<T>): Promise<T[] | undefined> {
    if (c.lost || this.queue.length === 0) {
      return this.feedNext(c).then(r => r.done === true ? undefined : [r.value])
    }
    const n = Math.min(this.queue.length, FEED_BATCH_ITEMS)
    const batch = new Array<T>(n)
    for (let i = 0; i < n; i++) batch[i] = this.queue.shift()
    c.handed += n
    this.counters.handed += n
    this.wakeProducer()
    return Promise.resolve(batch)
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
