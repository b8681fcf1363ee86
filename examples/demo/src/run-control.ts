import type { FaultDriver } from './faults.js'

/** The run was stopped by `durationLimit`. */
export class DeadlineError extends Error {
  static override name = 'DeadlineError'
  constructor (message = 'the run exceeded its duration limit', options?: ErrorOptions) {
    super(message, options)
    this.name = 'DeadlineError'
  }
}

/** The run was stopped by its `signal` and what was in flight did not drain within `stopDrain`. */
class StoppedError extends Error {
  static override name = 'StoppedError'
  constructor (message = 'the run was stopped; in-flight messages did not drain in time') {
    super(message)
    this.name = 'StoppedError'
  }
}

export interface RunControlInit {
  durationLimit: number
  /** The user's stop (Ctrl-C). */
  signal: AbortSignal | undefined
  /** After a stop, how long in-flight messages may drain before the link is torn down, in ms. */
  stopDrain: number
  /** Called once when the user's signal stops the run. */
  onInterrupt(): void
}

/** How a run ends early: its duration limit (a failure) or the user's signal (a partial run). */
export interface RunControl {
  /** Aborted when sending must stop: the limit passed or the run was interrupted. */
  readonly sending: AbortSignal
  readonly interrupted: boolean
  /** Interrupted, and what was in flight did not drain within `stopDrain`: the link was torn down. */
  readonly drainCut: boolean
  /** Hands over the link and the fault driver once they exist, so that a stop reaches them. */
  attach(link: { abort(err: Error): void }, faults: FaultDriver | undefined): void
  /** Whether `err` is only the drain of an interrupted run being cut short, not a failure. */
  isStop(err: unknown): boolean
  /** Cancels the timers and the listener. */
  dispose(): void
}

/**
 * The limit tears the link down at once with a `DeadlineError`. The user's signal stops sending and the
 * faults, gives what is in flight `stopDrain` ms to arrive, then tears the link down.
 */
export function runControl (init: RunControlInit): RunControl {
  const sending = new AbortController()
  const stopError = new StoppedError()
  let link: { abort(err: Error): void } | undefined
  let faults: FaultDriver | undefined
  let failure: Error | undefined
  let interrupted = false
  let drainCut = false
  let drainTimer: NodeJS.Timeout | undefined
  const deadlineTimer = setTimeout(() => {
    failure = new DeadlineError(`the run did not finish within --duration-limit (${init.durationLimit} ms)`)
    sending.abort()
    link?.abort(failure)
  }, init.durationLimit)
  const onStop = (): void => {
    interrupted = true
    init.onInterrupt()
    sending.abort()
    faults?.stop()
    drainTimer = setTimeout(() => { drainCut = true; link?.abort(stopError) }, init.stopDrain)
  }
  init.signal?.addEventListener('abort', onStop, { once: true })
  return {
    sending: sending.signal,
    get interrupted () { return interrupted },
    get drainCut () { return drainCut },
    attach (l, f) {
      link = l
      faults = f
      if (failure !== undefined) l.abort(failure)
      if (interrupted) f?.stop()
    },
    isStop: err => interrupted && err === stopError,
    dispose () {
      init.signal?.removeEventListener('abort', onStop)
      clearTimeout(deadlineTimer)
      clearTimeout(drainTimer)
    }
  }
}
