import type { AbortOptions, TimerHandle } from '@proto/interface'
import { createLogger, raceSignal } from '@proto/interface'
import type { Connection } from './connection.js'
import { noop, safeAbort, toError } from './connection.js'
import type { FailureKind } from './errors.js'
import { ClosedError, ReconnectFailedError } from './errors.js'
import type { ResolvedOptions } from './options.js'
import { DurableOutbound } from './outbound.js'
import { StatusEmitter } from './status.js'
import type { ListenerOptions, ReconnectEventType, ReconnectListener, ReconnectStats, ReconnectStatus, StatusEvent } from './types.js'

/**
 * The observable and ending side of a durable duplex: state, stats, status events, the timer slot, and
 * the three ways it ends (close, abort, failure). The timer slot serves the connect timeout, the backoff
 * wait and the close deadline, which never overlap.
 */
export abstract class DurableLifecycle<T> extends DurableOutbound<T> {
  protected readonly log = createLogger('reconnect')
  protected readonly events: StatusEmitter
  protected state: ReconnectStatus = 'connecting'
  protected epoch = 0
  protected controller: AbortController | undefined
  protected attempt = 0
  protected lastError: Error | undefined
  private timer: TimerHandle | undefined
  private closePromise: Promise<void> | undefined
  /** Ends a close() wait early when abort() or a failure overtakes it. */
  private interruptClose: ((err: Error) => void) | undefined

  constructor (opts: ResolvedOptions<T>) {
    super(opts)
    this.events = new StatusEmitter(opts.statusBuffer)
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

  protected arm (ms: number, fn: () => void): void {
    this.timer?.cancel()
    this.timer = this.opts.timers.setTimeout(fn, ms)
  }

  protected disarm (): void {
    this.timer?.cancel()
    this.timer = undefined
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

  protected fail (kind: FailureKind, cause: Error | undefined): void {
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
    this.dropHeld()
    this.finishSource(err)
    this.settleSink(err)
    this.wakeProducer()
    this.log.debug('terminated: %s', err.message)
    if (failure !== undefined) this.events.emit({ type: 'failed', error: err })
    this.events.emit({ type: 'closed', error: err })
  }
}
