import type { Clock, TimerHandle, Timers } from '@proto/interface'
import type { FaultAction } from './types.js'

/** Runs a fault schedule in real (or injected) time: one timer, re-armed for the next action. */
export interface PlanRunner {
  /** Cancels the pending action; no further action runs. */
  stop(): void
}

/**
 * Calls `act(action, index)` when each action of `schedule` falls due, `action.atMs` after `startedAt`
 * on `clock`. Late timers run the overdue action at once, in order; the schedule bounds the count.
 */
export function runPlan (
  schedule: Iterator<FaultAction>,
  startedAt: number,
  clock: Clock,
  timers: Timers,
  act: (action: FaultAction, index: number) => void
): PlanRunner {
  let timer: TimerHandle | undefined
  let stopped = false
  let index = 0

  // Node's timers may fire up to a millisecond early against a sub-millisecond clock: re-arm until due.
  const wait = (action: FaultAction): void => {
    const due = startedAt + action.atMs
    timer = timers.setTimeout(() => {
      timer = undefined
      if (stopped) return
      if (clock.now() < due) { wait(action); return }
      act(action, index++)
      arm()
    }, Math.max(0, due - clock.now()))
  }
  const arm = (): void => {
    const next = schedule.next()
    if (stopped || next.done === true) return
    wait(next.value)
  }
  arm()

  return {
    stop () {
      stopped = true
      timer?.cancel()
      timer = undefined
    }
  }
}
