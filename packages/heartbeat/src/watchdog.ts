import type { Logger, TimerHandle } from '@proto/interface'
import { systemTimers } from '@proto/interface'
import type { Emitter } from './events.js'
import type { HeartbeatConfig } from './options.js'

/** After a late timer finds the peer silent, this many `setImmediate` rounds let pending input be read first. */
const YIELD_ROUNDS = 2

/** Who takes the decisions when the timer fires. */
export interface WatchdogOwner {
  evaluate(now: number, stalled: boolean): void
}

/**
 * The single timer of a stage. `arm(at)` keeps the earliest deadline asked for (so activity never touches the
 * timer: the owner's timestamps only move forward, and a timer that fires early is simply re-armed for the
 * rest). On firing it measures how late it is (event-loop lag) and hands the decision to its owner's `evaluate`.
 */
export class Watchdog {
  lastLag = 0
  maxLag = 0
  stalls = 0
  /** Node's own `Timeout` with the default timers (no wrapper object per arm), else the injected handle. */
  private timer: TimerHandle | ReturnType<typeof setTimeout> | undefined
  private timerAt = Infinity
  /**
   * With the default timers: the last Node `Timeout` made, its duration and the `setTimeout` that made it.
   * A fired timer of the same duration is re-armed with `refresh()` instead of a new `Timeout`: with
   * thousands of connections pinging, each new `Timeout` lives for an interval and ends as old-space garbage.
   */
  private spent: ReturnType<typeof setTimeout> | undefined
  private spentMs = -1
  private spentBy: typeof setTimeout | undefined
  private onTimer: (() => void) | undefined
  private immediate: ReturnType<typeof setImmediate> | undefined
  private yieldsLeft = 0
  private disposed = false

  constructor (
    private readonly cfg: HeartbeatConfig,
    private readonly owner: WatchdogOwner,
    private readonly emitter: Emitter,
    private readonly log: Logger
  ) {}

  /** Whether a check is waiting for input to be read (see `yieldToInput`). */
  get yielding (): boolean {
    return this.yieldsLeft > 0
  }

  /** Makes sure the timer fires no later than `at` (clock time). */
  arm (at: number, now: number): void {
    if (this.disposed) return
    if (this.timer !== undefined) {
      if (this.timerAt <= at) return
      this.cancel()
    }
    this.timerAt = at
    const ms = Math.max(0, Math.ceil(at - now))
    this.onTimer ??= () => { this.fired() }
    if (this.cfg.timers === systemTimers) {
      // resolved at call time, so fake timers installed later apply
      const set = globalThis.setTimeout
      const spent = this.spent
      if (spent !== undefined && this.spentMs === ms && this.spentBy === set && typeof spent.refresh === 'function') {
        spent.refresh()
        this.timer = spent
      } else {
        const t = set(this.onTimer, ms)
        t.unref()
        this.timer = t
        this.spent = undefined
        this.spentMs = ms
        this.spentBy = set
      }
    } else {
      this.timer = this.cfg.timers.setTimeout(this.onTimer, ms)
    }
  }

  cancel (): void {
    const t = this.timer
    if (t === undefined) return
    if ('cancel' in t) t.cancel()
    else clearTimeout(t)
    this.spent = undefined // a cleared Timeout cannot be refreshed
    this.timer = undefined
    this.timerAt = Infinity
  }

  /**
   * The loop was blocked: let the pump read what sits in the socket before judging the peer. Node runs
   * overdue timers before it polls sockets, so input that arrived during the block is read only after this.
   */
  yieldToInput (): void {
    if (this.disposed || this.immediate !== undefined) return
    if (this.yieldsLeft === 0) this.yieldsLeft = YIELD_ROUNDS
    this.immediate = setImmediate(() => { this.afterYield() })
  }

  /** Cancels everything; the watchdog never fires again. */
  dispose (): void {
    this.disposed = true
    this.cancel()
    this.spent = undefined
    if (this.immediate !== undefined) clearImmediate(this.immediate)
    this.immediate = undefined
  }

  private fired (): void {
    const scheduled = this.timerAt
    const t = this.timer
    if (t !== undefined && !('cancel' in t)) this.spent = t
    this.timer = undefined
    this.timerAt = Infinity
    if (this.disposed) return
    const now = this.cfg.clock.now()
    const lag = Math.max(0, now - scheduled)
    this.lastLag = lag
    if (lag > this.maxLag) this.maxLag = lag
    const stalled = lag > this.cfg.stallThreshold
    if (stalled) {
      this.stalls++
      this.log.debug('timer fired %d ms late: event loop stalled', Math.round(lag))
      this.emitter.emit('stall', { lag })
    }
    this.owner.evaluate(now, stalled)
  }

  private afterYield (): void {
    this.immediate = undefined
    if (this.disposed) return
    if (--this.yieldsLeft > 0) {
      this.immediate = setImmediate(() => { this.afterYield() })
      return
    }
    this.owner.evaluate(this.cfg.clock.now(), false)
  }
}
