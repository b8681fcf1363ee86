import type { StageDuplex } from '@proto/interface'
import { raceSignal } from '@proto/interface'
import type { Connection } from './connection.js'
import { noop, safeAbort, toError } from './connection.js'
import { ClosedError, DialTimeoutError, InvalidParametersError } from './errors.js'
import { DurableLifecycle } from './lifecycle.js'
import type { ResolvedOptions } from './options.js'
import type { DialFunction, DisconnectReason, DurableDuplex } from './types.js'

/**
 * A durable duplex: dial, connect, lose, back off, redial. Every dial gets an epoch and its own
 * AbortController, which lives as long as the connection it makes; results from an older epoch are
 * released and ignored, so nothing from an old attempt acts after a new one starts.
 */
export class Durable<T> extends DurableLifecycle<T> implements DurableDuplex<T> {
  private previousDelay = 0
  private outageStart: number

  constructor (private readonly dial: DialFunction<T>, opts: ResolvedOptions<T>) {
    super(opts)
    this.outageStart = opts.clock.now()
    // Start on a microtask so listeners added right after reconnect() see the first 'connecting'.
    queueMicrotask(() => {
      if (this.closing || this.finished) return
      this.attempt = 1
      this.startAttempt()
    })
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
      (duplex) => { this.onDialed(epoch, controller, attempt, duplex) },
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
      onRead: (result) => { this.onRead(c, result) },
      onBatch: (batch) => { this.onBatch(c, batch) },
      onReadError: (err) => { this.onReadError(c, toError(err)) }
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
      void dialing.then((late) => { if (late != null) safeAbort(late, new ClosedError('This dial was abandoned')) }, noop)
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
}
