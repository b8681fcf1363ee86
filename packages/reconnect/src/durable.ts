import type { AbortOptions, Logger, StageDuplex } from '@proto/interface'
import { abortReason, createLogger, sinkWatched, TypedEventTarget } from '@proto/interface'
import type { Source } from 'it-stream-types'
import type { DialAttempt } from './attempt.js'
import { Closer } from './closer.js'
import type { Connection } from './connection.js'
import { LiveConnection, safeAbort } from './connection.js'
import { Dialer } from './dialer.js'
import type { FailureKind } from './errors.js'
import { ClosedError, ConnectionLostError, ForcedReconnectError } from './errors.js'
import { Feed } from './feed.js'
import { Finishing } from './finishing.js'
import { Inbound } from './inbound.js'
import { Intake } from './intake.js'
import type { Ledger } from './ledger.js'
import { createLedger } from './ledger.js'
import type { ResolvedOptions } from './options.js'
import { Outbox } from './outbox.js'
import { StatusReaders } from './status.js'
import type { DialFunction, DisconnectReason, DurableDuplex, EndConfirming, ReconnectEventMap, ReconnectStats, ReconnectStatus, StatusEvent } from './types.js'

/**
 * A durable duplex, wired from small parts that each see only what they need: the `Intake` (the user's
 * sink into the buffer), the `Outbox` (buffer and retained items, the one ordered source of truth), one
 * `Feed` per connection (what its sink drains), the `Inbound` (the durable source), the `Dialer`
 * (attempts and backoff) and the `Closer` (close, abort, failure). This class holds the shared state and
 * decides what connection events mean.
 */
export class Durable<TIn, TOut> extends TypedEventTarget<ReconnectEventMap> implements DurableDuplex<TIn, TOut> {
  readonly source: Inbound<TIn, TOut>
  readonly sink: (source: Source<TOut>) => Promise<void>
  readonly ledger: Ledger = createLedger()
  readonly outbox: Outbox<TOut>
  readonly intake: Intake<TOut>
  readonly inbound: Inbound<TIn, TOut>
  readonly dialer: Dialer<TIn, TOut>
  /**
   * Made when the duplex starts to end (close, abort, failure) or has a lifetime signal to watch (`closer`):
   * until then nothing is closing, and a connection's end concerns no close.
   */
  private closerPart: Closer<TIn, TOut> | undefined
  /** Lost connections still finishing their side; made with the first one. */
  finishing: Finishing | undefined
  readonly log: Logger = createLogger('reconnect')
  conn: Connection<TIn, TOut> | undefined
  state: ReconnectStatus = 'connecting'
  /** Every item was handed, the connection's sink finished and (with retention) all was confirmed. */
  writeComplete = false
  lastError: Error | undefined
  /** The readers of `statusIterator()`, made with the first one. */
  private readers: StatusReaders | undefined
  /** `closed` was emitted: a status iterator made now has nothing more to see. */
  private closedEmitted = false
  /** Events that happened while one was being told, in order (`undefined` while none is). */
  private emitting: StatusEvent[] | undefined
  /** The last connection lost had an end its stage had not had confirmed yet (`EndConfirming.endConfirmed === false`). */
  private endOwed = false

  /**
   * `opts` may be shared by many durable duplexes (`reconnector()`): nothing here writes to it. `onStatus`
   * and `lifetime` (the `signal` option) are this duplex's own; `lifetime` is not named `signal`, so the
   * public object does not look like an `AbortOptions` to code that takes one.
   */
  constructor (
    dial: DialFunction<TIn, TOut>,
    readonly opts: ResolvedOptions<TOut>,
    private readonly onStatus: ((event: StatusEvent) => void) | undefined = opts.onStatus,
    readonly lifetime: AbortSignal | undefined = opts.signal
  ) {
    super()
    this.outbox = new Outbox(opts.limits, this.ledger)
    this.intake = new Intake(this)
    this.inbound = new Inbound(this)
    this.dialer = new Dialer(dial, this)
    this.source = this.inbound
    this.sink = this.intake.sink
  }

  /**
   * Starts the first dial on the next microtask, so listeners added right after `reconnect()` see it. A
   * lifetime signal that has aborted already tears the duplex down now (writes are refused at once), and
   * its `closed` is told on the next microtask, for the same reason.
   */
  start (): void {
    if (this.lifetime?.aborted === true) {
      const held: StatusEvent[] = this.emitting = []
      try {
        this.closer.watchLifetime()
      } finally {
        this.emitting = undefined
      }
      queueMicrotask(() => { for (const event of held) this.emit(event) })
      return
    }
    if (this.lifetime !== undefined) this.closer.watchLifetime()
    queueMicrotask(() => { this.dialer.start() })
  }

  get status (): ReconnectStatus { return this.state }

  // ---- public API ----------------------------------------------------------------------------------

  close (options?: AbortOptions): Promise<void> { return this.closer.close(options) }

  abort (err: Error): void { this.closer.terminate(abortReason(err), undefined) }

  reconnect (error?: Error): void {
    if (this.stopped) return
    const c = this.conn
    if (c !== undefined) this.lose(c, 'forced', error ?? new ForcedReconnectError(), true)
    else this.dialer.redialNow()
  }

  confirm (count: number): void {
    this.outbox.confirm(count)
    this.afterRelease()
  }

  abandon (count: number = this.outbox.retainedCount): number {
    this.outbox.abandon(count)
    if (this.outbox.retainedCount === 0) {
      // nothing unconfirmed is left to wait for: nor is the end's confirmation the last connection owed, and
      // a close() that rides out an outage for them ends now (it has nothing buffered either)
      this.endOwed = false
      if (this.closing && this.conn === undefined && !this.closeRides) this.closer.giveUp(new ClosedError('close() had nothing left to deliver: what was unconfirmed was given up'))
    }
    this.afterRelease()
    return count
  }

  clearBuffer (): number {
    const n = this.outbox.clearBuffer()
    this.ledger.cleared += n
    this.intake.wake()
    this.checkWriteComplete()
    return n
  }

  statusIterator (options: AbortOptions = {}): AsyncIterableIterator<StatusEvent> {
    this.readers ??= new StatusReaders(this.opts.statusBuffer, this.closedEmitted)
    return this.readers.iterator(options.signal)
  }

  stats (): ReconnectStats {
    const l = this.ledger
    const retained = this.outbox.retained
    return {
      status: this.state,
      attempt: this.dialer.attempt,
      attempts: l.attempts,
      reconnects: l.reconnects,
      connectedSince: this.conn?.connectedAt,
      accepted: l.accepted,
      waiting: this.intake.waiting,
      buffered: this.outbox.buffer.length,
      bufferedBytes: this.outbox.buffer.byteLength,
      inFlight: retained === undefined ? this.conn?.handed ?? 0 : 0,
      retained: retained?.length ?? 0,
      retainedBytes: retained?.byteLength ?? 0,
      handed: l.handed,
      replayed: l.replayed,
      confirmed: l.confirmed,
      unconfirmed: l.unconfirmed,
      flushed: l.flushed,
      dropped: l.dropped,
      cleared: l.cleared,
      rejected: l.rejected,
      unsent: l.unsent,
      discardedInbound: l.discardedInbound,
      lastError: this.lastError
    }
  }

  // ---- parts' owner hooks --------------------------------------------------------------------------

  private get closer (): Closer<TIn, TOut> { return this.closerPart ??= new Closer(this) }
  /** `close()` runs. */
  private get closing (): boolean { return this.closerPart?.closing === true }
  /** Closed or failed: the duplex is over. */
  private get finished (): boolean { return this.closerPart?.finished === true }

  /** No dial may start or act: closed, failed, or closing with nothing a new connection could still bring. */
  get stopped (): boolean { return this.finished || (this.closing && !this.closeRides) }

  /**
   * A close() rides out a lost connection: with retention, until the write side is complete, while there
   * is a connection, or items to hand or have confirmed, or an end the last connection's stage had not
   * had confirmed (`EndConfirming`). It then waits for the next connection, within `closeTimeout`.
   */
  get closeRides (): boolean {
    if (!this.outbox.retaining || this.writeComplete) return false
    return this.conn !== undefined || this.outbox.retainedCount > 0 || this.outbox.buffer.length > 0 || this.endOwed
  }

  /** A close() waits on the connection it has, not on another: it does not ride out its loss. */
  private get closingHere (): boolean { return this.closing && !this.closeRides }
  get online (): boolean { return this.conn !== undefined }
  get writeEnded (): boolean { return this.intake.ended || this.closing }

  writeRefusal (): Error | undefined { return this.closerPart?.writeRefusal() }
  pushed (): void { this.conn?.feed.pushed() }
  /** Items left the buffer: a producer waiting for room goes on once there is plenty (hysteresis at half). */
  handed (): void { if (this.outbox.roomy) this.intake.wake() }
  userEnded (): void {
    this.conn?.feed.wake()
    this.checkWriteComplete()
  }

  sourceFailed (err: Error): void { this.abort(err) }
  /** (A close() that rides out a lost connection stays `closing` while it dials.) */
  setState (status: ReconnectStatus): void { if (!this.closing) this.state = status }
  noteError (err: Error): void { this.keepError(err) }
  readerDone (): void { this.maybeComplete() }
  fail (kind: FailureKind, cause: Error | undefined): void {
    if (this.closing) {
      // a close() riding out a lost connection, and the retry policy gave up: the close ends now, and counts
      this.log.debug('gave up dialling (%s) while closing', kind)
      if (cause !== undefined) this.keepError(cause)
      this.closer.giveUp(cause ?? new ClosedError('close() could not reach the peer again'))
      return
    }
    // the exchange is complete here (only a lingering stage kept it open: EndConfirming.lingering): giving up
    // on dialling again ends it complete, closed, not failed
    if (this.writeComplete && this.inbound.endTaken && !this.stopped) {
      this.log.debug('gave up dialling (%s) after the exchange completed: closing', kind)
      if (cause !== undefined) this.keepError(cause) // why, in stats().lastError
      void this.close().catch(() => {})
      return
    }
    this.closer.fail(kind, cause ?? this.lastError)
  }

  /**
   * Tells every observer of `event`: status iterators, `onStatus`, then the listeners. An event that happens
   * while one is being told (`onStatus` or a listener called `abort()`, `reconnect()`, `close()`) is told
   * after it, to everyone: no observer sees `closed` before the `connected` that preceded it.
   */
  emit (event: StatusEvent): void {
    if (this.emitting !== undefined) {
      this.emitting.push(event)
      return
    }
    const later: StatusEvent[] = this.emitting = []
    try {
      this.tell(event)
      for (let i = 0; i < later.length; i++) this.tell(later[i])
    } finally {
      this.emitting = undefined
    }
  }

  private tell (event: StatusEvent): void {
    if (event.type === 'closed') this.closedEmitted = true
    this.readers?.push(event)
    const onStatus = this.onStatus
    if (onStatus !== undefined) {
      try {
        onStatus(event)
      } catch (err) {
        queueMicrotask(() => { throw err })
      }
    }
    this.safeDispatchEvent(event.type, event)
  }

  confirmFrom (epoch: number, count: number): void {
    if (epoch !== this.dialer.epoch || this.dialer.current?.aborted !== false || this.finished) return
    this.confirm(count)
  }

  limitFrom (epoch: number, maxMessages: number, maxBytes: number): void {
    if (epoch !== this.dialer.epoch || this.dialer.current?.aborted !== false || this.finished) return
    this.outbox.limit(maxMessages, maxBytes)
    this.conn?.feed.wake()
  }

  lostFrom (epoch: number, err: Error): void {
    const c = this.conn
    if (c === undefined || c.epoch !== epoch || this.finished) return
    if (this.closingHere) this.closer.connectionGone(c, err)
    else this.lose(c, 'reported', err)
  }

  /** Dial `epoch` made `duplex`: it is the live connection now. */
  connected (epoch: number, dial: DialAttempt, duplex: StageDuplex<TIn, TOut>): void {
    const attempt = dial.attempt
    const c = new LiveConnection<TIn, TOut>(epoch, dial, duplex, this.opts.clock.now(), this.inbound, this, live => new Feed<TOut>(this, live))
    this.conn = c
    if (this.ledger.connects++ > 0) this.ledger.reconnects++
    this.setState('connected')
    // what goes to it first: read before its sink starts, which may take buffered items into retention at once
    const retained = this.outbox.retainedCount
    // through sinkPush where the connection has it: the feed pushes, and how the run ends comes back to the
    // connection object (sinkEnded), so nothing is parked for the connection's life
    sinkWatched(duplex as { sink(source: AsyncIterable<TOut>): Promise<void> }, c.feed, c)
    this.log.debug('connected on attempt %d', attempt)
    this.emit({ type: 'connected', attempt, retained })
    this.inbound.pull()
  }

  /**
   * The connection's source ended cleanly. An outage, unless the exchange is complete: `peerEnd: 'end'`,
   * closing, or our writing has ended (the user's source ended and every item was handed on) and (with
   * retention) nothing awaits confirmation. Items still buffered make it an outage: they go to the next
   * connection. With retention a decision that depends on confirmations waits until the reader has taken
   * what came before the end.
   */
  peerEnded (c: Connection<TIn, TOut>, idle: boolean): void {
    if (this.closingHere || this.opts.peerEnd === 'end') {
      this.inbound.end()
      this.maybeComplete()
      return
    }
    if (this.intake.ended || this.closing) {
      if (this.outbox.drained && this.outbox.retainedCount === 0) {
        this.inbound.end()
        this.maybeComplete()
        return
      }
      if (!idle && this.outbox.retaining) {
        c.peerEnded = true
        return
      }
    }
    this.lose(c, 'peer-ended', undefined)
  }

  readFailed (c: Connection<TIn, TOut>, err: Error): void {
    if (this.closingHere) this.inbound.end()
    else this.lose(c, 'read-error', err)
  }

  /** A live connection was lost: release it, account for what it had, then redial or give up. */
  lose (c: Connection<TIn, TOut>, reason: DisconnectReason, err: Error | undefined, forced = false): void {
    if (c.lost || c !== this.conn) return
    c.lost = true
    this.conn = undefined
    const uptime = this.opts.clock.now() - c.connectedAt
    if (this.outbox.retaining) this.outbox.rewind() // (and the connection's limit goes with it)
    else this.ledger.unconfirmed += c.handed
    this.endOwed = (c.duplex as Partial<EndConfirming>).endConfirmed === false
    if (err !== undefined) this.keepError(err)
    const teardown = err ?? new ConnectionLostError(`The connection was lost (${reason})`)
    c.dial.abort(teardown)
    // a connection we give up on ourselves is reset; one that ended or failed by itself (the peer finished,
    // perhaps after a GOAWAY, or the stage beneath gave up) may finish its side first: its feed ends now
    if (reason === 'forced' || reason === 'write-error') safeAbort(c.duplex, teardown)
    else if (!c.sinkDone) (this.finishing ??= new Finishing(this.opts.timers, this.opts.closeTimeout)).add(c, teardown)
    c.feed.release()
    this.closerPart?.connectionGone(c, teardown)
    if (this.opts.failFast) this.ledger.dropped += this.outbox.clearBuffer()
    this.setState('reconnecting')
    this.log.debug('connection lost (%s) after %d ms, %d items handed', reason, uptime, c.handed)
    this.emit({ type: 'disconnected', reason, error: err, uptime, handed: c.handed, retained: this.outbox.retainedCount })
    this.intake.wake()
    this.dialer.lost(uptime, err, forced)
  }

  /**
   * Once everything was handed and the connection's sink finished, the user's sink resolves (handed down,
   * as a socket's `end()`); once nothing awaits confirmation either (no retained item, and the end itself
   * confirmed when the connection's stage has its peer confirm it: `EndConfirming`), the write side is complete.
   */
  checkWriteComplete (): void {
    const c = this.conn
    if (c === undefined || !c.sinkDone || c.sinkFailed || !c.feed.ended || !this.outbox.drained) return
    if (this.intake.ended) this.intake.settle()
    if (this.writeComplete) {
      // a lingering stage that stopped lingering calls confirm(0): completion is looked at again
      this.maybeComplete()
      return
    }
    if (this.outbox.retainedCount > 0 || (c.duplex as Partial<EndConfirming>).endConfirmed === false) return
    this.writeComplete = true
    this.closerPart?.connectionDone(c)
    this.maybeComplete()
  }

  /**
   * Both directions are done (the reader has taken the end, everything written is complete): close, unless
   * the connection's stage still lingers (`EndConfirming.lingering`).
   */
  maybeComplete (): void {
    if (!this.inbound.endTaken || !this.writeComplete || this.stopped) return
    if ((this.conn?.duplex as Partial<EndConfirming> | undefined)?.lingering === true) return
    void this.close().catch(() => {})
  }

  private afterRelease (): void {
    this.conn?.feed.wake()
    this.checkWriteComplete()
  }

  /**
   * Keeps `err` for `stats().lastError`, its stack formatted now: until `stack` is read, V8 holds the frames
   * the error was made in, and with them every object that was `this` in one of them (a dead connection's
   * stages: 6 KiB, for as long as a detached session waits for its client).
   */
  private keepError (err: Error): void {
    void err.stack
    this.lastError = err
  }

  /** How a connection's sink written with `sinkPush` ended. */
  sinkEnded (c: Connection<TIn, TOut>, err?: Error): void {
    if (err === undefined) this.lowerSinkDone(c)
    else this.lowerSinkFailed(c, err)
  }

  private lowerSinkDone (c: Connection<TIn, TOut>): void {
    c.sinkDone = true
    this.finishing?.done(c)
    if (c.lost) return
    if (c.feed.ended) this.checkWriteComplete()
    else if (this.closingHere) this.closer.connectionGone(c, new ConnectionLostError('the connection\'s sink finished before everything was handed to it'))
    else this.lose(c, 'write-ended', undefined)
  }

  private lowerSinkFailed (c: Connection<TIn, TOut>, err: Error): void {
    c.sinkDone = true
    this.finishing?.done(c)
    c.sinkFailed = true
    if (c.lost) return
    if (this.closingHere) this.closer.connectionGone(c, err)
    else this.lose(c, 'write-error', err)
  }
}
