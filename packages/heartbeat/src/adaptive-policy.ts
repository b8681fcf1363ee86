import type { Hello, HelloAdaptive } from '@proto/codec'
import { MIN_SPREAD_SAMPLES } from './constants.js'
import type { KeepAlivePolicy } from './decide.js'
import type { EventSink } from './events.js'
import type { IntervalListener, IntervalReason } from './interval.js'
import { IntervalController } from './interval.js'
import type { PathMemory } from './memory.js'
import type { AdaptiveIntervalConfig } from './options.js'
import type { RttRing } from './rtt.js'

/** What the adaptive policy reads of its stage. */
export interface AdaptiveClocks {
  /** When we last handed anything down (clock ms). */
  readonly lastSentAt: number
  /** When a frame from the peer was last read (clock ms). */
  readonly lastReceivedAt: number
  /** Reading is stopped by our own backpressure: pongs wait unread. */
  readonly paused: boolean
  /** When reading last resumed after our own backpressure (`-Infinity`: never stopped). */
  readonly resumedAt: number
  /** The interval or the timeout may have become shorter: look again. */
  timingChanged(): void
}

/** A pong more than twice the median RTT, and more than `jitter` ms above it, is late. */
export function isLate (ring: RttRing, rtt: number, jitter: number): boolean {
  const p50 = ring.spread()?.p50
  return p50 !== undefined && rtt > 2 * p50 && rtt - p50 > jitter
}

/**
 * The RTT spread is high: the p90 more than twice the p10, and more than `jitter` ms above it. Against the
 * p10 rather than the median, so a link whose RTT jumps between two values is jittery whichever holds more
 * samples (with the median, the slow half could look like the norm and every pong on time).
 */
export function isJittery (ring: RttRing, jitter: number): boolean {
  const s = ring.samples >= MIN_SPREAD_SAMPLES ? ring.spread() : undefined
  return s !== undefined && s.p90 > 2 * s.p10 && s.p90 - s.p10 > jitter
}

/**
 * The stage's {@link KeepAlivePolicy} with `adaptiveInterval`: the interval follows the link (see
 * `IntervalController`), the timeout follows the interval, and both sides agree on them through HELLO and
 * the interval each PING announces (docs/PROTOCOL.md §3.4). `interval` is what the next ping waits for:
 * `floor` while a ping of ours is unanswered, else the interval in force (a longer one only once the peer
 * was told). `timeout` is `max(own interval, peer interval) + grace`, and never shrinks before a frame
 * arrives.
 */
export class AdaptivePolicy implements KeepAlivePolicy, IntervalListener {
  readonly control: IntervalController
  private grace: number
  /** The interval our last PING announced (`Infinity` while nothing is announced): our gaps stay within it. */
  private announced = Infinity
  /** The longest the peer may stay silent: its last announcement, what it echoed of ours, or an assumption. */
  private peerInterval: number
  /** Both HELLOs carried the ADAPTIVE flag: PINGs announce the interval. */
  private announcing = false
  /** One of our pings is unanswered. */
  awaiting = false
  /**
   * Our interval changed by our own judgement and the peer has not echoed it yet: an announcement of a
   * longer interval arriving meanwhile was sent before the peer knew, and is not adopted.
   */
  private changePending = false
  /** Our ping crossed the peer's and we yield: our next ping waits a quarter of the grace longer (once). */
  private yielding = false
  private heldTimeout = 0
  private heldAt = -Infinity
  /** When the ping waiting to go out was queued (`NaN`: none). */
  private queuedAt = Number.NaN
  private stallSeen = false
  /** The idle gap our last ping ended, and when that ping went out. */
  private gap = 0
  private gapPingAt = Number.NaN
  private readonly memory: PathMemory | undefined

  constructor (private readonly cfg: AdaptiveIntervalConfig, private readonly clocks: AdaptiveClocks, private readonly events: EventSink) {
    const memory = this.memory = cfg.memory
    const start = memory?.start()
    const floor = Math.max(cfg.min, start?.floor ?? 0)
    const ceiling = Math.max(floor, cfg.max)
    let value = start?.interval ?? cfg.start
    let reason: IntervalReason = start?.interval !== undefined ? 'remembered' : 'configured'
    value = Math.min(ceiling, Math.max(floor, value))
    if (cfg.probeIdleLimit && start !== undefined && value > start.idleCap) {
      value = Math.max(floor, start.idleCap)
      reason = 'idle-limit'
    }
    if (start?.recentLoss === true) {
      value = floor
      reason = 'reconnect'
    }
    const idleCap = cfg.probeIdleLimit && memory !== undefined ? () => memory.idleCap() : () => Infinity
    this.control = new IntervalController(value, reason, floor, ceiling, cfg, idleCap, this)
    this.grace = cfg.grace
    // until the peer's HELLO says otherwise, it may be as slow as we may be
    this.peerInterval = ceiling
  }

  /** How long after our last send the next ping goes: `floor` while one is unanswered (unless our own backpressure keeps the answer unread). */
  get interval (): number {
    if (this.awaiting && !this.clocks.paused) return this.control.floor
    return this.yielding ? this.pace + this.grace / 4 : this.pace
  }

  get timeout (): number {
    const t = Math.max(this.pace, this.peerInterval) + this.grace
    const received = this.clocks.lastReceivedAt
    if (t >= this.heldTimeout || received > this.heldAt) {
      this.heldTimeout = t
      this.heldAt = received
      return t
    }
    return this.heldTimeout
  }

  /** The interval in force, within what the peer was told. */
  private get pace (): number {
    return Math.min(this.control.value, this.announced)
  }

  /** What our HELLO says (docs/PROTOCOL.md §3.4): our shortest interval, our longest timeout, and the extension. */
  helloFields (minPingInterval: number): { interval: number, timeout: number, minPingInterval: number, adaptive: HelloAdaptive } {
    const { floor, ceiling, value } = this.control
    const grace = Math.ceil(this.grace)
    return { interval: Math.ceil(floor), timeout: Math.ceil(ceiling) + grace, minPingInterval, adaptive: { interval: Math.ceil(value), max: Math.ceil(ceiling), grace } }
  }

  /** The peer's HELLO: the bounds both sides compute alike, and what the peer may do. */
  hello (peer: Hello, ownMinPing: number): void {
    const c = this.control
    const peerMinPing = peer.minPingInterval ?? 0
    const adaptive = peer.adaptive
    let floor: number
    let ceiling: number
    if (adaptive !== undefined) {
      floor = Math.max(c.floor, peer.interval, ownMinPing, peerMinPing)
      ceiling = Math.max(floor, Math.min(c.ceiling, adaptive.max))
      this.grace = Math.max(this.grace, adaptive.grace)
      this.announcing = true
      this.peerInterval = Math.min(ceiling, Math.max(floor, adaptive.interval))
    } else {
      // a fixed peer adopted max(its interval, our floor, our guard) as its interval (version 1 rule)
      this.peerInterval = Math.max(peer.interval, c.floor, ownMinPing)
      floor = Math.max(c.floor, peerMinPing)
      ceiling = Math.max(floor, c.ceiling)
    }
    c.bound(floor, ceiling)
    if (this.announcing) this.announced = c.value
    this.clocks.timingChanged()
  }

  /** The interval our next PING announces (`undefined` when PINGs carry none). */
  get announcement (): number | undefined {
    return this.announcing ? Math.ceil(this.control.value) : undefined
  }

  /** A ping was queued at `now`. */
  pingQueued (now: number): void {
    this.queuedAt = now
    this.stallSeen = false
  }

  /**
   * Our ping went down at `now`, announcing `announced`; `unansweredSince` is when the oldest ping still
   * unanswered was sent, if any (a missed pong).
   */
  pingSent (now: number, announced: number | undefined, unansweredSince: number | undefined): void {
    if (now - this.queuedAt >= this.control.floor) this.writeStalled()
    this.queuedAt = Number.NaN
    if (unansweredSince !== undefined && this.valid(unansweredSince)) this.control.poor('missed-pong')
    if (announced !== undefined) this.announced = announced
    this.yielding = false
    if (!this.awaiting) {
      // the idle gap this ping ends (a ping that follows an unanswered one ends none)
      const c = this.clocks
      this.gap = now - Math.max(c.lastSentAt, c.lastReceivedAt)
      this.gapPingAt = now
    }
    this.awaiting = true
  }

  /**
   * A pong matched our ping sent at `sentAt`; `late` and `jittery` judged its RTT; `echoed`: the interval our
   * ping announced, which the peer has now adopted; `awaiting`: pings of ours are still unanswered.
   */
  pong (sentAt: number, late: boolean, jittery: boolean, echoed: number | undefined, awaiting: boolean): void {
    this.awaiting = awaiting
    if (echoed !== undefined && this.announcing) {
      this.peerInterval = this.clamp(echoed)
      if (echoed === Math.ceil(this.control.value)) this.changePending = false
    }
    if (sentAt >= this.gapPingAt) {
      // the path carried the answer to a ping sent after that gap: it survived the gap
      this.memory?.gapSurvived(this.gap)
      this.gapPingAt = Number.NaN
    }
    if (!this.valid(sentAt)) return
    if (late) this.control.poor('late-pong')
    else this.control.onTime(jittery)
  }

  /**
   * The peer's PING announced the interval it uses: adopt it, unless it is longer than ours while our own
   * change has not reached the peer (it was sent before). Pings that cross (both sides ping at once, as two
   * stages started together do) are settled by a coin: the side that yields waits a little longer once, so
   * the other's ping arrives first from then on and one side pings for both.
   */
  peerAnnounced (interval: number): void {
    if (!this.announcing) return
    this.peerInterval = this.clamp(interval)
    if (this.awaiting && this.cfg.yields()) this.yielding = true
    if (this.changePending && interval > this.control.value) return
    this.control.adopt(interval)
    // the peer knows we use what it announced (or less): no need to announce it first
    this.announced = this.control.value
    this.changePending = false
  }

  /** The next moment the policy must look (a queued ping stuck behind stalled writes), or `Infinity`. */
  wakeAt (now: number): number {
    if (Number.isNaN(this.queuedAt) || this.stallSeen) return Infinity
    const at = this.queuedAt + this.control.floor
    if (now < at) return at
    this.writeStalled()
    return Infinity
  }

  /** The peer sent GOAWAY `TOO_MANY_PINGS`: never go below twice our floor on this path again. */
  tooManyPings (): void {
    this.memory?.tooManyPings(2 * this.control.floor)
  }

  /** The stage finished; `lost`: by a dead peer or a failure from below, not by a close, a GOAWAY or an abort. */
  finished (lost: boolean): void {
    const memory = this.memory
    if (memory === undefined) return
    if (lost && this.cfg.probeIdleLimit && this.awaiting) memory.gapFailed(this.gap)
    memory.ended(this.control.value, lost)
  }

  changed (next: number, previous: number, reason: IntervalReason): void {
    if (this.announcing && (reason === 'peer' || reason === 'hello')) this.announced = next
    else this.changePending = true
    if (next < previous) this.clocks.timingChanged()
    this.events.safeDispatchEvent('interval', { interval: next, previous, reason, timeout: this.timeout })
  }

  private writeStalled (): void {
    if (this.stallSeen) return
    this.stallSeen = true
    this.control.poor('write-stall')
  }

  /** An RTT or a missed pong means something only if our own backpressure did not hold the pong unread. */
  private valid (sentAt: number): boolean {
    return !this.clocks.paused && sentAt >= this.clocks.resumedAt
  }

  private clamp (interval: number): number {
    return Math.min(this.control.ceiling, Math.max(this.control.floor, interval))
  }
}
