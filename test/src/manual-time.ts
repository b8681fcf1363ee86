import type { TimerHandle, Timers } from '@proto/interface'

/** Timers and a clock that move only when told to. */
export interface ManualTime {
  timers: Timers
  clock: { now: () => number }
  /** Moves the clock `ms` forward, in steps of at most `step` (see `manualTime`), firing what falls due. */
  advance(ms: number): void
}

/**
 * Timers and a clock for stages under test that move only when `advance` is called, so a ping can be sent
 * synchronously. `step` (ms) splits a long advance into steps, so no timer looks late enough to count as an
 * event-loop stall; by default an advance is one step.
 */
export function manualTime (step = Infinity): ManualTime {
  let now = 0
  let pending: Array<{ at: number, fn: () => void, live: boolean }> = []
  const timers: Timers = {
    setTimeout (fn, ms) {
      const t = { at: now + ms, fn, live: true }
      pending.push(t)
      const handle: TimerHandle = { cancel: () => { t.live = false } }
      return handle
    }
  }
  const move = (ms: number): void => {
    now += ms
    const due = pending.filter(t => t.live && t.at <= now)
    pending = pending.filter(t => t.live && t.at > now)
    for (const t of due) { t.live = false; t.fn() }
  }
  return { timers, clock: { now: () => now }, advance (ms: number): void { for (let left = ms; left > 0; left -= step) move(Math.min(step, left)) } }
}
