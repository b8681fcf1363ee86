import type { Frame, Hello, HelloAdaptive } from '@proto/codec'
import { decodeGoAway, decodeHello, FrameType, GoAwayCode, isFinalGoAway, PROTOCOL_VERSION } from '@proto/codec'
import { ProtocolVersionError } from '@proto/interface'
import type { AdaptiveClocks } from './adaptive-policy.js'
import { AdaptivePolicy, isJittery, isLate } from './adaptive-policy.js'
import type { KeepAlivePolicy } from './decide.js'
import { GoAwayError, ProtocolViolationError } from './errors.js'
import type { EventSink, GoAwayDetail } from './events.js'
import type { IntervalReason } from './interval.js'
import { Kind } from './kinds.js'
import type { HeartbeatConfig } from './options.js'
import { PingGuard } from './ping-guard.js'
import { announcedInterval, OutstandingPings, RttRing } from './rtt.js'
import type { HeartbeatStats } from './types.js'

/** Where the protocol half sends its frames (the outbound). */
export interface PeerOutput {
  /** Queues one of our own control frames. */
  send(frame: Frame): void
  /** Queues a pong; `false` if too many are waiting (it is dropped). */
  sendPong(frame: Frame): boolean
}

/** What the protocol half asks of the stage's time-keeping (the clocks are for the adaptive interval). */
export interface PeerTiming extends AdaptiveClocks {
  /** The interval or timeout changed (HELLO, adaptation): the timer may need to fire sooner. */
  timingChanged(): void
  /** Whether we handed user data down since `at` (clock ms). */
  sentDataSince(at: number): boolean
}

/** What the protocol half tells the stage. */
export interface PeerOwner {
  /** The peer broke the protocol: send GOAWAY `code` with `reason` (where the format has one) and close with `err`. */
  violated(err: Error, code: number, reason: string): void
  /** The peer's HELLO was accepted; the negotiated values are in force. */
  helloAccepted(hello: Hello): void
  /** The peer's GOAWAY was read (the `goaway` event is dispatched too). */
  goAwayRead(detail: GoAwayDetail): void
}

/** The part of `HeartbeatStats` the ping/pong protocol keeps. */
export type PeerStats = Pick<HeartbeatStats, 'rtt' | 'pingsSent' | 'pongsReceived' | 'pingsReceived' | 'pongsSent' | 'pongsDropped' | 'missed' | 'interval' | 'intervalReason' | 'intervalBounds' | 'timeout'>

/** The keep-alive frame of mode `'keepalive'`: an empty DATA frame (shared; frames are never written to). */
const KEEPALIVE: Frame = Object.freeze({ type: FrameType.DATA, body: new Uint8Array(0) })

const NO_RTT = Object.freeze({ last: undefined, min: undefined, mean: undefined, p99: undefined, samples: 0 })

const hex = (type: number): string => `0x${type.toString(16).padStart(2, '0')}`

/**
 * The per-frame protocol of the stage: answers pings, matches pongs (RTT, adaptive timeout), reads the
 * peer's HELLO and GOAWAY, enforces `maxPingBody`, `allowedTypes` and `minPingInterval`. Holds no timer;
 * it is the stage's {@link KeepAlivePolicy} (the interval and timeout in force) when the interval is fixed,
 * and feeds the {@link AdaptivePolicy} when it adapts.
 */
export class Peer implements KeepAlivePolicy {
  /** The interval in force (configured, or agreed by HELLO): what `stats()` reports. */
  private agreed: number
  timeout: number
  /**
   * Our ping crossed the peer's and the coin told us to yield (see {@link Peer.interval}); until our own
   * next ping goes out.
   */
  private yielding = false
  private intervalReason: IntervalReason = 'configured'
  /** With `adaptiveInterval`: the policy in force instead of this object's fields. */
  readonly adaptive: AdaptivePolicy | undefined
  /** With `hello: true`, until the peer's first frame. */
  awaitingHello: boolean
  private queuedPing: Frame | undefined
  private queuedSeq = 0
  /** Made at the first pong and the first ping: a server whose clients ping needs neither. */
  private rtt: RttRing | undefined
  private pings: OutstandingPings | undefined
  private readonly guard: PingGuard | undefined
  private pingsSent = 0
  private pongsReceived = 0
  private pingsReceived = 0
  private pongsSent = 0
  private pongsDropped = 0
  private missed = 0
  /** The last GOAWAY the peer sent. */
  goAwayFromPeer: { code: number, reason: string } | undefined

  constructor (
    private readonly cfg: HeartbeatConfig,
    private readonly owner: PeerOwner,
    private readonly output: PeerOutput,
    private readonly timing: PeerTiming,
    private readonly events: EventSink
  ) {
    this.agreed = cfg.interval
    this.timeout = cfg.timeout
    this.awaitingHello = cfg.hello
    if (cfg.minPingInterval > 0) this.guard = new PingGuard(cfg.minPingInterval, cfg.maxPingStrikes)
    if (cfg.adaptiveInterval !== undefined) this.adaptive = new AdaptivePolicy(cfg.adaptiveInterval, timing, events)
  }

  /**
   * How long after our last send the next ping goes. When we yield, a quarter of the slack between the
   * interval and the timeout longer: the peer, which pings at the interval, is then always first, we only
   * answer, and one side pings for both. Should the peer's pings stop (it sends data instead, or it is
   * gone), our own ping still goes out well within the timeout both sides agreed on.
   */
  get interval (): number {
    const agreed = this.agreed
    return this.yielding ? agreed + (this.timeout - agreed) / 4 : agreed
  }

  /** The interval and timeout in force: this object's, or the adaptive policy's. */
  get policy (): KeepAlivePolicy {
    return this.adaptive ?? this
  }

  /** What our HELLO says: our interval and timeout (with `adaptiveInterval`, their bounds and the extension), our ping guard. */
  helloFields (): { interval: number, timeout: number, minPingInterval: number, adaptive?: HelloAdaptive } {
    const minPing = Math.ceil(this.cfg.minPingInterval)
    return this.adaptive?.helloFields(minPing) ?? { interval: this.cfg.interval, timeout: this.cfg.timeout, minPingInterval: minPing }
  }

  /** The stage finished; `lost`: by a dead peer or a failure from below. */
  finished (lost: boolean): void {
    this.adaptive?.finished(lost)
  }

  /** A ping is queued and not yet handed to the connection: no other is due until it is. */
  get pingQueued (): boolean {
    return this.queuedPing !== undefined
  }

  /** Handles one inbound frame of `kind` (see `Kind`); `true` if it is data for the user. */
  receive (frame: Frame, kind: number, now: number): boolean {
    if (this.awaitingHello) {
      this.hello(frame)
      return false
    }
    switch (kind) {
      case Kind.DATA: // an empty frame in mode 'keepalive': proof of life, nothing else
        this.pingsReceived++
        return false
      case Kind.PING:
        this.ping(frame, now)
        return false
      case Kind.PONG:
        this.pong(frame, now)
        return false
      case Kind.GOAWAY:
        this.goAway(frame)
        return false
      case Kind.HELLO:
        this.violation(frame, `expected one HELLO as the peer's first frame, but got another one (type ${hex(frame.type)}) later`)
        return false
      default:
        this.violation(frame, `expected a frame of an allowed type, but got type ${hex(frame.type)}`)
        return false
    }
  }

  /** Queues a ping (the stage found nothing sent for `interval`). */
  sendPing (): void {
    const cfg = this.cfg
    let frame = KEEPALIVE
    if (!cfg.keepalive) {
      let body = cfg.pingBody
      if (body === undefined) {
        const pings = this.pings ??= new OutstandingPings()
        body = pings.nextBody(this.adaptive?.announcement)
        this.queuedSeq = pings.lastSeq
      }
      frame = { type: cfg.pingType, body }
    }
    this.adaptive?.pingQueued(cfg.clock.now())
    // set first: the outbound may hand the frame down (controlSent) before send() returns
    this.queuedPing = frame
    this.output.send(frame)
  }

  /** A control frame was handed to the connection at `now`. */
  controlSent (frame: Frame, now: number): void {
    if (frame === this.queuedPing) {
      this.queuedPing = undefined
      this.yielding = false
      this.pingsSent++
      let outstanding = 0
      if (!this.cfg.keepalive) {
        const pings = this.pings ??= new OutstandingPings()
        if (pings.length > 0) this.missed++
        this.adaptive?.pingSent(now, announcedInterval(frame.body), pings.oldestSentAt)
        pings.sent(this.queuedSeq, now)
        outstanding = pings.length
      }
      if (this.events.hasListeners('ping')) this.events.safeDispatchEvent('ping', { outstanding })
    } else if (frame.type === this.cfg.pongType && !this.cfg.keepalive) {
      this.pongsSent++
    }
  }

  /**
   * After a GOAWAY from the peer, the error its end should carry: for a failure (`cause`), always (the
   * code tells the layer above whether to reconnect); for a clean end, unless the code was `NORMAL` (or
   * unknown, which counts as `NORMAL`). `undefined` without a GOAWAY.
   */
  goAwayError (cause?: Error): GoAwayError | undefined {
    const goAway = this.goAwayFromPeer
    if (goAway === undefined) return undefined
    if (cause === undefined && !(goAway.code > GoAwayCode.NORMAL && goAway.code <= GoAwayCode.DO_NOT_RETRY)) return undefined
    return new GoAwayError(goAway.code, goAway.reason, cause === undefined ? undefined : { cause })
  }

  stats (): PeerStats {
    const adaptive = this.adaptive
    if (adaptive !== undefined) {
      const c = adaptive.control
      return { ...this.counters(), interval: c.value, intervalReason: c.reason, intervalBounds: { min: c.floor, max: c.ceiling }, timeout: adaptive.timeout }
    }
    const interval = this.agreed
    return { ...this.counters(), interval, intervalReason: this.intervalReason, intervalBounds: { min: interval, max: interval }, timeout: this.timeout }
  }

  private counters (): Omit<PeerStats, 'interval' | 'intervalReason' | 'intervalBounds' | 'timeout'> {
    return {
      rtt: this.rtt?.stats() ?? NO_RTT,
      pingsSent: this.pingsSent,
      pongsReceived: this.pongsReceived,
      pingsReceived: this.pingsReceived,
      pongsSent: this.pongsSent,
      pongsDropped: this.pongsDropped,
      missed: this.missed
    }
  }

  private ping (frame: Frame, now: number): void {
    this.pingsReceived++
    if (!this.bodyFits(frame, 'PING')) return
    // pings a stall held back may come together: up to the timeout's worth (a longer silence ends the
    // connection), and never more than our own, whatever the peer's HELLO asked for
    const strikeOut = this.guard?.check(now, Math.min(this.adaptive?.timeout ?? this.timeout, this.cfg.ownTimeout), this.timing)
    if (strikeOut !== undefined) {
      this.owner.violated(strikeOut, GoAwayCode.TOO_MANY_PINGS, 'too_many_pings')
      return
    }
    if (this.adaptive !== undefined) {
      const announced = announcedInterval(frame.body)
      if (announced !== undefined) this.adaptive.peerAnnounced(announced)
    } else if ((this.pings?.length ?? 0) > 0 && this.settlesCrossings && this.cfg.yields()) {
      // the peer's ping crossed one of ours: both timers run in step, and both would keep pinging
      this.yielding = true
    }
    if (!this.output.sendPong({ type: this.cfg.pongType, body: this.cfg.pongBody ?? frame.body })) this.pongsDropped++
  }

  private pong (frame: Frame, now: number): void {
    this.pongsReceived++
    if (!this.bodyFits(frame, 'PONG')) return
    const pings = this.pings
    const sentAt = pings?.match(frame.body, this.cfg.pingBody === undefined)
    if (sentAt === undefined) return
    const rtt = Math.max(0, now - sentAt)
    const ring = this.rtt ??= new RttRing(this.cfg.rttSamples)
    const adaptive = this.adaptive
    if (adaptive !== undefined) {
      const jitter = this.cfg.adaptiveInterval?.jitter ?? 0
      const late = isLate(ring, rtt, jitter)
      ring.add(rtt)
      adaptive.pong(sentAt, late, isJittery(ring, jitter), announcedInterval(frame.body), (pings as OutstandingPings).length > 0)
    } else {
      ring.add(rtt)
    }
    if (this.cfg.adaptive !== undefined) this.adapt()
    if (this.events.hasListeners('rtt')) this.events.safeDispatchEvent('rtt', { rtt })
  }

  /**
   * Whether crossing pings are settled by yielding (the adaptive interval has its own rule): only after
   * HELLO, where both sides use the same interval and timeout, so the longer gap of the side that yields is
   * known to be within the peer's timeout; not with the RTT-adaptive timeout, which each side moves on its own.
   */
  private get settlesCrossings (): boolean {
    const cfg = this.cfg
    return cfg.hello && cfg.adaptive === undefined && this.agreed > 0 && this.timeout > 0
  }

  private bodyFits (frame: Frame, name: string): boolean {
    const max = this.cfg.maxPingBody
    if (frame.body.byteLength <= max) return true
    this.violation(frame, `expected a ${name} body of at most ${max} bytes, but got ${frame.body.byteLength}`)
    return false
  }

  private goAway (frame: Frame): void {
    let goAway
    try {
      goAway = decodeGoAway(frame.body)
    } catch (err) {
      this.violation(frame, `expected a well-formed GOAWAY, but ${(err as Error).message}`, err)
      return
    }
    this.goAwayFromPeer = { code: goAway.code, reason: goAway.reason }
    if (goAway.code === GoAwayCode.TOO_MANY_PINGS) this.adaptive?.tooManyPings()
    const detail = { code: goAway.code, reason: goAway.reason, final: isFinalGoAway(goAway.code) }
    this.owner.goAwayRead(detail)
    this.events.safeDispatchEvent('goaway', detail)
  }

  private violation (frame: Frame, what: string, cause?: unknown): void {
    const err = new ProtocolViolationError(`${what}; the peer was sent GOAWAY PROTOCOL_ERROR where the format has one and the connection was closed`, frame.type, frame.body.byteLength, cause === undefined ? undefined : { cause })
    this.owner.violated(err, GoAwayCode.PROTOCOL_ERROR, 'protocol_error')
  }

  /**
   * `timeout = clamp(interval + multiplier × p99(RTT), min, max)`. On an idle link the next proof of life
   * is the pong to a ping sent at most `interval` after our last send, so `interval + RTT` is the normal
   * worst case; the multiplier is the slack for RTT spikes. If HELLO raised the interval, both bounds are
   * raised by the same amount.
   */
  private adapt (): void {
    const a = this.cfg.adaptive
    const p99 = this.rtt?.quantile(0.99)
    if (a === undefined || p99 === undefined) return
    const shift = this.agreed - this.cfg.interval
    const next = Math.min(a.max + shift, Math.max(a.min + shift, this.agreed + a.multiplier * p99))
    const shorter = next < this.timeout
    this.timeout = next
    if (shorter) this.timing.timingChanged()
  }

  /** The peer's first frame, with `hello: true`: adopt the larger interval and timeout. */
  private hello (frame: Frame): void {
    const cfg = this.cfg
    this.awaitingHello = false
    if (frame.type !== cfg.helloType) {
      this.owner.violated(new ProtocolVersionError(`expected a HELLO (type ${cfg.helloType}) as the peer's first frame, but got type ${frame.type}; enable hello on both sides or on neither`), GoAwayCode.PROTOCOL_ERROR, 'hello_expected')
      return
    }
    let peer
    try {
      peer = decodeHello(frame.body)
    } catch (err) {
      const version = (err as { version?: number }).version
      this.owner.violated(new ProtocolVersionError(`The peer's HELLO was refused: ${(err as Error).message}`, { cause: err, ...(version !== undefined ? { version, supported: PROTOCOL_VERSION } : {}) }), version !== undefined ? GoAwayCode.DO_NOT_RETRY : GoAwayCode.PROTOCOL_ERROR, 'bad_hello')
      return
    }
    const asked = longestAsked(peer)
    if (asked.ms > cfg.maxPeerTimeout) {
      this.owner.violated(new ProtocolVersionError(`The peer's HELLO asks for ${asked.what} of ${asked.ms} ms, longer than maxPeerTimeout (${cfg.maxPeerTimeout} ms) allows: a silent peer would hold the connection that long; raise maxPeerTimeout on this side to accept it`, { version: peer.version, supported: PROTOCOL_VERSION }), GoAwayCode.DO_NOT_RETRY, 'unusable_heartbeat')
      return
    }
    if (this.adaptive !== undefined) {
      this.adaptive.hello(peer, cfg.minPingInterval)
      this.owner.helloAccepted(peer)
      return
    }
    // never ping more often than the peer accepts (its guard, from the HELLO extension)
    const agreed = Math.max(cfg.interval, peer.interval)
    const interval = agreed === 0 ? 0 : Math.max(agreed, peer.minPingInterval ?? 0)
    const timeout = Math.max(cfg.timeout, peer.timeout)
    if (timeout !== 0 && interval !== 0 && timeout <= interval) {
      this.owner.violated(new ProtocolVersionError(`expected a negotiated timeout above the interval, but got timeout ${timeout} ms and interval ${interval} ms (ours ${cfg.interval}/${cfg.timeout}, peer's ${peer.interval}/${peer.timeout}${peer.minPingInterval !== undefined ? `, its minimum ${peer.minPingInterval}` : ''})`, { version: peer.version, supported: PROTOCOL_VERSION }), GoAwayCode.DO_NOT_RETRY, 'unusable_heartbeat')
      return
    }
    const previous = this.agreed
    this.agreed = interval
    if (cfg.adaptive === undefined || this.rtt === undefined) this.timeout = timeout
    else this.adapt()
    this.timing.timingChanged()
    if (interval !== previous) {
      this.intervalReason = 'hello'
      this.events.safeDispatchEvent('interval', { interval, previous, reason: 'hello', timeout: this.timeout })
    }
    this.owner.helloAccepted(peer)
  }
}

/** The longest wait a peer's HELLO asks this side to adopt, and which field asks for it. */
function longestAsked (peer: Hello): { what: string, ms: number } {
  let what = 'a timeout'
  let ms = peer.timeout
  if (peer.interval > ms) { what = 'an interval'; ms = peer.interval }
  if (peer.minPingInterval !== undefined && peer.minPingInterval > ms) { what = 'a minimum ping interval'; ms = peer.minPingInterval }
  const a = peer.adaptive
  if (a !== undefined && a.max + a.grace > ms) { what = 'an adaptive interval with grace'; ms = a.max + a.grace }
  return { what, ms }
}
