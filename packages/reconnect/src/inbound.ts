import type { Connection } from './connection.js'
import { DONE, RESOLVED_DONE } from './connection.js'
import type { ResolvedOptions } from './options.js'
import { OutboundQueue } from './queue.js'
import type { DisconnectReason } from './types.js'

interface Settle { resolve(): void, reject(err: Error): void }
interface Reader<T> { resolve(result: IteratorResult<T>): void, reject(err: Error): void }

const NOTHING: never[] = []

/**
 * The state a durable duplex shares between its layers, and its inbound path: the durable source reads
 * from the current connection one read ahead, so a peer's end is seen while the user is busy. A read is
 * one item, or a whole batch when the connection's source offers `nextBatch()` (the heartbeat and codec
 * stages do). A hand-written iterator: items already read are returned as already-resolved promises.
 */
export abstract class DurableInbound<T> {
  protected conn: Connection<T> | undefined
  protected closing = false
  protected finished = false
  protected terminalError: Error | undefined
  protected readonly queue: OutboundQueue<T>
  protected readonly counters = { attempts: 0, connects: 0, reconnects: 0, dropped: 0, handed: 0, unconfirmed: 0, unsent: 0, discardedInbound: 0 }
  // inbound: items read ahead of the user, served from `held[heldAt]` on
  protected held: T[] = NOTHING
  protected heldAt = 0
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
    if (this.heldAt < this.held.length) {
      const value = this.held[this.heldAt++]
      if (this.heldAt === this.held.length) {
        this.dropHeld()
        this.pull()
      }
      return Promise.resolve({ done: false, value })
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

  protected dropHeld (): void {
    this.held = NOTHING
    this.heldAt = 0
  }

  private async readReturn (): Promise<IteratorResult<T>> {
    this.dropHeld()
    this.endSource()
    this.maybeComplete()
    return DONE
  }

  /** Keeps one read outstanding on the current connection's source while there is room for its result. */
  protected pull (): void {
    const c = this.conn
    if (c == null || c.reading || c.lost || this.heldAt < this.held.length || this.sourceDone) return
    c.reading = true
    try {
      c.iter ??= c.duplex.source[Symbol.asyncIterator]()
      const iter = c.iter
      if (typeof iter.nextBatch === 'function') iter.nextBatch().then(c.onBatch, c.onReadError)
      else iter.next().then(c.onRead, c.onReadError)
    } catch (err) {
      c.onReadError(err)
    }
  }

  protected onRead (c: Connection<T>, result: IteratorResult<T>): void {
    this.onItems(c, result.done === true ? undefined : [result.value])
  }

  protected onBatch (c: Connection<T>, batch: T[] | undefined): void {
    this.onItems(c, batch)
  }

  /** What one read brought: items, or `undefined` when the connection's source ended. */
  private onItems (c: Connection<T>, items: T[] | undefined): void {
    c.reading = false
    if (c.lost || this.sourceDone) {
      if (items !== undefined) this.counters.discardedInbound += items.length
      return
    }
    if (items === undefined) {
      if (this.closing || this.userEnded || this.opts.peerEnd === 'end') {
        this.endSource()
        this.maybeComplete()
      } else {
        this.lose(c, 'peer-ended', undefined)
      }
      return
    }
    if (items.length === 0) {
      this.pull()
      return
    }
    this.held = items
    this.heldAt = 0
    const reader = this.reader
    if (reader === undefined) return
    this.reader = undefined
    const value = items[this.heldAt++]
    if (this.heldAt === items.length) {
      this.dropHeld()
      this.pull()
    }
    reader.resolve({ done: false, value })
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
}
