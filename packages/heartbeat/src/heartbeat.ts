import type { Frame, FrameDuplex, FrameProgress, Hello } from '@proto/codec'
import { encodeGoAway, encodeHello, GoAwayCode, isUndecodable } from '@proto/codec'
import type { AbortOptions, GoingAwayWatchable, GoingAwayWatcher, PushSource, SinkWatcher } from '@proto/interface'
import { abortReason, createLogger, isGoingAwayWatchable, raceSignal, sinkWatched, toError } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { GOAWAY_GRACE } from './constants.js'
import { CloseTimeoutError, HeartbeatTimeoutError, InvalidParametersError } from './errors.js'
import type { EventSink, GoAwayDetail } from './events.js'
import type { PeerHelloSlot } from './hello.js'
import { PeerHello } from './hello.js'
import { InboundQueue } from './inbound.js'
import type { LivenessOwner } from './liveness.js'
import { Liveness } from './liveness.js'
import type { HeartbeatConfig } from './options.js'
import type { OutboundOwner } from './outbound.js'
import { Outbound } from './outbound.js'
import type { PeerOwner, PeerTiming } from './peer.js'
import { Peer } from './peer.js'
import type { LowerSource, PumpOwner } from './pump.js'
import { Pump } from './pump.js'
import { InboundSource } from './source.js'
import type { HeartbeatStats } from './types.js'
import type { UserSinkOwner } from './user-sink.js'
import { UserSink } from './user-sink.js'

const log = createLogger('heartbeat')

/** `Stage.awayFrom`: not watching, watching the lower duplex, or listening to its `goingAway` signal. */
const WATCH_NONE = 0
const WATCH_LOWER = 1
const WATCH_SIGNAL = 2

/**
 * One heartbeat stage over one frame duplex, private to the package (users hold its public object). It
 * wires the parts — the pump reading below, the inbound queue the user drains, the outbound feeding the
 * lower sink, the per-frame protocol ({@link Peer}) and the time-keeping ({@link Liveness}) — and runs
 * the stage's life: close, going away, failure.
 */
export class Stage implements PumpOwner, PeerOwner, PeerTiming, OutboundOwner, LivenessOwner, UserSinkOwner, GoingAwayWatcher, SinkWatcher {
  /** What the user reads; the queue behind it is `inbound`. */
  readonly source: InboundSource
  private readonly inbound: InboundQueue
  private readonly outbound: Outbound
  private readonly peer: Peer
  private readonly pump: Pump
  private readonly time: Liveness
  private lowerSource: LowerSource | undefined

  private error: Error | undefined
  /** A violation found by the protocol half, applied once the data read before it was queued. */
  private violation: { err: Error, code: number, reason: string } | undefined
  /** A GOAWAY is being flushed; the connection is destroyed when it is out (or after `GOAWAY_GRACE`). */
  private failing = false
  private userAborted = false
  private inboundDone = false
  private outboundDone = false
  private finished = false
  /** When `close()` was called (clock ms); `undefined` until then (no number is kept on a connection that never closes). */
  private closingSince: number | undefined
  /** When our writing ended (the lower sink finished); `undefined` until then. */
  private finAt: number | undefined
  private unsentFrames = 0
  private goingAway = false
  /** How going away is learnt from below (see `watchGoingAway`). */
  private awayFrom = WATCH_NONE
  /** The connection was lost (a dead peer, a failure from below), rather than ended, aborted or sent away. */
  private lost = false
  private drainSoon: ReturnType<typeof setImmediate> | undefined
  /** Made when `sink` is first asked for (an idle server connection that only reads never needs it). */
  private userSinkPart: UserSink | undefined
  private closePromise: Promise<void> | undefined
  private onFinished: (() => void) | undefined
  /** The peer's HELLO for the stage above (with `hello: true`). */
  private readonly peerHelloSlot: PeerHelloSlot

  /** Only wires the parts together; `start()` begins the I/O. */
  constructor (private readonly lower: FrameDuplex, private readonly cfg: HeartbeatConfig, private readonly events: EventSink) {
    this.inbound = new InboundQueue(cfg.maxQueuedFrames, cfg.maxQueuedBytes)
    this.source = new InboundSource(this.inbound)
    this.outbound = new Outbound(this, cfg.clock, cfg.keepalive ? undefined : cfg.pongType)
    // the peer holds the time-keeping's policy (the interval and timeout in force), and asks it in turn
    this.peer = new Peer(cfg, this, this.outbound, this, events)
    this.time = new Liveness(cfg.clock, cfg.timers, this.peer.policy, cfg.stallThreshold, this, events)
    this.pump = new Pump(this.inbound, this.peer, this, this.time, cfg.clock, cfg.kinds, cfg.keepalive)
    this.peerHelloSlot = cfg.hello ? new PeerHello() : PeerHello.none
  }

  /** Resolves with the peer's HELLO once it was accepted; `undefined` with `hello: false` or if the stage ends first. */
  get peerHello (): Promise<Hello | undefined> {
    return this.peerHelloSlot.promise
  }

  helloAccepted (hello: Hello): void {
    this.peerHelloSlot.accepted(hello)
  }

  /** The peer's GOAWAY: a subscribed consumer that takes it is told (see `GoAwayTarget`). */
  goAwayRead (detail: GoAwayDetail): void {
    this.inbound.goAwayRead(detail)
  }

  /** Starts reading and writing the lower duplex: pings and pongs flow from now on. */
  start (): void {
    const cfg = this.cfg
    if (cfg.hello) this.outbound.send({ type: cfg.helloType, body: encodeHello({ flags: cfg.helloFlags, ...this.peer.helloFields() }) })
    // the outcome comes back to onSinkEnd; through sinkPush where the lower has it, nothing is parked for the connection's life
    sinkWatched<Frame>(this.lower, this.outbound, this)
    this.lowerSource = this.lower.source[Symbol.asyncIterator]()
    this.pump.run(this.lowerSource)
    this.watchGoingAway()
    this.time.check()
  }

  /** The lower duplex's `goingAway`, forwarded upwards. */
  get goingAwaySignal (): AbortSignal | undefined {
    return this.lower.goingAway
  }

  /** `sink`, bound. */
  get sink (): (source: Source<Frame>) => Promise<void> {
    return (this.userSinkPart ??= new UserSink(this)).fn
  }

  /** `sink(source)` with the outcome told to `watcher` (see `PushSinkable`). */
  sinkPush (source: PushSource<Frame>, watcher: SinkWatcher): void {
    // the feed subscribes to whatever the iterable gives that can push: a bare push source gives itself
    const iterable = Symbol.asyncIterator in source ? source : { [Symbol.asyncIterator]: () => source }
    ;(this.userSinkPart ??= new UserSink(this)).startWatched(iterable as unknown as Source<Frame>, watcher)
  }

  // ---- user sink hooks ----

  refusal (): Error | undefined {
    if (this.error !== undefined) return this.error
    if (this.outbound.done || this.closingSince !== undefined || this.goingAway) {
      return new InvalidParametersError('expected sink() before the stage stopped writing, but it was called after close() or after the connection started going away; nothing more can be sent')
    }
    return undefined
  }

  attach (source: Source<Frame>): void {
    this.outbound.attach(source)
  }

  async close (options: AbortOptions = {}): Promise<void> {
    this.closePromise ??= this.closeOnce(options)
    try {
      await raceSignal(this.closePromise, options.signal)
    } catch (err) {
      if (options.signal?.aborted === true && err === options.signal.reason) this.abort(toError(err))
      throw err
    }
  }

  abort (err: Error): void {
    if (this.error === undefined) this.userAborted = true
    if (this.failing) this.destroyLower()
    else this.fail(abortReason(err), false)
  }

  stats (): HeartbeatStats {
    const peer = this.peer.stats()
    const time = this.time
    return {
      rtt: peer.rtt,
      pingsSent: peer.pingsSent,
      pongsReceived: peer.pongsReceived,
      pingsReceived: peer.pingsReceived,
      pongsSent: peer.pongsSent,
      pongsDropped: peer.pongsDropped,
      missed: peer.missed,
      goAway: this.peer.goAwayFromPeer,
      unsentFrames: this.unsentFrames,
      interval: peer.interval,
      intervalReason: peer.intervalReason,
      intervalBounds: peer.intervalBounds,
      timeout: peer.timeout,
      lastSentAt: time.lastSentAt,
      lastReceivedAt: time.lastReceivedAt,
      eventLoopLag: time.lastLag,
      maxEventLoopLag: time.maxLag,
      stalls: time.stalls,
      queuedFrames: this.inbound.queuedFrames,
      queuedBytes: this.inbound.queuedBytes,
      paused: this.pump.paused
    }
  }

  // ---- time hooks ----

  get canPing (): boolean {
    return !this.outbound.done && !this.peer.pingQueued
  }

  get watching (): boolean {
    return !this.inboundDone && !this.pump.paused
  }

  /**
   * How far the frame the lower duplex is receiving has come (a codec's `frameProgress`); `0` when it cannot
   * tell, and while the peer's HELLO is awaited: a HELLO is a few bytes, and one that trickles in is no
   * large frame on a slow link.
   */
  get frameProgress (): number {
    return this.peer.awaitingHello ? 0 : (this.lower as Partial<FrameProgress>).frameProgress ?? 0
  }

  /**
   * While `close()` flushes, it gives up `closeTimeout` after the last user frame went down (or after the
   * call); once our FIN is out, `closeTimeout` after it. No bound while not closing.
   */
  get closeDeadline (): number {
    const since = this.closingSince
    if (since === undefined) return Infinity
    // a sink that failed has no FIN time: the stage is failing, and no deadline applies
    if (this.outboundDone) return (this.finAt ?? Number.NaN) + this.cfg.closeTimeout
    return Math.max(since, this.time.lastDataAt) + this.cfg.closeTimeout
  }

  get over (): boolean {
    return this.error !== undefined || this.finished
  }

  ping (): void {
    this.peer.sendPing()
  }

  dead (silence: number): void {
    const err = new HeartbeatTimeoutError(silence, this.peer.policy.timeout)
    log.debug('%s', err.message)
    this.events.safeDispatchEvent('timeout', err)
    this.lose()
    this.fail(this.afterGoAway(err), true)
  }

  expired (): void {
    this.fail(new CloseTimeoutError(this.cfg.closeTimeout), true)
  }

  graceOver (): void {
    if (this.failing) this.destroyLower()
  }

  // ---- pump hooks ----

  get stopped (): boolean {
    return this.error !== undefined || this.violation !== undefined
  }

  ended (): void {
    this.inboundDone = true
    this.peerHelloSlot.ended()
    const goAway = this.peer.goAwayError()
    if (goAway !== undefined) this.inbound.fail(goAway, true)
    else this.inbound.end()
    this.maybeFinish()
  }

  failed (err: Error): void {
    this.lose()
    // bytes that are no frame of ours (a body over our maxFrameLength, a bad header): the peer is told why,
    // so it stops instead of sending the same frame to every connection it makes
    const reason = undecodable(err)
    if (reason !== undefined && this.peer.goAwayFromPeer === undefined) this.fail(err, true, GoAwayCode.PROTOCOL_ERROR, reason)
    else this.fail(this.afterGoAway(err), true)
  }

  halted (): void {
    const v = this.violation
    if (v === undefined) return
    this.violation = undefined
    log.debug('closing the connection: %s', v.err.message)
    this.fail(v.err, true, v.code, v.reason)
  }

  // ---- protocol hooks ----

  violated (err: Error, code: number, reason: string): void {
    this.violation ??= { err, code, reason }
  }

  timingChanged (): void {
    this.time.timingChanged()
  }

  get lastSentAt (): number {
    return this.time.lastSentAt
  }

  get lastReceivedAt (): number {
    return this.time.lastReceivedAt
  }

  get paused (): boolean {
    return this.pump.paused
  }

  get resumedAt (): number {
    return this.time.resumedAt
  }

  sentDataSince (at: number): boolean {
    return this.time.sentDataSince(at)
  }

  // ---- outbound hooks ----

  controlSent (frame: Frame): void {
    const now = this.cfg.clock.now()
    this.peer.controlSent(frame, now)
    this.time.controlSent(now)
  }

  dataSent (now: number): void {
    this.time.dataSent(now)
  }

  userFailed (err: Error): void {
    this.fail(err, false)
  }

  unsent (count: number): void {
    this.unsentFrames += count
  }

  // ---- life ----

  /**
   * Learns of going away from below: told by the lower duplex when it can be watched (no signal is made),
   * otherwise by listening to its `goingAway` signal.
   */
  private watchGoingAway (): void {
    const lower = this.lower
    if (isGoingAwayWatchable(lower) && lower.watchGoingAway(this)) {
      this.awayFrom = this.finished ? WATCH_NONE : WATCH_LOWER
      if (this.finished) lower.unwatchGoingAway(this)
      return
    }
    const goingAway = lower.goingAway
    if (goingAway?.aborted === true) this.goAwayNow()
    else if (goingAway != null && !this.finished) {
      goingAway.addEventListener('abort', this, { once: true }) // see handleEvent
      this.awayFrom = WATCH_SIGNAL
    }
  }

  private unwatchGoingAway (): void {
    if (this.awayFrom === WATCH_LOWER) (this.lower as FrameDuplex & GoingAwayWatchable).unwatchGoingAway(this)
    else if (this.awayFrom === WATCH_SIGNAL) this.lower.goingAway?.removeEventListener('abort', this)
    this.awayFrom = WATCH_NONE
  }

  /** The lower sink's run ended (a watcher: see `start`). */
  onSinkEnd (err?: Error): void {
    if (err === undefined) this.lowerSinkDone()
    else this.lowerSinkFailed(err)
  }

  /** The lower duplex is going away (a watcher: see `watchGoingAway`). */
  onGoingAway (): void {
    this.goAwayNow()
  }

  /** The lower's `goingAway` was aborted (the stage listens as an object: no closure per connection). */
  handleEvent (): void {
    this.goAwayNow()
  }

  /** The owner asks the connection to end gracefully: GOAWAY SHUTTING_DOWN, flush what was accepted, FIN. */
  private goAwayNow (): void {
    if (this.finished || this.error !== undefined || this.goingAway) return
    this.goingAway = true
    log.debug('going away: GOAWAY SHUTTING_DOWN, then what was accepted, then FIN')
    const type = this.cfg.goAwayType
    if (type !== undefined && !this.outbound.done) this.outbound.send({ type, body: encodeGoAway({ code: GoAwayCode.SHUTTING_DOWN, reason: 'going_away' }) })
    // stages above that listen to the same signal react after us: they get one turn of the event loop to
    // hand over their last frames before writing ends
    this.drainSoon = setImmediate(() => {
      this.drainSoon = undefined
      this.outbound.drain()
    })
  }

  private async closeOnce (options: AbortOptions): Promise<void> {
    if (this.finished || this.error !== undefined) return
    const done = new Promise<void>((resolve) => { this.onFinished = resolve })
    const now = this.cfg.clock.now()
    this.closingSince = now
    this.outbound.close()
    this.time.rearm(now)
    await done
    if (this.error !== undefined) {
      if (this.userAborted) return
      throw this.error
    }
    await this.lower.close?.(options)
  }

  /** The connection is being lost by itself (not closed, aborted, or sent away by the peer's GOAWAY). */
  private lose (): void {
    if (this.error === undefined && this.peer.goAwayFromPeer === undefined) this.lost = true
  }

  /** A failure after the peer's GOAWAY carries its code (for the layer deciding whether to reconnect). */
  private afterGoAway (err: Error): Error {
    return this.peer.goAwayError(err) ?? err
  }

  /**
   * Fails the stage with `err`. `drain`: the consumer first gets the frames already queued. `goAway`: tell
   * the peer why first (where the format has GOAWAY): the GOAWAY is flushed, then the connection destroyed.
   */
  private fail (err: Error, drain: boolean, goAway?: number, reason?: string): void {
    if (this.error !== undefined || this.finished) return
    this.error = err
    this.violation = undefined
    this.peerHelloSlot.ended()
    const type = this.cfg.goAwayType
    const tell = goAway !== undefined && type !== undefined && !this.outbound.done
    if (tell) {
      // before the inbound fails: a user sink fed by our own source (an echo, push mode) would otherwise
      // see it fail and fail the outbound with it, and the GOAWAY would never go
      this.failing = true
      this.outbound.send({ type, body: encodeGoAway({ code: goAway, reason: reason ?? '' }) })
      this.outbound.finish()
    }
    this.inbound.fail(err, drain)
    this.userSinkPart?.reject(err)
    if (tell) {
      this.time.graceUntil(this.cfg.clock.now() + GOAWAY_GRACE)
      return
    }
    this.outbound.fail(err)
    this.destroyLower()
  }

  private destroyLower (): void {
    if (this.finished) return
    const err = this.error as Error
    try {
      this.lower.abort?.(err)
    } catch (e) {
      log.error('lower abort threw', e)
    }
    this.outbound.fail(err)
    const ret = this.lowerSource?.return?.()
    if (ret != null) ret.then(undefined, () => {})
    this.finish()
  }

  private lowerSinkDone (): void {
    this.outboundDone = true
    const finAt = this.finAt = this.cfg.clock.now()
    this.userSinkPart?.resolve()
    if (this.failing) {
      this.destroyLower()
      return
    }
    this.time.rearm(finAt)
    this.maybeFinish()
  }

  private lowerSinkFailed (err: unknown): void {
    this.outboundDone = true
    const e = toError(err)
    if (this.error === undefined) {
      this.lose()
      this.fail(this.afterGoAway(e), true)
    } else if (this.failing) this.destroyLower()
    this.userSinkPart?.reject(this.error ?? e)
  }

  private maybeFinish (): void {
    if (this.inboundDone && this.outboundDone && this.error === undefined) this.finish()
  }

  private finish (): void {
    if (this.finished) return
    this.finished = true
    this.peerHelloSlot.ended()
    this.time.dispose()
    this.peer.finished(this.lost)
    if (this.drainSoon !== undefined) clearImmediate(this.drainSoon)
    this.drainSoon = undefined
    this.unwatchGoingAway()
    this.events.safeDispatchEvent('closed', { error: this.error })
    this.onFinished?.()
  }
}

/** The GOAWAY reason for a frame the codec could not read (`undefined` for any other failure beneath). */
function undecodable (err: Error): string | undefined {
  return isUndecodable(err) ? `frame refused: ${err.message}`.slice(0, 200) : undefined
}
