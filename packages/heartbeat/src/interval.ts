import { MAX_GROWTH_PENALTY } from './constants.js'

/**
 * Why the adaptive interval has its value: where it started (`configured`, `remembered` from the last
 * connection, `reconnect` after a loss, `idle-limit` under a learned idle limit), or what changed it: HELLO
 * bounds (`hello`), a run of on-time pongs (`stable`; `idle-limit` when the learned limit cut the step
 * short), signs of a poor link (`late-pong`, `jitter`, `missed-pong`, `write-stall`), or the peer's
 * announcement (`peer`). A fixed interval is `configured`, or `hello` once HELLO raised it.
 */
export type IntervalReason =
  | 'configured' | 'remembered' | 'reconnect' | 'hello' | 'stable' | 'idle-limit'
  | 'late-pong' | 'jitter' | 'missed-pong' | 'write-stall' | 'peer'

/** How the interval grows. */
export interface GrowthSettings {
  /** On-time pongs in a row per growth step (before the penalty). */
  readonly growAfter: number
  /** Each step multiplies the interval by this. */
  readonly growFactor: number
}

/** Who hears about changes. */
export interface IntervalListener {
  changed(next: number, previous: number, reason: IntervalReason): void
}

/**
 * The interval as a state machine, with no clock and no I/O: signs of a poor link bring it down at once
 * (to `floor`, or halfway for jitter), runs of on-time pongs take it up one step at a time to `ceiling`.
 * Hysteresis: each sign of trouble doubles the run needed for the next step (up to 2^`MAX_GROWTH_PENALTY`
 * times), each step halves it again; jitter shrinks once when it appears and then only blocks growth.
 */
export class IntervalController {
  private streak = 0
  private penalty = 0
  private jittery = false

  constructor (
    /** The interval in force, in ms. */
    public value: number,
    public reason: IntervalReason,
    public floor: number,
    public ceiling: number,
    private readonly growth: GrowthSettings,
    /** The longest idle gap worth trying now (`Infinity`: no limit known). */
    private readonly idleCap: () => number,
    private readonly listener: IntervalListener
  ) {}

  /** On-time pongs still needed for the next growth step. */
  get needed (): number {
    return Math.max(0, this.growth.growAfter * 2 ** this.penalty - this.streak)
  }

  /** New bounds (HELLO): the value is clamped into them. */
  bound (floor: number, ceiling: number): void {
    this.floor = floor
    this.ceiling = ceiling
    this.set(Math.min(ceiling, Math.max(floor, this.value)), 'hello')
  }

  /** A pong came in time; `jittery`: the RTT spread is high. */
  onTime (jittery: boolean): void {
    if (jittery) {
      if (!this.jittery) {
        this.jittery = true
        this.poor('jitter')
      }
      return
    }
    this.jittery = false
    if (++this.streak < this.growth.growAfter * 2 ** this.penalty) return
    this.streak = 0
    if (this.penalty > 0) this.penalty--
    let next = Math.min(this.ceiling, this.value * this.growth.growFactor)
    let reason: IntervalReason = 'stable'
    const cap = this.idleCap()
    if (cap < next) {
      next = Math.max(this.floor, cap)
      reason = 'idle-limit'
    }
    if (next > this.value) this.set(next, reason)
  }

  /** A sign of a poor link: down to `floor` at once (jitter: halfway), and a longer run before growing again. */
  poor (reason: IntervalReason): void {
    this.streak = 0
    if (this.penalty < MAX_GROWTH_PENALTY) this.penalty++
    const next = reason === 'jitter' ? Math.max(this.floor, this.value / 2) : this.floor
    if (next < this.value) this.set(next, reason)
  }

  /** The peer announced the interval it uses: the connection's interval is shared (docs/PROTOCOL.md §3.4). */
  adopt (interval: number): void {
    const next = Math.max(this.floor, Math.min(this.ceiling, this.idleCap(), interval))
    if (next === this.value) return
    this.streak = 0
    this.set(next, 'peer')
  }

  private set (next: number, reason: IntervalReason): void {
    const previous = this.value
    if (next === previous) return
    this.value = next
    this.reason = reason
    this.listener.changed(next, previous, reason)
  }
}
