/** A source of "now" in milliseconds. Injected so timing logic can run under fake time. */
export interface Clock {
  /** The current time in milliseconds, from an arbitrary origin; only differences between readings mean anything. */
  now(): number
}

/** A handle to a scheduled callback. */
export interface TimerHandle {
  /** Cancels the callback if it has not run yet. */
  cancel(): void
}

/** How a timer is scheduled. */
export interface TimerOptions {
  /**
   * Keep the process alive until the timer runs or is cancelled: for the deadline of something the
   * application awaits (a `close()`), which must settle even when nothing else keeps the event loop
   * running (a paused socket does not). Default `false`: housekeeping timers never keep the process alive.
   */
  ref?: boolean
}

/** Schedules callbacks. Injected so timing logic can run under fake time. */
export interface Timers {
  /** Runs `fn` once after `ms` milliseconds. Housekeeping timers never keep the process alive (see `TimerOptions.ref`). */
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerHandle
}

/** `performance.now()`: monotonic, unaffected by wall-clock changes. */
export const systemClock: Clock = {
  now: () => performance.now()
}

/** Node's timers, `unref()`ed unless `ref` is asked for. Resolved through `globalThis` at call time so fake timers apply. */
export const systemTimers: Timers = {
  setTimeout (fn, ms, options) {
    const t = globalThis.setTimeout(fn, ms)
    if (options?.ref !== true) t.unref?.()
    return { cancel: () => { globalThis.clearTimeout(t) } }
  }
}
