import { InvalidParametersError } from './errors.js'
import type { Ledger } from './ledger.js'
import type { Limits } from './options.js'
import { Ring } from './ring.js'

/** What `take()` returns when nothing can be handed now. */
export const NOTHING: unique symbol = Symbol('nothing')

/**
 * The ring of every outbox that has not buffered (or retained) an item yet: an idle session keeps no ring
 * of its own. Never written: an outbox puts its own ring in place before its first store (`storeBuffer()`, `storeRetained()`).
 */
const EMPTY = new Ring<never>()

/**
 * The single ordered source of truth for outbound items: the buffer (accepted, never handed) and, with
 * retention, the retained items (handed at least once, not yet confirmed). The current connection is
 * handed the retained items it has not had yet (after a reconnect: all of them, in order), then buffered
 * ones, as long as retention has room. Counts every move in the ledger.
 */
export class Outbox<T> {
  /** Accepted items never handed; `EMPTY` until the first. */
  private buf: Ring<T> = EMPTY
  /** Handed items not yet confirmed (with retention); `EMPTY` until the first. */
  private ret: Ring<T> = EMPTY
  /** Retained items already handed to the current connection; the rest are handed to it first. */
  private cursor = 0
  /** The bytes of those `cursor` items: what the current connection's peer holds unconfirmed. */
  private cursorBytes = 0
  /** Retention's bounds lowered to what the current connection's peer takes unconfirmed (`limit()`); `undefined`: retention's own. */
  private cap: { maxMessages: number, maxBytes: number } | undefined

  constructor (private readonly limits: Limits, private readonly ledger: Ledger) {}

  /** Handed items are kept until confirmed (`limits.retention`). */
  get retaining (): boolean { return this.limits.retention !== undefined }

  /** The buffer, to read (or shift from, while it holds items). */
  get buffer (): Ring<T> { return this.buf }

  /** The retained items, to read; `undefined` without retention. */
  get retained (): Ring<T> | undefined { return this.retaining ? this.ret : undefined }

  /** Whether an item of `size` bytes fits in the buffer now. An empty buffer takes any one item. */
  fits (size: number): boolean {
    const b = this.buffer
    return b.length === 0 || (b.length < this.limits.maxMessages && b.byteLength + size <= this.limits.maxBytes)
  }

  /** The buffer is down to half its bounds (or empty): a producer waiting for room may refill it in one go. */
  get roomy (): boolean {
    const b = this.buffer
    return b.length === 0 || (b.length <= this.limits.maxMessages >>> 1 && b.byteLength <= this.limits.maxBytes / 2)
  }

  push (item: T, size: number): void {
    this.storeBuffer().push(item, size)
  }

  /**
   * Buffers the longest run of `items[from..to)` that fits now (sizes in `sizes`, same positions), in one
   * step; returns how many. An empty buffer takes the first item whatever its size. `total`, when known,
   * is the bytes of the whole run: if all of it fits, no per-item check is made.
   */
  pushRun (items: readonly T[], sizes: readonly number[], from: number, to: number, total = -1): number {
    const b = this.storeBuffer()
    const roomItems = this.limits.maxMessages - b.length
    const roomBytes = this.limits.maxBytes - b.byteLength
    if (total >= 0 && to - from <= roomItems && total <= roomBytes) {
      b.pushRun(items, sizes, from, to - from, total)
      return to - from
    }
    let n = 0
    let bytes = 0
    for (let k = from; k < to && n < roomItems; k++) {
      const next = bytes + sizes[k]
      if (next > roomBytes && !(b.length === 0 && n === 0)) break
      bytes = next
      n++
    }
    if (n > 0) b.pushRun(items, sizes, from, n, bytes)
    return n
  }

  /** Whether `takeOne()` would hand an item now. */
  get ready (): boolean {
    if (!this.retaining) return this.buf.length > 0
    const r = this.ret
    if (this.cursor < r.length) return this.replayFits(r)
    return this.buf.length > 0 && this.retentionFits(this.buf.headSize())
  }

  /** Everything has been handed to the current connection: nothing is buffered or waiting to be re-handed. */
  get drained (): boolean {
    return this.buf.length === 0 && (!this.retaining || this.cursor === this.ret.length)
  }

  /** Retention holds half its window or more: confirmations are what lets more items go. */
  get retentionHalfFull (): boolean {
    if (!this.retaining) return false
    const r = this.ret
    const bound = this.bound()
    return r.length * 2 >= bound.maxMessages || r.byteLength * 2 >= bound.maxBytes
  }

  /** The current connection's peer takes at most this many unconfirmed items and bytes (until `rewind()`). */
  limit (maxMessages: number, maxBytes: number): void {
    const own = this.limits.retention as NonNullable<Limits['retention']>
    // a limit at or above retention's own bounds changes nothing, and keeps no object (a server's sessions, by default)
    this.cap = maxMessages >= own.maxMessages && maxBytes >= own.maxBytes
      ? undefined
      : { maxMessages: Math.max(1, Math.min(own.maxMessages, maxMessages)), maxBytes: Math.max(1, Math.min(own.maxBytes, maxBytes)) }
  }

  /** Unconfirmed items kept (0 without retention). */
  get retainedCount (): number {
    return this.ret.length
  }

  /** Hands the next item to the current connection: a retained one it has not had, else a buffered one. */
  takeOne (): T | typeof NOTHING {
    const b = this.buf
    if (!this.retaining) {
      if (b.length === 0) return NOTHING
      this.ledger.handed++
      return b.shift()
    }
    const r = this.ret
    if (this.cursor < r.length) {
      if (!this.replayFits(r)) return NOTHING
      this.ledger.replayed++
      this.cursorBytes += r.sizeAt(this.cursor)
      return r.at(this.cursor++)
    }
    if (b.length === 0 || !this.retentionFits(b.headSize())) return NOTHING
    const size = b.headSize()
    const item = b.shift()
    this.storeRetained().push(item, size)
    this.cursor++
    this.cursorBytes += size
    this.ledger.handed++
    return item
  }

  /**
   * Hands up to `max` items to the current connection in one step, as `takeOne()` would one by one: the
   * retained ones it has not had (as many as its peer takes unconfirmed), then buffered ones (moved into
   * retention as far as it has room).
   * `undefined` when none can be handed now.
   */
  takeBatch (max: number): T[] | undefined {
    const b = this.buf
    const out: T[] = []
    if (!this.retaining) {
      const n = Math.min(max, b.length)
      if (n === 0) return undefined
      b.shiftRun(n, out)
      this.ledger.handed += n
      return out
    }
    let r = this.ret
    if (this.cursor < r.length) {
      // as many as the current connection's peer takes unconfirmed (retention may hold more: a peer before
      // it took more)
      const cap = this.cap
      const c = this.cursor
      const n = cap === undefined ? Math.min(max, r.length - c) : r.fitting(max, cap.maxMessages - c, cap.maxBytes - this.cursorBytes, c === 0, c)
      r.copyRun(c, n, out)
      for (let k = c; k < c + n; k++) this.cursorBytes += r.sizeAt(k)
      this.cursor += n
      this.ledger.replayed += n
    }
    if (out.length < max && this.cursor === r.length && b.length > 0) {
      const bound = this.bound()
      const n = b.fitting(max - out.length, bound.maxMessages - r.length, bound.maxBytes - r.byteLength, r.length === 0)
      if (n > 0) {
        r = this.storeRetained()
        b.shiftRun(n, out, r)
        this.cursor += n
        this.cursorBytes = r.byteLength
        this.ledger.handed += n
      }
    }
    return out.length > 0 ? out : undefined
  }

  /** The connection the retained items were handed to is gone: the next one gets them all again (and sets its own limit). */
  rewind (): void {
    this.cursor = 0
    this.cursorBytes = 0
    this.cap = undefined
  }

  /** Releases the `count` oldest retained items as confirmed. */
  confirm (count: number): void {
    this.release(count, 'confirm')
    this.ledger.confirmed += count
  }

  /** Gives up on the `count` oldest retained items: counted unconfirmed, never handed again. */
  abandon (count: number): void {
    this.release(count, 'abandon')
    this.ledger.unconfirmed += count
  }

  /** Empties the buffer; returns how many items it held (the caller counts them). */
  clearBuffer (): number {
    return this.buf.clear()
  }

  private release (count: number, what: string): void {
    const r = this.ret
    if (!this.retaining) throw new InvalidParametersError(`${what}() needs retention: pass retention: true to reconnect()`)
    if (!Number.isSafeInteger(count) || count < 0 || count > r.length) {
      throw new InvalidParametersError(`expected the count passed to ${what}() to be a whole number from 0 to ${r.length} (the unconfirmed items), but got ${String(count)}`)
    }
    if (count === 0) return // (the ring may be EMPTY, which is never written)
    // the items confirmed were handed to the current connection (nearly always): their bytes come with the drop
    if (count <= this.cursor) {
      this.cursorBytes -= r.dropRun(count)
      this.cursor -= count
      return
    }
    this.cursorBytes -= r.bytesOf(this.cursor)
    r.dropRun(count)
    this.cursor = 0
  }

  /** Whether the next retained item may be handed again: the current connection's peer takes it unconfirmed. */
  private replayFits (r: Ring<T>): boolean {
    const cap = this.cap
    if (cap === undefined || this.cursor === 0) return true
    return this.cursor < cap.maxMessages && this.cursorBytes + r.sizeAt(this.cursor) <= cap.maxBytes
  }

  private retentionFits (size: number): boolean {
    const r = this.ret
    const bound = this.bound()
    return r.length === 0 || (r.length < bound.maxMessages && r.byteLength + size <= bound.maxBytes)
  }

  /** The buffer, made with the first item stored. */
  private storeBuffer (): Ring<T> {
    if (this.buf === EMPTY) this.buf = new Ring<T>()
    return this.buf
  }

  /** The retained items' ring, made with the first item retained. */
  private storeRetained (): Ring<T> {
    if (this.ret === EMPTY) this.ret = new Ring<T>()
    return this.ret
  }

  /** Retention's bounds, lowered to the current connection's limit where it has one. */
  private bound (): { maxMessages: number, maxBytes: number } {
    return this.cap ?? this.limits.retention as NonNullable<Limits['retention']>
  }
}
