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

/** Schedules callbacks. Injected so timing logic can run under fake time. */
export interface Timers {
  /** Runs `fn` once after `ms` milliseconds. Housekeeping timers never keep the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle
}

/** `performance.now()`: monotonic, unaffected by wall-clock changes. */
export const systemClock: Clock = {
  now: () => performance.now()
}

/** Node's timers, `unref()`ed. Resolved through `globalThis` at call time so fake timers apply. */
export const systemTimers: Timers = {
  setTimeout (fn, ms) {
    const t = globalThis.setTimeout(fn, ms)
    t.unref?.()
    return { cancel: () => { globalThis.clearTimeout(t) } }
  }
}
