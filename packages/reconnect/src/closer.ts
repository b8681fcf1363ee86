import type { AbortOptions, Logger, TimerHandle } from '@proto/interface'
import { onAbortOf, raceSignal, toError } from '@proto/interface'
import type { Connection } from './connection.js'
import { safeAbort } from './connection.js'
import type { FailureKind } from './errors.js'
import { ClosedError, ReconnectFailedError } from './errors.js'
import type { Inbound } from './inbound.js'
import type { Intake } from './intake.js'
import type { Ledger } from './ledger.js'
import type { ResolvedOptions } from './options.js'
import type { Outbox } from './outbox.js'
import type { ReconnectStatus, StatusEvent } from './types.js'

/** What the closer needs from the durable duplex. */
export interface CloserOwner<TIn, TOut> {
  readonly opts: ResolvedOptions<TOut>
  /** The duplex's lifetime signal (the `signal` option). */
  readonly lifetime: AbortSignal | undefined
  readonly ledger: Ledger
  readonly outbox: Outbox<TOut>
  readonly intake: Intake<TOut>
  readonly inbound: Inbound<TIn, TOut>
  readonly dialer: { readonly attempt: number, stop(reason: Error): void, redialNow(): void }
  /** Lost connections still finishing their side: aborted when the durable duplex ends. */
  readonly finishing: { abortAll(): void } | undefined
  readonly log: Logger
  conn: Connection<TIn, TOut> | undefined
  state: ReconnectStatus
  readonly writeComplete: boolean
  /**
   * A close() now rides out a lost connection: with retention, while something is left to hand or to have
   * confirmed, it waits for the next connection (within `closeTimeout`) and completes there.
   */
  readonly closeRides: boolean
  emit(event: StatusEvent): void
}

/** A close() waiting for the write side to complete: on connection `c` only, or (`c` undefined) on whichever completes it. */
interface Completion<TIn, TOut> { c: Connection<TIn, TOut> | undefined, resolve(): void, reject(err: Error): void }

/**
 * The three ways a durable duplex ends: `close()` (flush, and with retention wait for confirmations,
 * within `closeTimeout`), `abort(err)`, and a failure. Whichever way, every item still held is counted
 * (`unsent`, `unconfirmed`, `flushed`) before the source and sink settle and `closed` is emitted. Owns
 * the close deadline's timer and the listener on the lifetime `signal`.
 */
export class Closer<TIn, TOut> {
  closing = false
  finished = false
  terminalError: Error | undefined
  private closePromise: Promise<void> | undefined
  private timer: TimerHandle | undefined
  /** Ends a close() wait early when abort() or a failure overtakes it. */
  private interrupt: ((err: Error) => void) | undefined
  private completion: Completion<TIn, TOut> | undefined
  /** Made only when there is a lifetime signal to watch. */
  private onLifetimeAbort: (() => void) | undefined

  constructor (private readonly owner: CloserOwner<TIn, TOut>) {}

  /** Watches the lifetime `signal`; `false` when it had aborted already (the duplex is torn down). */
  watchLifetime (): boolean {
    const signal = this.owner.lifetime
    if (signal === undefined) return true
    const onAbort = this.onLifetimeAbort = () => { this.terminate(toError(signal.reason), undefined) }
    if (signal.aborted) {
      onAbort()
      return false
    }
    onAbortOf(signal, onAbort)
    return true
  }

  /** Why nothing more can be written, or `undefined` while writing is open. */
  writeRefusal (): Error | undefined {
    if (this.terminalError !== undefined) return this.terminalError
    if (this.closing || this.finished) return new ClosedError('close() was called; the rest of the source is not written')
    return undefined
  }

  /** Without a signal, every call returns the same promise. */
  close (options: AbortOptions = {}): Promise<void> {
    const signal = options.signal
    if (signal?.aborted === true) {
      // aborted already: the close is an abort with its reason, at once
      this.terminate(toError(signal.reason), undefined)
      return Promise.reject(signal.reason)
    }
    this.closePromise ??= this.runClose()
    return signal == null ? this.closePromise : this.closeWithin(this.closePromise, signal)
  }

  /** The write side is complete, on `c`: a close() waiting for it goes on. */
  connectionDone (c: Connection<TIn, TOut>): void {
    const w = this.completion
    if (w === undefined || (w.c !== undefined && w.c !== c)) return
    this.completion = undefined
    w.resolve()
  }

  /** `c` failed or was lost: a close() waiting on it alone gives up on a clean end (one that rides it out waits on). */
  connectionGone (c: Connection<TIn, TOut>, err: Error): void {
    const w = this.completion
    if (w === undefined || w.c !== c) return
    this.completion = undefined
    w.reject(err)
  }

  /** A close() that rides out lost connections cannot go on (the retry policy gave up): it ends now and counts. */
  giveUp (err: Error): void {
    if (this.finished) return
    if (this.interrupt !== undefined) this.interrupt(err)
    else this.finish(undefined)
  }

  fail (kind: FailureKind, cause: Error | undefined): void {
    this.terminate(this.failure(kind, cause), kind)
  }

  /** The `ReconnectFailedError` of `kind`, with the attempts of the outage and the last error as `cause`. */
  private failure (kind: FailureKind, cause: Error | undefined): ReconnectFailedError {
    const opts = this.owner.opts
    // the dials of this outage (giving up counts none that was not made)
    const attempts = this.owner.dialer.attempt
    const message = kind === 'attempts'
      ? `Gave up after ${attempts} dial attempts (maxAttempts ${opts.maxAttempts}); the last error is the cause`
      : kind === 'deadline'
        ? `Gave up after ${attempts} dial attempts: the outage would outlast maxRetryTime (${opts.maxRetryTime} ms); the last error is the cause`
        : 'Gave up: the last error is fatal (shouldRetry() said so, or the backoff threw); it is the cause'
    return new ReconnectFailedError(message, { cause, attempts, kind })
  }

  /** Tears everything down with `err`: the source and sink fail with it. */
  terminate (err: Error, failure: FailureKind | undefined): void {
    if (this.finished) return
    this.finished = true
    this.terminalError = err
    const o = this.owner
    o.state = failure === undefined ? 'closed' : 'failed'
    this.interrupt?.(err)
    o.dialer.stop(err)
    const c = o.conn
    o.conn = undefined
    if (c !== undefined) {
      c.lost = true
      if (!o.outbox.retaining) o.ledger.unconfirmed += c.handed
      safeAbort(c.duplex, err)
      c.feed.release()
    }
    this.release()
    o.inbound.fail(err)
    o.intake.settle(err)
    o.log.debug('terminated: %s', err.message)
    if (failure !== undefined) o.emit({ type: 'failed', error: err })
    o.emit({ type: 'closed', error: err })
  }

  /** Waits for the close until `signal` aborts, which turns the close into an abort. */
  private async closeWithin (closing: Promise<void>, signal: AbortSignal): Promise<void> {
    const onAbort = (): void => { this.terminate(toError(signal.reason), undefined) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      await raceSignal(closing, signal)
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  private async runClose (): Promise<void> {
    if (this.finished) return
    const o = this.owner
    this.closing = true
    o.state = 'closing'
    o.intake.abandonWaiting()
    const c = o.conn
    // with retention, a lost connection is ridden out: the close waits for the next one (dialled at once
    // when there is none now) and completes there, all within closeTimeout
    const rides = o.closeRides
    if (c === undefined && !rides) {
      this.finish(undefined)
      return
    }
    const deadline = o.opts.clock.now() + o.opts.closeTimeout
    if (c !== undefined) c.feed.wake()
    else o.dialer.redialNow()
    let clean: Connection<TIn, TOut> | undefined
    try {
      await this.within(this.writeDone(rides ? undefined : c), deadline)
      // the connection the write side completed on
      const done = o.conn
      if (done === undefined) throw new ClosedError('the connection was lost while closing')
      const duplex = done.duplex
      if (duplex.close != null) await this.within(Promise.resolve().then(async () => { await duplex.close?.() }), deadline)
      clean = done
    } catch {
      clean = undefined
    }
    this.finish(clean)
  }

  /**
   * Resolves once the write side is complete: on `c`, rejecting if `c` fails or is lost first, or (`c`
   * undefined) on whichever connection completes it.
   */
  private async writeDone (c: Connection<TIn, TOut> | undefined): Promise<void> {
    if (this.owner.writeComplete) return
    if (c?.lost === true) throw new ClosedError('the connection was lost while closing')
    await new Promise<void>((resolve, reject) => { this.completion = { c, resolve, reject } })
  }

  /** Waits for `promise` until `deadline` (clock ms). */
  private async within (promise: Promise<void>, deadline: number): Promise<void> {
    const ms = deadline - this.owner.opts.clock.now()
    if (ms <= 0) throw new ClosedError('close deadline passed')
    try {
      await new Promise<void>((resolve, reject) => {
        this.interrupt = reject
        // asked for with ref: the close is awaited, and settles (and counts) even if nothing else keeps the process alive
        this.timer = this.owner.opts.timers.setTimeout(() => { reject(new ClosedError('close deadline passed')) }, ms, { ref: true })
        promise.then(resolve, reject)
      })
    } finally {
      this.interrupt = undefined
      this.timer?.cancel()
      this.timer = undefined
    }
  }

  /** Ends a close(): releases the connection (aborting it unless it closed cleanly) and settles both sides. */
  private finish (clean: Connection<TIn, TOut> | undefined): void {
    if (this.finished) return
    this.finished = true
    const o = this.owner
    o.state = 'closed'
    o.dialer.stop(new ClosedError('close() released this connection'))
    const c = o.conn
    o.conn = undefined
    if (c !== undefined) {
      c.lost = true
      if (!o.outbox.retaining) {
        if (c === clean) o.ledger.flushed += c.handed
        else o.ledger.unconfirmed += c.handed
      }
      if (c !== clean) safeAbort(c.duplex, new ClosedError('close() could not finish in time; connection aborted'))
      c.feed.release()
    }
    const { unsent, unconfirmed } = this.release()
    o.inbound.end()
    if (!o.writeComplete || !o.intake.ended) {
      o.intake.settle(new ClosedError(`close() ended the write side; ${unsent} items were not sent and ${unconfirmed} were not confirmed`))
    }
    o.log.debug('closed')
    o.emit({ type: 'closed', error: undefined })
  }

  /** Counts what is still held: retained items as `unconfirmed`, buffered and waiting ones as `unsent`. */
  private release (): { unsent: number, unconfirmed: number } {
    const o = this.owner
    this.completion = undefined
    o.finishing?.abortAll()
    if (this.onLifetimeAbort !== undefined) o.lifetime?.removeEventListener('abort', this.onLifetimeAbort)
    const unconfirmed = o.outbox.retainedCount
    if (unconfirmed > 0) o.outbox.abandon(unconfirmed)
    const unsent = o.outbox.clearBuffer()
    o.ledger.unsent += unsent
    o.intake.abandonWaiting()
    return { unsent, unconfirmed }
  }
}
