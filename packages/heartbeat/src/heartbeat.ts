import type { Frame, FrameDuplex, Hello } from '@proto/codec'
import { encodeGoAway, encodeHello, GoAwayCode } from '@proto/codec'
import type { AbortOptions, Logger } from '@proto/interface'
import { createLogger, raceSignal } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { GOAWAY_GRACE } from './constants.js'
import { CloseTimeoutError, HeartbeatTimeoutError, InvalidParametersError, TooManyPingsError } from './errors.js'
import type { HeartbeatEvents, HeartbeatListener } from './events.js'
import { Emitter } from './events.js'
import { InboundQueue } from './inbound.js'
import type { HeartbeatConfig } from './options.js'
import { Outbound } from './outbound.js'
import { Peer } from './peer.js'
import type { LowerSource } from './pump.js'
import { Pump } from './pump.js'
import type { HeartbeatDuplex, HeartbeatSource, HeartbeatStats } from './types.js'
import { Watchdog } from './watchdog.js'

/**
 * One heartbeat stage over one frame duplex. Owns exactly one timer (re-armed from timestamps), a pump
 * that reads the lower source continuously, the inbound queue the user drains, and the outbound that
 * merges control frames ahead of the user's frames into the lower sink. The per-frame protocol (pings,
 * pongs, HELLO, the ping guard, RTT) lives in {@link Peer}.
 */
export class Heartbeat implements HeartbeatDuplex {
  readonly source: HeartbeatSource
  private readonly inbound: InboundQueue
  private readonly outbound: Outbound
  private readonly peer: Peer
  private readonly emitter: Emitter
  private readonly log: Logger
  private readonly lowerSource: LowerSource

  /** When we last handed a control frame down (data frames: `outbound.lastDataAt`). */
  private lastControlAt: number
  /** When we last read a frame from the peer (or resumed reading after our own backpressure). */
  lastReceivedAt: number

  private readonly watchdog: Watchdog
  private readonly pump: Pump

  private error: Error | undefined
  private graceful = false
  private userAborted = false
  private inboundDone = false
  private outboundDone = false
  private finished = false
  private onFinished: (() => void) | undefined
  /** Settle the promise `sink()` returned. */
  private sinkResolve: (() => void) | undefined
  private sinkReject: ((err: Error) => void) | undefined
  private sinkCalled = false
  private closeDeadline = Infinity
  private closePromise: Promise<void> | undefined
  readonly peerHello: Promise<Hello | undefined>
  private settleHello: ((hello: Hello | undefined) => void) | undefined

  constructor (private readonly lower: FrameDuplex, readonly cfg: HeartbeatConfig) {
    this.peerHello = cfg.hello ? new Promise((resolve) => { this.settleHello = resolve }) : Promise.resolve(undefined)
    this.log = createLogger('heartbeat')
    this.emitter = new Emitter(this.log)
    this.inbound = new InboundQueue(cfg.maxQueuedFrames, cfg.maxQueuedBytes)
    this.source = this.inbound
    this.outbound = new Outbound(this, cfg.clock)
    this.peer = new Peer(this, this.outbound, this.emitter)
    this.watchdog = new Watchdog(cfg, this, this.emitter, this.log)
    const now = cfg.clock.now()
    this.lastControlAt = now
    this.lastReceivedAt = now
    this.lowerSource = lower.source[Symbol.asyncIterator]()
    this.pump = new Pump(this.lowerSource, this.inbound, this.peer, this, cfg.clock)
    if (cfg.hello) this.outbound.send({ type: cfg.helloType, body: encodeHello({ flags: cfg.helloFlags, interval: cfg.interval, timeout: cfg.timeout }) })
    let sinking: Promise<void>
    try {
      sinking = lower.sink(this.outbound)
    } catch (err) {
      sinking = Promise.reject(err)
    }
    sinking.then(() => { this.lowerSinkDone() }, (err) => { this.lowerSinkFailed(err) })
    this.pump.run()
    this.evaluate(now, false)
  }

  /** The interval and timeout in force (after HELLO and adaptation). */
  get interval (): number { return this.peer.interval }
  get timeout (): number { return this.peer.timeout }

  /** Bound: `it-pipe` calls `sink` detached from its duplex. */
  readonly sink = (source: Source<Frame>): Promise<void> => {
    if (this.sinkCalled) return Promise.reject(new InvalidParametersError('sink() may be called only once per stage'))
    this.sinkCalled = true
    if (this.error != null) return Promise.reject(this.error)
    if (this.outbound.done) return Promise.reject(new InvalidParametersError('sink() was called after close(): nothing more can be sent'))
    const done = new Promise<void>((resolve, reject) => { this.sinkResolve = resolve; this.sinkReject = reject })
    this.outbound.attach(source)
    return done
  }

  async close (options: AbortOptions = {}): Promise<void> {
    this.closePromise ??= this.closeOnce(options)
    try {
      await raceSignal(this.closePromise, options.signal)
    } catch (err) {
      if (options.signal?.aborted === true && err === options.signal.reason) this.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }

  abort (err: Error): void {
    if (this.error == null) this.userAborted = true
    this.fail(err, false)
  }

  stats (): HeartbeatStats {
    const queued = this.inbound.size
    const peer = this.peer.stats()
    return {
      rtt: peer.rtt,
      pingsSent: peer.pingsSent,
      pongsReceived: peer.pongsReceived,
      pingsReceived: peer.pingsReceived,
      pongsSent: peer.pongsSent,
      missed: peer.missed,
      interval: peer.interval,
      timeout: peer.timeout,
      lastSentAt: this.lastSentAt,
      lastReceivedAt: this.lastReceivedAt,
      eventLoopLag: this.watchdog.lastLag,
      maxEventLoopLag: this.watchdog.maxLag,
      stalls: this.watchdog.stalls,
      queuedFrames: queued.frames,
      queuedBytes: queued.bytes,
      paused: this.pump.paused
    }
  }

  on<K extends keyof HeartbeatEvents> (type: K, listener: HeartbeatListener<K>): () => void {
    if (this.finished) return () => {}
    return this.emitter.on(type, listener)
  }

  off<K extends keyof HeartbeatEvents> (type: K, listener: HeartbeatListener<K>): void {
    this.emitter.off(type, listener)
  }

  listenerCount (type: keyof HeartbeatEvents): number {
    return this.emitter.listenerCount(type)
  }

  /** The timeout changed (HELLO, adaptation): make sure the timer is not armed past the new deadline. */
  timeoutChanged (): void {
    if (this.peer.timeout > 0 && !this.inboundDone && !this.pump.paused) {
      this.watchdog.arm(this.lastReceivedAt + this.peer.timeout, this.cfg.clock.now())
    }
  }

  /** The peer's HELLO was accepted: stages above may read it from `peerHello`. */
  helloAccepted (hello: Hello): void {
    this.resolveHello(hello)
  }

  private resolveHello (hello: Hello | undefined): void {
    const settle = this.settleHello
    this.settleHello = undefined
    settle?.(hello)
  }

  /** Closes a peer that pings too often: GOAWAY first (flushed), then the connection is destroyed. */
  tooManyPings (err: TooManyPingsError): void {
    if (this.error != null) return
    this.log.debug('peer pings too often, sending GOAWAY: %s', err.message)
    if (this.cfg.goAwayType !== undefined) {
      this.outbound.send({ type: this.cfg.goAwayType, body: encodeGoAway({ code: GoAwayCode.TOO_MANY_PINGS, reason: 'too_many_pings' }) })
    }
    this.graceful = true
    this.fail(err, false)
  }

  /** Fails the stage with `err`; with `drain` the consumer first gets the frames already queued. */
  fail (err: Error, drain: boolean): void {
    if (this.error != null) return
    this.error = err
    this.resolveHello(undefined)
    this.inbound.fail(err, drain)
    this.sinkReject?.(err)
    if (this.graceful) {
      // let the GOAWAY out: the outbound ends after it, then the lower is destroyed (or after a grace period)
      this.outbound.finish()
      this.watchdog.cancel()
      const now = this.cfg.clock.now()
      this.watchdog.arm(now + GOAWAY_GRACE, now)
      return
    }
    this.outbound.fail(err)
    this.destroyLower()
  }

  private destroyLower (): void {
    const err = this.error as Error
    try {
      this.lower.abort?.(err)
    } catch (e) {
      this.log.error('lower abort threw', e)
    }
    const ret = this.lowerSource.return?.()
    if (ret != null) ret.then(undefined, () => {})
    this.finish()
  }

  private finish (): void {
    if (this.finished) return
    this.finished = true
    this.resolveHello(undefined)
    this.watchdog.dispose()
    this.emitter.emit('closed', { error: this.error })
    this.emitter.clear()
    this.onFinished?.()
  }

  private maybeFinish (): void {
    if (this.inboundDone && this.outboundDone) this.finish()
  }

  private async closeOnce (options: AbortOptions): Promise<void> {
    if (this.finished || this.error != null) return
    const now = this.cfg.clock.now()
    this.closeDeadline = now + this.cfg.closeTimeout
    const done = new Promise<void>((resolve) => { this.onFinished = resolve })
    this.watchdog.arm(this.closeDeadline, now)
    this.outbound.close()
    await done
    if (this.error != null) {
      if (this.userAborted) return
      throw this.error
    }
    await this.lower.close?.(options)
  }

  // ---- inbound (pump hooks) ----

  get stopped (): boolean {
    return this.error != null
  }

  received (now: number): void {
    this.lastReceivedAt = now
  }

  /** Our silence is over: the receive clock restarts from now (it was suspended, not the peer's fault). */
  resumed (now: number): void {
    if (now > this.lastReceivedAt) this.lastReceivedAt = now
    this.timeoutChanged()
  }

  ended (): void {
    this.inboundDone = true
    this.resolveHello(undefined)
    this.inbound.end()
    this.maybeFinish()
  }

  failed (err: Error): void {
    this.fail(err, true)
  }

  // ---- outbound ----

  /** Outbound hook: a control frame was handed to the connection. */
  controlSent (frame: Frame): void {
    const now = this.cfg.clock.now()
    this.lastControlAt = now
    this.peer.controlSent(frame, now)
    if (this.peer.interval > 0 && !this.finished) this.watchdog.arm(now + this.peer.interval, now)
  }

  /** Outbound hook: the user's source threw. */
  userFailed (err: unknown): void {
    this.fail(err instanceof Error ? err : new Error(String(err)), false)
  }

  private lowerSinkDone (): void {
    this.outboundDone = true
    this.sinkResolve?.()
    if (this.graceful) {
      this.destroyLower()
      return
    }
    this.maybeFinish()
  }

  private lowerSinkFailed (err: unknown): void {
    this.outboundDone = true
    const e = err instanceof Error ? err : new Error(String(err))
    if (this.error == null) this.fail(e, true)
    else if (this.graceful) this.destroyLower()
    this.sinkReject?.(this.error ?? e)
  }

  /** When we last handed anything down (for data during bursts, a slightly early lower bound). */
  get lastSentAt (): number {
    return Math.max(this.lastControlAt, this.outbound.lastDataAt)
  }

  // ---- time ----

  /** The single place where time-based decisions are taken (the watchdog calls it); re-arms the timer. */
  evaluate (now: number, stalled: boolean): void {
    if (this.finished) return
    if (this.error != null) {
      if (this.graceful) this.destroyLower() // GOAWAY grace period over
      return
    }
    if (now >= this.closeDeadline) {
      this.fail(new CloseTimeoutError(this.cfg.closeTimeout), false)
      return
    }
    let next = this.closeDeadline
    const interval = this.peer.interval
    if (interval > 0 && !this.outbound.done && !this.peer.pingQueued) {
      const lastSent = this.lastSentAt
      if (now - lastSent >= interval) this.peer.sendPing()
      else next = Math.min(next, lastSent + interval)
    }
    const timeout = this.peer.timeout
    if (timeout > 0 && !this.inboundDone && !this.pump.paused) {
      const due = this.lastReceivedAt + timeout
      if (now >= due) {
        if (stalled || this.watchdog.yielding) {
          this.watchdog.yieldToInput()
          return
        }
        this.die(now)
        return
      }
      next = Math.min(next, due)
    }
    if (next < Infinity) this.watchdog.arm(next, now)
  }

  private die (now: number): void {
    const err = new HeartbeatTimeoutError(now - this.lastReceivedAt, this.peer.timeout)
    this.log.debug('%s', err.message)
    this.emitter.emit('timeout', err)
    this.fail(err, true)
  }
}
