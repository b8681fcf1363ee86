import { createLogger, raceSignal } from '@proto/interface'
import type { AbortOptions, StageDuplex, TimerHandle } from '@proto/interface'
import { noop, safeAbort, toError } from './connection.js'
import type { Connection } from './connection.js'
import { ClosedError, DialTimeoutError, InvalidParametersError, ReconnectFailedError } from './errors.js'
import type { FailureKind } from './errors.js'
import type { ResolvedOptions } from './options.js'
import { DurablePipes } from './pipes.js'
import { StatusEmitter } from './status.js'
import type { DialFunction, DisconnectReason, DurableDuplex, ListenerOptions, ReconnectEventType, ReconnectListener, ReconnectStats, ReconnectStatus, StatusEvent } from './types.js'

/**
 * The lifecycle of a durable duplex: dial, connect, lose, back off, redial, close, fail. Every dial gets
 * an epoch and its own AbortController; results from an older epoch are released and ignored. One timer
 * slot serves the connect timeout, the backoff wait and the close deadline, which never overlap.
 */
export class Durable<T> extends DurablePipes<T> implements DurableDuplex<T> {
  private readonly log = createLogger('reconnect')
  private readonly events: StatusEmitter
  private state: ReconnectStatus = 'connecting'
  private epoch = 0
  private controller: AbortController | undefined
  private timer: TimerHandle | undefined
  private attempt = 0
  private previousDelay = 0
  private outageStart: number
  private lastError: Error | undefined
  private closePromise: Promise<void> | undefined
  /** Ends a close() wait early when abort() or a failure overtakes it. */
  private interruptClose: ((err: Error) => void) | undefined

  constructor (private readonly dial: DialFunction<T>, opts: ResolvedOptions<T>) {
    super(opts)
    this.events = new StatusEmitter(opts.statusBuffer)
    this.outageStart = opts.clock.now()
    // Start on a microtask so listeners added right after reconnect() see the first 'connecting'.
    queueMicrotask(() => {
      if (this.closing || this.finished) return
      this.attempt = 1
      this.startAttempt()
    })
  }

  get status (): ReconnectStatus { return this.state }

  stats (): ReconnectStats {
    const c = this.counters
    return {
      status: this.state,
      attempt: this.attempt,
      attempts: c.attempts,
      reconnects: c.reconnects,
      connectedSince: this.conn?.connectedAt,
      buffered: this.queue.length,
      bufferedBytes: this.queue.byteLength,
      dropped: c.dropped,
      handed: c.handed,
      unconfirmed: c.unconfirmed,
      unsent: c.unsent,
      discardedInbound: c.discardedInbound,
      lastError: this.lastError
    }
  }

  statusIterator (): AsyncIterableIterator<StatusEvent> { return this.events.iterator() }

  addEventListener<K extends ReconnectEventType> (type: K, listener: ReconnectListener<K>, options?: ListenerOptions): void {
    this.events.addEventListener(type, listener, options)
  }

  removeEventListener<K extends ReconnectEventType> (type: K, listener: ReconnectListener<K>, options?: ListenerOptions): void {
    this.events.removeEventListener(type, listener, options)
  }

  // ---- dialling -----------------------------------------------------------------------------------

  private arm (ms: number, fn: () => void): void {
    this.timer?.cancel()
    this.timer = this.opts.timers.setTimeout(fn, ms)
  }

  private disarm (): void {
    this.timer?.cancel()
    this.timer = undefined
  }

  private startAttempt (): void {
    const epoch = ++this.epoch
    const attempt = this.attempt
    const controller = new AbortController()
    this.controller = controller
    this.counters.attempts++
    this.state = 'connecting'
    const timeout = this.opts.connectTimeout
    if (Number.isFinite(timeout)) {
      this.arm(timeout, () => {
        if (this.epoch === epoch && this.conn == null) {
          controller.abort(new DialTimeoutError(`Dial attempt ${attempt} took longer than connectTimeout (${timeout} ms); raise connectTimeout if the peer is slow to accept`))
        }
      })
    } else {
      this.disarm()
    }
    this.log.debug('dial attempt %d', attempt)
    this.events.emit({ type: 'connecting', attempt })
    if (this.closing || this.finished || epoch !== this.epoch) return
    let dialing: Promise<StageDuplex<T>>
    try {
      dialing = Promise.resolve(this.dial({ attempt, signal: controller.signal }))
    } catch (err) {
      dialing = Promise.reject(err)
    }
    raceSignal(dialing, controller.signal).then(
      duplex => { this.onDialed(epoch, controller, attempt, duplex) },
      (err: unknown) => { this.onDialFailed(epoch, controller, dialing, toError(err)) }
    )
  }

  private onDialed (epoch: number, controller: AbortController, attempt: number, duplex: StageDuplex<T>): void {
    if (epoch !== this.epoch || controller.signal.aborted || this.closing || this.finished) {
      if (duplex != null) safeAbort(duplex, new ClosedError('A newer attempt or close() superseded this connection'))
      return
    }
    if (duplex == null || typeof duplex.sink !== 'function' || duplex.source == null) {
      this.onDialFailed(epoch, controller, Promise.resolve(duplex), new InvalidParametersError('dial() must resolve to a duplex with source and sink'))
      return
    }
    this.disarm()
    const c: Connection<T> = {
      epoch,
      attempt,
      controller,
      duplex,
      connectedAt: this.opts.clock.now(),
      iter: undefined,
      handed: 0,
      reading: false,
      lost: false,
      feedEnded: false,
      sinkDone: false,
      sinkFailed: false,
      sinkSettled: Promise.resolve(),
      onRead: result => { this.onRead(c, result) },
      onReadError: err => { this.onReadError(c, toError(err)) }
    }
    this.conn = c
    if (this.counters.connects++ > 0) this.counters.reconnects++
    this.state = 'connected'
    let sinking: Promise<void>
    try {
      sinking = Promise.resolve(duplex.sink(this.feed(c)))
    } catch (err) {
      sinking = Promise.reject(err)
    }
    c.sinkSettled = sinking.then(() => { this.onLowerSinkDone(c) }, (err: unknown) => { this.onLowerSinkError(c, toError(err)) })
    this.log.debug('connected on attempt %d', attempt)
    this.events.emit({ type: 'connected', attempt })
    this.pull()
  }

  private onDialFailed (epoch: number, controller: AbortController, dialing: Promise<StageDuplex<T> | undefined>, err: Error): void {
    if (controller.signal.aborted) {
      // The dial may still succeed after we stopped waiting for it: release what it made.
      void dialing.then(late => { if (late != null) safeAbort(late, new ClosedError('This dial was abandoned')) }, noop)
    }
    if (epoch !== this.epoch || this.closing || this.finished) return
    this.disarm()
    if (!controller.signal.aborted) controller.abort(err)
    this.lastError = err
    this.log.debug('dial attempt %d failed: %s', this.attempt, err.message)
    if (!this.retryable(err)) { this.fail('fatal', err); return }
    this.scheduleRetry(err)
  }

  private retryable (err: Error): boolean {
    try {
      return this.opts.shouldRetry(err)
    } catch {
      return false
    }
  }

  private scheduleRetry (err: Error | undefined): void {
    this.attempt++
    const { maxAttempts, maxRetryTime } = this.opts
    if (this.attempt > maxAttempts) { this.fail('attempts', err ?? this.lastError); return }
    const delay = this.opts.delay(this.attempt, this.previousDelay, err)
    this.previousDelay = delay
    if (this.opts.clock.now() - this.outageStart + delay > maxRetryTime) { this.fail('deadline', err ?? this.lastError); return }
    this.state = 'reconnecting'
    const epoch = this.epoch
    this.arm(delay, () => {
      if (this.epoch === epoch && !this.closing && !this.finished) this.startAttempt()
    })
    this.events.emit({ type: 'reconnecting', attempt: this.attempt, delay, error: err })
  }

  /** A live connection was lost: release it, account for it, then redial or give up. */
  protected lose (c: Connection<T>, reason: DisconnectReason, err: Error | undefined): void {
    if (c.lost || c !== this.conn) return
    c.lost = true
    this.conn = undefined
    const now = this.opts.clock.now()
    const uptime = now - c.connectedAt
    this.counters.unconfirmed += c.handed
    if (err !== undefined) this.lastError = err
    const teardown = err ?? new Error(`Connection lost (${reason})`)
    c.controller.abort(teardown)
    safeAbort(c.duplex, teardown)
    this.releaseFeed(c)
    if (uptime >= this.opts.minStableTime) {
      this.attempt = 0
      this.previousDelay = 0
      this.outageStart = now
    }
    this.state = 'reconnecting'
    this.log.debug('connection lost (%s) after %d ms, %d items handed', reason, uptime, c.handed)
    this.events.emit({ type: 'disconnected', reason, error: err, uptime, handed: c.handed })
    this.wakeProducer()
    if (this.closing || this.finished) return
    if (err !== undefined && !this.retryable(err)) { this.fail('fatal', err); return }
    this.scheduleRetry(err)
  }

  // ---- ending -------------------------------------------------------------------------------------

  protected maybeComplete (): void {
    if (this.sourceDone && this.writeComplete && !this.closing && !this.finished) void this.close().catch(noop)
  }

  /** Without a signal, every call returns the same promise. */
  close (options: AbortOptions = {}): Promise<void> {
    const signal = options.signal
    if (signal?.aborted === true) return Promise.reject(signal.reason)
    this.closePromise ??= this.runClose()
    return signal == null ? this.closePromise : this.closeWithin(this.closePromise, signal)
  }

  /** Waits for the close until `signal` aborts, which turns the close into an abort. */
  private async closeWithin (closing: Promise<void>, signal: AbortSignal): Promise<void> {
    const onAbort = (): void => { this.abort(toError(signal.reason)) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      await raceSignal(closing, signal)
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  private async runClose (): Promise<void> {
    if (this.finished) return
    this.closing = true
    this.state = 'closing'
    this.wakeProducer()
    this.endFeed()
    const c = this.conn
    if (c == null) {
      this.finish(undefined)
      return
    }
    const deadline = this.opts.clock.now() + this.opts.closeTimeout
    let clean: boolean
    try {
      await this.within(c.sinkSettled, deadline)
      if (!c.sinkFailed && c.duplex.close != null) {
        const duplex = c.duplex
        await this.within(Promise.resolve().then(async () => { await duplex.close?.() }), deadline)
      }
      clean = !c.sinkFailed
    } catch {
      clean = false
    }
    this.finish(clean ? c : undefined)
  }

  /** Waits for `promise` until `deadline` (clock ms), using the timer slot. */
  private async within (promise: Promise<void>, deadline: number): Promise<void> {
    const ms = deadline - this.opts.clock.now()
    if (ms <= 0) throw new ClosedError('close deadline passed')
    try {
      await new Promise<void>((resolve, reject) => {
        this.interruptClose = reject
        this.arm(ms, () => { reject(new ClosedError('close deadline passed')) })
        promise.then(resolve, reject)
      })
    } finally {
      this.interruptClose = undefined
      this.disarm()
    }
  }

  /** Ends a close(): releases the connection (aborting it unless it closed cleanly) and settles both sides. */
  private finish (clean: Connection<T> | undefined): void {
    if (this.finished) return
    this.finished = true
    this.state = 'closed'
    this.disarm()
    const reason = new ClosedError('close() released this connection')
    const c = this.conn
    this.conn = undefined
    if (c != null) {
      c.lost = true
      if (c !== clean) {
        this.counters.unconfirmed += c.handed
        safeAbort(c.duplex, new ClosedError('close() could not finish in time; connection aborted'))
      }
      this.releaseFeed(c)
    }
    this.controller?.abort(reason)
    const unsent = this.queue.clear()
    this.counters.unsent += unsent
    this.finishSource(undefined)
    if (this.userEnded && unsent === 0 && c === clean) this.settleSink()
    else this.settleSink(new ClosedError(`close() ended the write side; ${unsent} buffered items were not sent`))
    this.wakeProducer()
    this.log.debug('closed')
    this.events.emit({ type: 'closed', error: undefined })
  }

  abort (err: Error): void {
    this.terminate(err, undefined)
  }

  private fail (kind: FailureKind, cause: Error | undefined): void {
    const attempts = kind === 'fatal' ? this.attempt : Math.max(0, this.attempt - 1)
    const message = kind === 'attempts'
      ? `Gave up after ${attempts} dial attempts (maxAttempts ${this.opts.maxAttempts}); the last error is the cause`
      : kind === 'deadline'
        ? `Gave up after ${attempts} dial attempts: the outage would outlast maxRetryTime (${this.opts.maxRetryTime} ms); the last error is the cause`
        : 'Gave up: shouldRetry() called the last error fatal; it is the cause'
    this.terminate(new ReconnectFailedError(message, { cause, attempts, kind }), kind)
  }

  /** Tears everything down with `err`: the source and sink fail with it. */
  private terminate (err: Error, failure: FailureKind | undefined): void {
    if (this.finished) return
    this.finished = true
    this.terminalError = err
    this.state = failure === undefined ? 'closed' : 'failed'
    this.disarm()
    this.interruptClose?.(err)
    const c = this.conn
    this.conn = undefined
    if (c != null) {
      c.lost = true
      this.counters.unconfirmed += c.handed
      c.controller.abort(err)
      safeAbort(c.duplex, err)
      this.releaseFeed(c)
    }
    this.controller?.abort(err)
    this.counters.unsent += this.queue.clear()
    this.held = undefined
    this.finishSource(err)
    this.settleSink(err)
    this.wakeProducer()
    this.log.debug('terminated: %s', err.message)
    if (failure !== undefined) this.events.emit({ type: 'failed', error: err })
    this.events.emit({ type: 'closed', error: err })
  }
}
