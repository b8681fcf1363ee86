import { SourceError, toError } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { BufferOverflowError, ClosedError, InvalidParametersError, NotConnectedError } from './errors.js'
import type { Ledger } from './ledger.js'
import type { ResolvedOptions } from './options.js'
import type { Outbox } from './outbox.js'

/** What the durable sink needs from the durable duplex. */
export interface IntakeOwner<T> {
  readonly opts: ResolvedOptions<T>
  readonly outbox: Outbox<T>
  readonly ledger: Ledger
  /** A connection is up. */
  readonly online: boolean
  /** Why nothing more can be written (`close()`, abort, failure), or `undefined` while writing is open. */
  writeRefusal(): Error | undefined
  /** An item entered the buffer: a waiting connection sink may take it. */
  pushed(): void
  /** The user's source ended: writing is over once everything is handed. */
  userEnded(): void
  /** The user's own source threw: the duplex is aborted with that error. */
  sourceFailed(err: Error): void
}

const NO_ITEM: unique symbol = Symbol('no item')

/**
 * The durable sink: takes items from the user's source into the outbox's buffer, one at a time, counting
 * each in the ledger the moment it is taken. When the buffer is full it waits (connected, or
 * `overflow: 'wait'`), or applies the overflow policy (disconnected); an item that waits for room is the
 * `waiting` gauge until its fate is decided.
 */
export class Intake<T> {
  /** The user's source ended. */
  ended = false
  private settleSink: { resolve(): void, reject(err: Error): void } | undefined
  private waitingItem: T | typeof NO_ITEM = NO_ITEM
  private space: (() => void) | undefined

  constructor (private readonly owner: IntakeOwner<T>) {}

  /** 0 or 1: an item taken from the source that waits for room. */
  get waiting (): number {
    return this.waitingItem === NO_ITEM ? 0 : 1
  }

  readonly sink = async (source: Source<T>): Promise<void> => {
    const refusal = this.owner.writeRefusal()
    if (refusal !== undefined) throw refusal
    if (this.ended) throw new ClosedError('the write side has ended (the sink finished); no more writes are accepted')
    if (this.settleSink !== undefined) throw new InvalidParametersError('sink is already consuming a source; call it once at a time')
    await new Promise<void>((resolve, reject) => {
      this.settleSink = { resolve, reject }
      this.consume(source).then(() => { this.onEnd() }, (err: unknown) => { this.onError(err) })
    })
  }

  /** Settles the promise `sink()` returned (once). */
  settle (err?: Error): void {
    const s = this.settleSink
    if (s === undefined) return
    this.settleSink = undefined
    if (err === undefined) s.resolve()
    else s.reject(err)
  }

  /** Wakes a producer waiting for room, so it checks again (room made, connection lost, closing). */
  wake (): void {
    const w = this.space
    this.space = undefined
    w?.()
  }

  /** The duplex is ending: the waiting item, if any, will never be buffered; it is counted `unsent`. */
  abandonWaiting (): void {
    if (this.waitingItem === NO_ITEM) return
    this.waitingItem = NO_ITEM
    this.owner.ledger.unsent++
    this.wake()
  }

  private async consume (source: Source<T>): Promise<void> {
    if (Symbol.asyncIterator in source) {
      const it = source[Symbol.asyncIterator]()
      for (;;) {
        let r: IteratorResult<T>
        try { r = await it.next() } catch (err) { throw new SourceError(toError(err)) }
        if (r.done === true) return
        try {
          const wait = this.offer(r.value)
          if (wait !== undefined) await wait
        } catch (err) {
          void it.return?.()?.then(undefined, () => {})
          throw err
        }
      }
    }
    const it = source[Symbol.iterator]()
    for (;;) {
      let r: IteratorResult<T>
      try { r = it.next() } catch (err) { throw new SourceError(toError(err)) }
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

  /** Takes one item: `undefined` when it was placed at once, else a promise for when its fate is known. */
  private offer (item: T): Promise<void> | undefined {
    const { ledger, opts, outbox } = this.owner
    ledger.accepted++
    const refusal = this.owner.writeRefusal()
    if (refusal !== undefined) {
      ledger.unsent++
      throw refusal
    }
    if (opts.validate !== undefined) {
      try {
        opts.validate(item)
      } catch (err) {
        ledger.rejected++
        throw err
      }
    }
    if (opts.failFast && !this.owner.online) {
      ledger.rejected++
      throw new NotConnectedError('No connection is up and failFast is set: the write was refused. Wait for the \'connected\' event, or turn failFast off to buffer offline writes')
    }
    const size = opts.size(item)
    if (outbox.fits(size)) {
      outbox.push(item, size)
      this.owner.pushed()
      return undefined
    }
    return this.offerFull(item, size)
  }

  private async offerFull (item: T, size: number): Promise<void> {
    const { opts, outbox } = this.owner
    this.waitingItem = item
    for (;;) {
      if (!this.owner.online && (opts.overflow !== 'wait' || opts.failFast)) {
        this.waitingItem = NO_ITEM
        this.overflow(item, size)
        return
      }
      if (outbox.fits(size)) {
        this.waitingItem = NO_ITEM
        outbox.push(item, size)
        this.owner.pushed()
        return
      }
      await new Promise<void>((resolve) => { this.space = resolve })
      if (this.waitingItem === NO_ITEM) throw this.owner.writeRefusal() ?? new ClosedError('the write side has ended')
    }
  }

  /** Applies the overflow policy to `item`, which does not fit while disconnected. */
  private overflow (item: T, size: number): void {
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

  private onEnd (): void {
    this.ended = true
    this.owner.userEnded()
  }

  private onError (err: unknown): void {
    if (err instanceof SourceError) {
      this.owner.sourceFailed(err.error)
      return
    }
    this.settle(toError(err))
  }
}
