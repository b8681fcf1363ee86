import { SourceError, toError, validate } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { BufferOverflowError, ClosedError, InvalidParametersError, NotConnectedError } from './errors.js'
import type { Ledger } from './ledger.js'
import type { ResolvedOptions } from './options.js'
import type { Outbox } from './outbox.js'
import type { Taker } from './read-source.js'
import { SourceReader } from './read-source.js'

/** What the durable sink needs from the durable duplex. */
export interface IntakeOwner<T> {
  readonly opts: ResolvedOptions<T>
  readonly outbox: Outbox<T>
  readonly ledger: Ledger
  /** A connection is up. */
  readonly online: boolean
  /** Why nothing more can be written (`close()`, abort, failure), or `undefined` while writing is open. */
  writeRefusal(): Error | undefined
  /** Items entered the buffer: a waiting connection sink may take them. */
  pushed(): void
  /** The user's source ended: writing is over once everything is handed. */
  userEnded(): void
  /** The user's own source threw: the duplex is aborted with that error. */
  sourceFailed(err: Error): void
}

/** Items taken from the source that wait for room: `items[next..]`, their sizes at the same positions. */
interface Run<T> {
  readonly items: readonly T[]
  readonly sizes: readonly number[]
  next: number
}

/**
 * The durable sink: takes items from the user's source into the outbox's buffer, an item or a whole batch
 * at a time, counting them in the ledger the moment they are taken. A batch is checked whole (`validate`,
 * `failFast`), sized once and buffered in one step when it fits. When the buffer is full the rest waits
 * (connected, or `overflow: 'wait'`), or the overflow policy applies item by item (disconnected); items
 * that wait for room are the `waiting` gauge until their fate is decided.
 */
export class Intake<T> implements Taker<T> {
  /** The user's source ended. */
  ended = false
  /** The resolving functions of the promise `sink()` returned, while it runs (two fields: no object of their own). */
  private resolveSink: (() => void) | undefined
  private rejectSink: ((err: Error) => void) | undefined
  private waitingRun: Run<T> | undefined
  private space: (() => void) | undefined

  constructor (private readonly owner: IntakeOwner<T>) {}

  /** Items taken from the source that wait for room (at most one batch). */
  get waiting (): number {
    const run = this.waitingRun
    return run === undefined ? 0 : run.items.length - run.next
  }

  /**
   * One promise for the run, without an async function's frame behind it (a sink often runs for good). A
   * bound method rather than an arrow field: a bound function keeps no closure context for the link's life.
   */
  readonly sink: (source: Source<T>) => Promise<void> = this.startSink.bind(this)

  private startSink (source: Source<T>): Promise<void> {
    const refusal = validate.sourceRefusal(source) ?? this.owner.writeRefusal()
    if (refusal !== undefined) return Promise.reject(refusal)
    if (this.ended) return Promise.reject(new ClosedError('the write side has ended (the sink finished); no more writes are accepted'))
    if (this.resolveSink !== undefined) return Promise.reject(new InvalidParametersError('sink is already consuming a source; call it once at a time'))
    return new Promise<void>((resolve, reject) => {
      this.resolveSink = resolve
      this.rejectSink = reject
      new SourceReader(source, this).start()
    })
  }

  /** Settles the promise `sink()` returned (once). */
  settle (err?: Error): void {
    const resolve = this.resolveSink
    const reject = this.rejectSink
    if (resolve === undefined || reject === undefined) return
    this.resolveSink = undefined
    this.rejectSink = undefined
    if (err === undefined) resolve()
    else reject(err)
  }

  /** Wakes a producer waiting for room, so it checks again (room made, connection lost, closing). */
  wake (): void {
    const w = this.space
    this.space = undefined
    w?.()
  }

  /** The duplex is ending: the waiting items, if any, will never be buffered; they are counted `unsent`. */
  abandonWaiting (): void {
    const n = this.waiting
    this.waitingRun = undefined
    if (n === 0) return
    this.owner.ledger.unsent += n
    this.wake()
  }

  /** Takes one item: `undefined` when it was placed at once, else a promise for when its fate is known. */
  offer (item: T): Promise<void> | undefined {
    const { ledger, opts, outbox } = this.owner
    ledger.accepted++
    this.refuseClosed(1)
    let size: number
    try {
      opts.validate?.(item)
      size = this.measure(item)
    } catch (err) {
      ledger.rejected++
      throw err
    }
    this.refuseOffline(1)
    if (outbox.fits(size)) {
      outbox.push(item, size)
      this.owner.pushed()
      return undefined
    }
    return this.place({ items: [item], sizes: [size], next: 0 })
  }

  /**
   * Takes a batch as one step: counted, checked, sized, and buffered in one append when it fits; else what
   * fits is buffered and the rest waits for room. An item `validate` refuses (or `buffer.size` cannot
   * measure) ends the sink as it does item by item: the items before it go on; it and the rest of its batch
   * (taken from the source, never to be sent) are counted `rejected`, as `overflow: 'error'` does.
   */
  offerBatch (items: T[]): Promise<void> | undefined {
    const { ledger, opts } = this.owner
    const n = items.length
    ledger.accepted += n
    this.refuseClosed(n)
    const check = opts.validate
    const sizes: number[] = new Array(n)
    let total = 0
    for (let i = 0; i < n; i++) {
      try {
        check?.(items[i])
        total += sizes[i] = this.measure(items[i])
      } catch (err) {
        return this.refusedAt(items, sizes, i, total, err)
      }
    }
    return this.placeBatch(items, sizes, total)
  }

  /** `items[i]` was refused: the items before it (`total` bytes) are placed, then the sink fails with `err`. */
  private refusedAt (items: T[], sizes: number[], i: number, total: number, err: unknown): Promise<void> {
    this.owner.ledger.rejected += items.length - i
    if (i === 0) throw err
    const placing = this.placeBatch(items.slice(0, i), sizes.slice(0, i), total)
    if (placing === undefined) throw err
    return placing.then(() => { throw err })
  }

  /**
   * `buffer.size(item)`, checked: a size that is no whole number of bytes from 0 up would corrupt the
   * buffer's and retention's byte counts for the link's life, so the item is refused instead, typed.
   */
  private measure (item: T): number {
    let size: unknown
    try {
      size = this.owner.opts.size(item)
    } catch (err) {
      throw new InvalidParametersError(`expected buffer.size() to measure the item, but it threw: ${toError(err).message}`, { cause: err })
    }
    if (typeof size === 'number' && size >= 0 && Number.isSafeInteger(size)) return size
    throw new InvalidParametersError(`expected buffer.size() to return a whole number of bytes from 0 up, but it returned ${typeof size === 'string' ? `'${size}'` : String(size)}`)
  }

  /** Places a checked batch, sized (see `offerBatch`). */
  private placeBatch (items: T[], sizes: number[], total: number): Promise<void> | undefined {
    const { outbox } = this.owner
    const n = items.length
    this.refuseOffline(n)
    const placed = outbox.pushRun(items, sizes, 0, n, total)
    if (placed > 0) this.owner.pushed()
    if (placed === n) return undefined
    return this.place({ items, sizes, next: placed })
  }

  /** Refuses the `count` items just taken (counted `unsent`) if writing is closed. */
  private refuseClosed (count: number): void {
    const refusal = this.owner.writeRefusal()
    if (refusal === undefined) return
    this.owner.ledger.unsent += count
    throw refusal
  }

  /** Refuses the `count` items just taken (counted `rejected`) if `failFast` is set and no connection is up. */
  private refuseOffline (count: number): void {
    const { ledger, opts } = this.owner
    if (opts.failFast && !this.owner.online) {
      ledger.rejected += count
      throw new NotConnectedError('No connection is up and failFast is set: the write was refused. Wait for the \'connected\' event, or turn failFast off to buffer offline writes')
    }
  }

  /** Buffers `run` as room is made, or applies the overflow policy to what is left once disconnected. */
  private async place (run: Run<T>): Promise<void> {
    const { opts, outbox } = this.owner
    this.waitingRun = run
    for (;;) {
      if (!this.owner.online && (opts.overflow !== 'wait' || opts.failFast)) {
        this.waitingRun = undefined
        this.overflowRest(run)
        return
      }
      const placed = outbox.pushRun(run.items, run.sizes, run.next, run.items.length)
      run.next += placed
      if (run.next === run.items.length) this.waitingRun = undefined
      if (placed > 0) this.owner.pushed()
      if (run.next === run.items.length) return
      if (placed > 0) continue // handing them on may have made room already
      await new Promise<void>((resolve) => { this.space = resolve })
      if (this.waitingRun !== run) throw this.owner.writeRefusal() ?? new ClosedError('the write side has ended')
    }
  }

  /** Disconnected: the first item left does not fit and gets the policy; each later one is buffered if it fits. */
  private overflowRest (run: Run<T>): void {
    const { ledger, outbox } = this.owner
    const { items, sizes } = run
    for (let k = run.next; k < items.length; k++) {
      if (k > run.next && outbox.fits(sizes[k])) {
        outbox.push(items[k], sizes[k])
        continue
      }
      try {
        this.overflow(sizes[k], items[k])
      } catch (err) {
        ledger.rejected += items.length - k - 1 // the rest of the batch is refused with it
        throw err
      }
    }
  }

  /** Applies the overflow policy to `item`, which does not fit while disconnected. */
  private overflow (size: number, item: T): void {
    const { ledger, opts, outbox } = this.owner
    if (opts.failFast) {
      ledger.rejected++
      throw new NotConnectedError('The connection was lost while this write waited for room, and failFast is set: the write was refused')
    }
    if (opts.overflow === 'drop-newest') { ledger.dropped++; return }
    if (opts.overflow === 'drop-oldest') {
      while (!outbox.fits(size)) { outbox.buffer.shift(); ledger.dropped++ }
      outbox.push(item, size)
      return
    }
    ledger.rejected++
    const { maxMessages, maxBytes } = opts.limits
    throw new BufferOverflowError(`The outbound buffer is full while disconnected (${outbox.buffer.length} items, ${outbox.buffer.byteLength} bytes; limits ${maxMessages} items / ${maxBytes} bytes). Raise buffer.maxMessages/maxBytes, choose another overflow policy, or write again after 'connected'`)
  }

  /** The user's source ended, or reading it stopped on `err` (the source's, as a `SourceError`, or ours). */
  readEnded (err?: unknown): void {
    if (err === undefined) {
      this.ended = true
      this.owner.userEnded()
      return
    }
    if (err instanceof SourceError) {
      this.owner.sourceFailed(err.error)
      return
    }
    this.settle(toError(err))
  }
}
