import type { FaultAction, FaultPlan, FaultProxy } from '@proto/fault-proxy'
import { faultSchedule, seededRandom } from '@proto/fault-proxy'
import type { Range } from './options.js'
import type { LinkMode } from './timeline.js'

/** What the fault driver did. */
export interface FaultCounts {
  finCuts: number
  resetCuts: number
  /** Switches between fragmented and coalesced reads. */
  linkChanges: number
}

export interface FaultDriverInit {
  proxy: FaultProxy
  seed: number
  plan: FaultPlan
  linkChangeEvery: Range
  fragment: { min: number, max: number }
  coalesceMs: number
  /** Called when the link switches between fragmenting and coalescing (and once at the start). */
  onLinkChange?(mode: LinkMode): void
}

export interface FaultDriver {
  readonly counts: FaultCounts
  /** What the link is doing now, for the progress line. */
  readonly state: string
  /** Stops cuts, black holes and link changes, and lifts a black hole in force. Idempotent. */
  stop(): void
}

/**
 * Plays the proxy's seeded fault schedule (cuts and black holes, as `faultSchedule` draws them) and
 * alternates the link between fragmented reads (random 1…1460-byte pieces) and coalesced ones. Runs the
 * schedule itself rather than through the proxy's plan so that it can stop once the client has sent
 * everything: a drain without faults lets the run end with a clean, fully accounted close.
 */
export function driveFaults (init: FaultDriverInit): FaultDriver {
  const { proxy } = init
  const counts: FaultCounts = { finCuts: 0, resetCuts: 0, linkChanges: 0 }
  const schedule = faultSchedule(init.plan, init.seed)
  const linkRandom = seededRandom(init.seed).fork(0x11A4)
  const started = performance.now()
  let next: FaultAction | undefined
  let nextLinkChangeAt = 0
  let fragmented = true
  let stopped = false
  let timer: NodeJS.Timeout | undefined

  const setLink = (): void => {
    if (fragmented) {
      proxy.setCoalesce(0)
      proxy.setFragmentation(init.fragment)
    } else {
      proxy.setFragmentation(undefined)
      proxy.setCoalesce(init.coalesceMs)
    }
    init.onLinkChange?.(fragmented ? 'fragmenting' : 'coalescing')
  }

  const run = (action: FaultAction): void => {
    if (action.type === 'cut') {
      if (action.mode === 'fin') counts.finCuts++
      else counts.resetCuts++
      proxy.cutAll({ mode: action.mode })
    } else {
      proxy.blackHole(action.durationMs)
    }
  }

  // One timer, re-armed for whichever comes first: the next planned fault or the next link change.
  const tick = (): void => {
    timer = undefined
    if (stopped) return
    const now = performance.now() - started
    while (next !== undefined && next.atMs <= now) {
      run(next)
      next = schedule.next().value ?? undefined
    }
    if (now >= nextLinkChangeAt) {
      if (nextLinkChangeAt > 0) {
        fragmented = !fragmented
        counts.linkChanges++
        setLink()
      }
      nextLinkChangeAt = now + linkRandom.int(init.linkChangeEvery[0], init.linkChangeEvery[1])
    }
    const wake = Math.min(next?.atMs ?? Infinity, nextLinkChangeAt)
    timer = setTimeout(tick, Math.max(0, wake - now))
    timer.unref()
  }

  next = schedule.next().value ?? undefined
  setLink()
  tick()

  return {
    counts,
    get state () {
      if (stopped) return fragmented ? 'draining, fragmenting' : 'draining, coalescing'
      return proxy.blackHoled ? 'BLACK HOLE' : fragmented ? 'fragmenting' : 'coalescing'
    },
    stop () {
      if (stopped) return
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      proxy.restore()
    }
  }
}
