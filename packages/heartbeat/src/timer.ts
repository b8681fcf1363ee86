import type { Clock, TimerHandle, Timers } from '@proto/interface'
import { systemTimers, validate } from '@proto/interface'
import type { GridEntry, TimerGrid } from './grid.js'

/** Before a silent peer is judged, this many `setImmediate` rounds let pending input be read first. */
const YIELD_ROUNDS = 2

/** The callback of every stage's Node timer: the stage's `Timer` travels as the timer's argument, so no closure is made per stage. */
function fireTimer (timer: Timer): void {
  timer.fire()
}

/** Who acts when the timer fires. */
export interface TimerOwner {
  /** The timer fired at `now`, `lag` ms after it was due. */
  fired(now: number, lag: number): void
  /** The rounds of `yieldToInput()` are over at `now`: pending input has been read. */
  yielded(now: number): void
}

/**
 * The single timer of a stage: one `setTimeout`, re-armed from timestamps. `arm(at)` keeps the earliest
 * moment asked for, so activity never touches the timer (the owner's timestamps only move forward, and a
 * timer that fires early is simply re-armed for the rest). With the default timers Node's own `Timeout`
 * is kept (no wrapper per arm) and `unref()`ed. Given a {@link TimerGrid} (the stage runs on the system
 * clock and timers), it waits in the grid's slot instead and fires with the other timers of that slot.
 */
export class Timer implements GridEntry {
  /** @internal The grid's slot this timer waits in, `-1` for none. */
  slot = -1
  /** Armed on the grid (rather than with a timer of its own). */
  private onGrid = false
  private timer: TimerHandle | ReturnType<typeof setTimeout> | undefined
  private at = Infinity
  /** When the armed timer can fire at the earliest: `at`, or the moment of arming when `at` was already past. */
  private due = Infinity
  private onTimer: (() => void) | undefined
  private immediate: ReturnType<typeof setImmediate> | undefined
  private yieldsLeft = 0
  private disposed = false

  constructor (private readonly clock: Clock, private readonly timers: Timers, private readonly owner: TimerOwner, private readonly grid?: TimerGrid) {}

  /** Whether a decision is waiting for input to be read (see `yieldToInput`). */
  get yielding (): boolean {
    return this.yieldsLeft > 0
  }

  /** Makes sure the timer fires no later than `at` (clock time); `Infinity` asks for nothing. */
  arm (at: number, now: number): void {
    if (this.disposed || at === Infinity) return
    const grid = this.grid
    if (grid !== undefined) {
      if (this.onGrid && this.at <= at) return
      this.at = at
      this.due = grid.add(this, at, now)
      this.onGrid = true
      return
    }
    if (this.timer !== undefined) {
      if (this.at <= at) return
      this.cancel()
    }
    this.at = at
    this.due = Math.max(at, now)
    // Node fires a longer delay after 1 ms (an interval a peer's HELLO announced may be that long): wake at
    // the longest delay instead; the owner finds nothing due and arms again
    const ms = Math.min(validate.MAX_TIMER_DELAY, Math.max(0, Math.ceil(at - now)))
    if (this.timers === systemTimers) {
      const t = globalThis.setTimeout(fireTimer, ms, this) // looked up at call time, so fake timers apply
      t.unref()
      this.timer = t
    } else {
      this.timer = this.timers.setTimeout(this.onTimer ??= () => { this.fire() }, ms)
    }
  }

  cancel (): void {
    if (this.onGrid) {
      this.onGrid = false
      this.at = Infinity
      this.grid?.remove(this)
      return
    }
    const t = this.timer
    if (t === undefined) return
    if ('cancel' in t) t.cancel()
    else globalThis.clearTimeout(t)
    this.timer = undefined
    this.at = Infinity
  }

  /**
   * Lets the stage read what sits in the socket before judging the peer. Node runs due timers before it
   * polls sockets, so input that arrived while this process was not running (a blocked loop, a starved CPU)
   * is read only after this.
   */
  yieldToInput (): void {
    if (this.disposed || this.immediate !== undefined) return
    if (this.yieldsLeft === 0) this.yieldsLeft = YIELD_ROUNDS
    this.immediate = setImmediate(() => { this.afterYield() })
  }

  /** Cancels everything; the timer never fires again. */
  dispose (): void {
    this.disposed = true
    this.cancel()
    if (this.immediate !== undefined) clearImmediate(this.immediate)
    this.immediate = undefined
  }

  /** @internal */
  fire (): void {
    if (this.grid !== undefined) {
      // taken out of its slot by the grid; not if it was cancelled, or armed into a later slot, meanwhile
      if (!this.onGrid || this.slot !== -1) return
      this.onGrid = false
    }
    const due = this.due // lag is lateness against when it could fire, not against a moment already past when armed
    this.timer = undefined
    this.at = Infinity
    if (this.disposed) return
    const now = this.clock.now()
    this.owner.fired(now, Math.max(0, now - due))
  }

  private afterYield (): void {
    this.immediate = undefined
    if (this.disposed) return
    if (--this.yieldsLeft > 0) {
      this.immediate = setImmediate(() => { this.afterYield() })
      return
    }
    this.owner.yielded(this.clock.now())
  }
}
