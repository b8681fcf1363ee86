import type { StageDuplex, TimerHandle } from '@proto/interface'
import { isPushSinkable, toError } from '@proto/interface'
import { DialAttempt } from './attempt.js'
import { noop, safeAbort } from './connection.js'
import type { FailureKind } from './errors.js'
import { ClosedError, DialTimeoutError, InvalidParametersError } from './errors.js'
import type { Ledger } from './ledger.js'
import type { ResolvedOptions } from './options.js'
import type { DialFunction, ReconnectStatus, StatusEvent } from './types.js'

/** What the dialer needs from the durable duplex. */
export interface DialerOwner<TIn, TOut> {
  readonly opts: ResolvedOptions<TOut>
  readonly ledger: Ledger
  /** Closing or finished: no attempt may start or act. */
  readonly stopped: boolean
  setState(status: ReconnectStatus): void
  emit(event: StatusEvent): void
  /** An error from a dial or a connection, for `stats().lastError`. */
  noteError(err: Error): void
  /** Dial `epoch` succeeded: take `duplex` into use. */
  connected(epoch: number, attempt: DialAttempt, duplex: StageDuplex<TIn, TOut>): void
  /** Retrying stopped. */
  fail(kind: FailureKind, cause: Error | undefined): void
  /** `DialContext.limitUnconfirmed` of dial `epoch`. */
  limitFrom(epoch: number, maxMessages: number, maxBytes: number): void
  /** `DialContext.confirm` of dial `epoch`. */
  confirmFrom(epoch: number, count: number): void
  /** `DialContext.lost` of dial `epoch`. */
  lostFrom(epoch: number, err: Error): void
}

/**
 * Dials, and redials with backoff. Every dial gets an epoch and its own {@link DialAttempt}, which lives as
 * long as the connection it makes; results from an older epoch are released and ignored, so nothing from
 * an old attempt acts after a new one starts. Owns one timer: the connect timeout or the backoff wait.
 */
export class Dialer<TIn, TOut> {
  epoch = 0
  /** The current dial count since the last stable connection. */
  attempt = 0
  /** The current dial, and the connection it made. */
  current: DialAttempt | undefined
  private previousDelay = 0
  private outageStart: number
  private timer: TimerHandle | undefined
  private backingOff = false

  constructor (private readonly dial: DialFunction<TIn, TOut>, private readonly owner: DialerOwner<TIn, TOut>) {
    this.outageStart = owner.opts.clock.now()
  }

  /** The first dial. */
  start (): void {
    if (this.owner.stopped) return
    this.attempt = 1
    this.startAttempt()
  }

  /** Cancels the timer and aborts the current attempt's signal (and so its connection). */
  stop (reason: Error): void {
    this.disarm()
    this.current?.abort(reason)
  }

  /** During a backoff wait, dials now. */
  redialNow (): void {
    if (!this.backingOff || this.owner.stopped) return
    this.startAttempt()
  }

  /**
   * The live connection was lost after `uptime` ms: reset the backoff if it was stable, then redial (at
   * once when `forced`) or give up.
   */
  lost (uptime: number, err: Error | undefined, forced: boolean): void {
    const opts = this.owner.opts
    if (uptime >= opts.minStableTime) {
      this.attempt = 0
      this.previousDelay = 0
      this.outageStart = opts.clock.now()
    }
    if (this.owner.stopped) return
    if (forced) {
      this.attempt++
      this.startAttempt()
      return
    }
    if (err !== undefined && !this.retryOrFail(err)) return
    this.retryAfter(err)
  }

  private startAttempt (): void {
    const epoch = ++this.epoch
    const attempt = this.attempt
    const ctx = this.attemptOf(epoch, attempt)
    const opts = this.owner.opts
    this.current = ctx
    this.backingOff = false
    this.owner.ledger.attempts++
    this.owner.setState('connecting')
    const timeout = opts.connectTimeout
    this.disarm()
    if (Number.isFinite(timeout)) {
      this.arm(timeout, () => {
        ctx.abort(new DialTimeoutError(`Dial attempt ${attempt} took longer than connectTimeout (${timeout} ms); raise connectTimeout if the peer is slow to accept`))
      })
    }
    this.owner.emit({ type: 'connecting', attempt })
    if (this.owner.stopped || epoch !== this.epoch) return
    let dialing: Promise<StageDuplex<TIn, TOut>>
    try {
      dialing = Promise.resolve(this.dial(ctx))
    } catch (err) {
      dialing = Promise.reject(err)
    }
    // the dial, or the attempt ending first (a timeout, close()): whichever comes first
    new Promise<StageDuplex<TIn, TOut>>((resolve, reject) => {
      if (ctx.reason !== undefined) reject(ctx.reason)
      else ctx.failDial = reject
      dialing.then(resolve, reject)
    }).then(
      (duplex) => { ctx.failDial = undefined; this.onDialed(epoch, ctx, duplex) },
      (err: unknown) => { ctx.failDial = undefined; this.onDialFailed(epoch, ctx, dialing, toError(err)) }
    )
  }

  /** The context of dial `epoch`: it calls the owner with its epoch, and keeps no closure of its own. */
  private attemptOf (epoch: number, attempt: number): DialAttempt {
    return new DialAttempt(attempt, epoch, this.owner)
  }

  private onDialed (epoch: number, ctx: DialAttempt, duplex: StageDuplex<TIn, TOut>): void {
    if (epoch !== this.epoch || ctx.aborted || this.owner.stopped) {
      if (duplex != null) safeAbort(duplex, new ClosedError('A newer attempt or close() superseded this connection'))
      return
    }
    // a duplex written through `sinkPush` (a stage's) is not asked for its `sink`: a stage makes its bound sink
    // on first read and keeps it for the connection's life
    if (duplex == null || duplex.source == null || (!isPushSinkable(duplex) && typeof duplex.sink !== 'function')) {
      this.onDialFailed(epoch, ctx, Promise.resolve(duplex), new InvalidParametersError('expected dial() to resolve to a duplex with source and sink, but it resolved to something else'))
      return
    }
    this.disarm()
    this.owner.connected(epoch, ctx, duplex)
  }

  private onDialFailed (epoch: number, ctx: DialAttempt, dialing: Promise<StageDuplex<TIn, TOut> | undefined>, err: Error): void {
    if (ctx.aborted) {
      // The dial may still succeed after we stopped waiting for it: release what it made.
      void dialing.then((late) => { if (late != null) safeAbort(late, new ClosedError('This dial was abandoned')) }, noop)
    }
    if (epoch !== this.epoch || this.owner.stopped) return
    this.disarm()
    ctx.abort(err)
    this.owner.noteError(err)
    if (!this.retryOrFail(err)) return
    this.retryAfter(err)
  }

  /**
   * Dials again after `err` unless `shouldRetry` says not to (the duplex fails with `err`); one that throws
   * fails it with what it threw as the cause, as a throwing backoff does. Whether it dials again.
   */
  private retryOrFail (err: Error): boolean {
    let retry: boolean
    try {
      retry = this.owner.opts.shouldRetry(err)
    } catch (thrown) {
      this.owner.fail('fatal', new InvalidParametersError(`expected shouldRetry() to say whether to dial again, but it threw: ${toError(thrown).message}`, { cause: thrown }))
      return false
    }
    if (!retry) this.owner.fail('fatal', err)
    return retry
  }

  private retryAfter (err: Error | undefined): void {
    // the next attempt's number, counted only once it is going to happen: stats().attempt after giving up
    // is the dials that were made
    const next = this.attempt + 1
    const { maxAttempts, maxRetryTime, clock, delay: schedule } = this.owner.opts
    if (next > maxAttempts) { this.owner.fail('attempts', err); return }
    let delay: number
    try {
      delay = schedule(next, this.previousDelay, err)
    } catch (thrown) {
      // a custom delay or random that throws: no schedule to retry on (this runs in a dial's callback)
      this.owner.fail('fatal', new InvalidParametersError(`expected the backoff (delay or random) to give a delay, but it threw: ${toError(thrown).message}`, { cause: thrown }))
      return
    }
    this.previousDelay = delay
    if (clock.now() - this.outageStart + delay > maxRetryTime) { this.owner.fail('deadline', err); return }
    this.attempt = next
    this.owner.setState('reconnecting')
    const epoch = this.epoch
    this.backingOff = true
    // ref'd: a link that waits to dial again holds no socket, and would otherwise let the process exit
    this.arm(delay, () => {
      if (this.epoch === epoch && !this.owner.stopped) this.startAttempt()
    }, true)
    this.owner.emit({ type: 'reconnecting', attempt: this.attempt, delay, error: err })
  }

  /** `ref`: the timer keeps the process alive (a backoff wait: nothing else may, with no connection open). */
  private arm (ms: number, fn: () => void, ref = false): void {
    this.timer?.cancel()
    this.timer = ref ? this.owner.opts.timers.setTimeout(fn, ms, { ref: true }) : this.owner.opts.timers.setTimeout(fn, ms)
  }

  private disarm (): void {
    this.timer?.cancel()
    this.timer = undefined
  }
}
