import type { Clock } from '@proto/interface'
import { systemClock, validate } from '@proto/interface'
import { DEFAULT_MEMORY_TTL, DEFAULT_RECENT_LOSS, IDLE_LIMIT_RESOLUTION } from './constants.js'

/** Options of `intervalMemory()`. */
export interface IntervalMemoryInit {
  /**
   * How long a learned fact (an idle gap that survived or failed, the peer's ping minimum, the last
   * interval) is kept, in milliseconds: paths change (another network, another NAT).
   * @default 3600000 (1 h)
   */
  ttl?: number
  /**
   * A connection made within this many milliseconds after the previous one was lost starts at `min`.
   * @default 300000 (5 min)
   */
  recentLoss?: number
  /**
   * Source of "now" in milliseconds; use the stages' clock.
   * @default systemClock (performance.now)
   */
  clock?: Clock
}

/** What an interval memory holds. Times are in its clock, in ms. */
export interface IntervalMemorySnapshot {
  /** The interval in force when the last connection ended without being lost; the next one starts there. */
  interval: number | undefined
  /** When the last connection was lost (a dead peer, a reset), if it was. */
  lostAt: number | undefined
  /** The shortest interval the peer accepts, learned from its GOAWAY `TOO_MANY_PINGS`; 0 when unknown. */
  minInterval: number
  /** The idle-limit search: the longest idle gap known to survive and the shortest after which a connection was lost (`Infinity`: none). */
  idleLimit: {
    /** The longest idle gap, in ms, a connection is known to have survived; 0 when none is known. */
    survived: number
    /** The shortest idle gap, in ms, after which a connection was lost; `Infinity` when none was. */
    failed: number
  }
}

/**
 * What an adaptive heartbeat learned about one path, kept across its connections (see `intervalMemory()`).
 * Pass the same memory to every connection to one address.
 */
export interface IntervalMemory {
  /** What is known now (facts older than `ttl` are gone). */
  snapshot(): IntervalMemorySnapshot
  /** Forgets everything. */
  forget(): void
}

/** What a starting connection takes from the memory. */
export interface MemoryStart {
  /** Where to start, when a previous connection ended cleanly. */
  readonly interval: number | undefined
  /** The previous connection was lost recently: start at `min`. */
  readonly recentLoss: boolean
  /** Do not ping more often than this (the peer said `TOO_MANY_PINGS`). */
  readonly floor: number
  /** The longest gap to try, from the idle-limit search (`Infinity`: no limit known). */
  readonly idleCap: number
}

/** A fact and when it was learned. */
interface Fact { value: number, at: number }

/** The memory behind `IntervalMemory`; the stage reaches it through the methods below. */
export class PathMemory implements IntervalMemory {
  private interval: Fact | undefined
  private lostAt: number | undefined
  private minInterval: Fact | undefined
  private survived: Fact | undefined
  private failed: Fact | undefined

  constructor (private readonly ttl: number, private readonly recentLoss: number, readonly clock: Clock) {}

  snapshot (): IntervalMemorySnapshot {
    this.expire(this.clock.now())
    return {
      interval: this.interval?.value,
      lostAt: this.lostAt,
      minInterval: this.minInterval?.value ?? 0,
      idleLimit: { survived: this.survived?.value ?? 0, failed: this.failed?.value ?? Infinity }
    }
  }

  forget (): void {
    this.interval = this.minInterval = this.survived = this.failed = undefined
    this.lostAt = undefined
  }

  /** A connection starts. */
  start (): MemoryStart {
    const now = this.clock.now()
    this.expire(now)
    return {
      interval: this.interval?.value,
      recentLoss: this.lostAt !== undefined && now - this.lostAt <= this.recentLoss,
      floor: this.minInterval?.value ?? 0,
      idleCap: this.idleCap()
    }
  }

  /**
   * The longest idle gap to try: unlimited while no gap failed; between a failure and a survival, their
   * middle (a binary search, one lost connection per step); once they are close, the survived one.
   */
  idleCap (): number {
    const failed = this.failed?.value ?? Infinity
    if (failed === Infinity) return Infinity
    const survived = this.survived?.value ?? 0
    if (failed - survived <= failed * IDLE_LIMIT_RESOLUTION) return survived
    return (survived + failed) / 2
  }

  /** The longest idle gap known to survive (0 when none). */
  get survivedGap (): number {
    return this.survived?.value ?? 0
  }

  /** An idle gap of `gap` ms ended with the peer's answer: the path keeps connections idle that long. */
  gapSurvived (gap: number): void {
    const now = this.clock.now()
    if (this.survived === undefined || gap >= this.survived.value) this.survived = { value: gap, at: now }
    // newer evidence against an older failure: the failure had another cause
    if (this.failed !== undefined && this.failed.value <= gap) this.failed = undefined
  }

  /** The connection was lost after an idle gap of `gap` ms that no gap known to survive matched. */
  gapFailed (gap: number): void {
    if (gap <= this.survivedGap) return
    if (this.failed === undefined || gap < this.failed.value) this.failed = { value: gap, at: this.clock.now() }
  }

  /** A connection ended: `lost` (a dead peer, a reset), or cleanly with `interval` in force. */
  ended (interval: number, lost: boolean): void {
    const now = this.clock.now()
    if (lost) {
      this.lostAt = now
      this.interval = undefined
    } else {
      this.lostAt = undefined
      this.interval = { value: interval, at: now }
    }
  }

  /** The peer sent GOAWAY `TOO_MANY_PINGS`: never ping more often than `interval` on this path again (until `ttl`). */
  tooManyPings (interval: number): void {
    if (this.minInterval === undefined || interval > this.minInterval.value) this.minInterval = { value: interval, at: this.clock.now() }
  }

  private expire (now: number): void {
    const old = (fact: Fact | undefined): boolean => fact !== undefined && now - fact.at > this.ttl
    if (old(this.interval)) this.interval = undefined
    if (old(this.minInterval)) this.minInterval = undefined
    if (old(this.survived)) this.survived = undefined
    if (old(this.failed)) this.failed = undefined
    if (this.lostAt !== undefined && now - this.lostAt > this.ttl) this.lostAt = undefined
  }
}

/**
 * A memory for the adaptive interval of the connections to one address: a connection made soon after the
 * previous one was lost starts at `min`; one made after a clean end starts where the last one was; the
 * peer's `TOO_MANY_PINGS` raises the floor for the next ones; and with `probeIdleLimit`, the path's idle
 * limit is searched across connections. Keep one per address (a `Map` of them for many).
 *
 * @example
 * ```ts
 * const memory = intervalMemory()
 * const link = reconnect(async () => heartbeat(codec(await connect(address)), { hello: true, adaptiveInterval: { memory } }))
 * ```
 */
export function intervalMemory (init?: IntervalMemoryInit): IntervalMemory {
  const opts = validate.options('init', init)
  const ttl = validate.duration('ttl', opts.ttl, DEFAULT_MEMORY_TTL, { exclusiveMin: true, infinity: true })
  const recentLoss = validate.duration('recentLoss', opts.recentLoss, DEFAULT_RECENT_LOSS)
  return new PathMemory(ttl, recentLoss, validate.hook('clock', opts.clock, 'now') ?? systemClock)
}
