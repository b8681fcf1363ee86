import type { Clock, Timers } from '@proto/interface'

/**
 * Calls `onIdle` once `lastActivity()` is `idleMs` in the past. One timer, re-armed for the remaining
 * time when it fires early (activity moved the deadline), never per packet. Returns a cancel function.
 */
export function watchIdle (idleMs: number, lastActivity: () => number, clock: Clock, timers: Timers, onIdle: () => void): () => void {
  let cancelled = false
  let handle = timers.setTimeout(check, idleMs)
  function check (): void {
    if (cancelled) return
    const idleFor = clock.now() - lastActivity()
    if (idleFor >= idleMs) onIdle()
    else handle = timers.setTimeout(check, idleMs - idleFor)
  }
  return () => {
    cancelled = true
    handle.cancel()
  }
}
