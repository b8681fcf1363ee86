import { validate } from '@proto/interface'
import { DEFAULT_FACTOR, DEFAULT_INITIAL_DELAY, DEFAULT_JITTER, DEFAULT_MAX_DELAY, DEFAULT_MIN_DELAY, MAX_EXPONENT } from './constants.js'

/**
 * How a delay is spread under its ceiling `c` (the capped exponential value):
 * - `'full'`: uniform in [0, c);
 * - `'equal'`: c/2 plus uniform in [0, c/2);
 * - `'decorrelated'`: uniform in [initialDelay, min(maxDelay, 3 × previous delay)), ignoring the attempt;
 * - `'none'`: exactly c (deterministic: a fleet retries in lock-step; tests only).
 */
export type JitterStrategy = 'full' | 'equal' | 'decorrelated' | 'none'

/**
 * Computes the delay (ms) before dial number `attempt` (1-based, counted since the last stable
 * connection), given the delay used before the previous attempt (0 for the first) and the error that
 * ended it (`undefined` when the peer simply ended the connection).
 */
export type DelayFunction = (attempt: number, previousDelay: number, reason: Error | undefined) => number

/** How `backoff()` spaces dial attempts: an exponential ceiling with jitter, or a custom `delay` function. */
export interface BackoffInit {
  /**
   * Ceiling of the delay before attempt 1 (ms): the first redial after a lost connection. The very first
   * dial is attempt 1 too, so when it fails the wait before attempt 2 has the ceiling `initialDelay × factor`.
   *
   * @default 500
   */
  initialDelay?: number
  /**
   * Growth of the ceiling per attempt: `initialDelay × factor^(attempt-1)`.
   *
   * @default 2
   */
  factor?: number
  /**
   * Cap on the ceiling (ms), applied before jitter so jitter survives at the cap. At most 2 147 483 647.
   *
   * @default 30000
   */
  maxDelay?: number
  /**
   * Floor of every delay (ms), at least 1: no delay is ever 0 or negative.
   *
   * @default 1
   */
  minDelay?: number
  /**
   * How the delay is spread under its ceiling.
   *
   * @default 'full'
   */
  jitter?: JitterStrategy
  /**
   * Replaces the formula. Its result is clamped to [minDelay, maxDelay]; a non-finite result counts as
   * `maxDelay`.
   */
  delay?: DelayFunction
  /**
   * The random source, returning numbers in [0, 1). Inject a seeded one for deterministic tests.
   *
   * @default Math.random
   */
  random?: () => number
}

const JITTERS: readonly JitterStrategy[] = ['full', 'equal', 'decorrelated', 'none']

/** The delay ceiling before attempt `attempt`: `min(maxDelay, initialDelay × factor^(attempt-1))`. */
export function delayCeiling (attempt: number, initialDelay: number, factor: number, maxDelay: number): number {
  const exponent = Math.min(Math.max(Math.floor(attempt) - 1, 0), MAX_EXPONENT)
  const raw = initialDelay * factor ** exponent
  // factor ** 1000 may be Infinity; min() takes the cap then, and nothing is ever subtracted from it.
  return Number.isFinite(raw) ? Math.min(maxDelay, raw) : maxDelay
}

/**
 * Validates `init` and returns the delay schedule it describes: cap first, then jitter; exponent from a
 * clamped attempt count so nothing overflows; never below `minDelay` (≥ 1 ms) nor above `maxDelay`.
 * Throws `InvalidParametersError` on a bad option.
 */
export function backoff (init: BackoffInit = {}): DelayFunction {
  const initialDelay = validate.duration('initialDelay', init.initialDelay, DEFAULT_INITIAL_DELAY, { exclusiveMin: true })
  const factor = validate.number('factor', init.factor, DEFAULT_FACTOR, { min: 1 })
  const maxDelay = validate.duration('maxDelay', init.maxDelay, DEFAULT_MAX_DELAY, { exclusiveMin: true })
  const minDelay = validate.duration('minDelay', init.minDelay, DEFAULT_MIN_DELAY, { min: 1 })
  const jitter = validate.oneOf('jitter', init.jitter, JITTERS, DEFAULT_JITTER)
  const random = validate.fn('random', init.random, Math.random)
  const custom = validate.fn('delay', init.delay)
  // with a delay function of its own, initialDelay shapes nothing: only the clamp's bounds must agree
  if (custom === undefined && maxDelay < initialDelay) validate.invalid('maxDelay', `at least initialDelay (${initialDelay} ms)`, maxDelay)
  if (maxDelay < minDelay) validate.invalid('maxDelay', `at least minDelay (${minDelay} ms)`, maxDelay)
  // a schedule of plain numbers is a pure function of them: durables with the same settings (a server's
  // sessions) share one instead of three closures each
  if (init.random !== undefined || custom !== undefined) return schedule(initialDelay, factor, maxDelay, minDelay, jitter, random, custom)
  const key = `${initialDelay}|${factor}|${maxDelay}|${minDelay}|${jitter}`
  let shared = SHARED_SCHEDULES.get(key)
  if (shared === undefined) {
    shared = schedule(initialDelay, factor, maxDelay, minDelay, jitter, currentRandom, undefined)
    if (SHARED_SCHEDULES.size < MAX_SHARED_SCHEDULES) SHARED_SCHEDULES.set(key, shared)
  }
  return shared
}

/** Schedules of plain settings, by their values; bounded, so settings that keep changing are simply not shared. */
const SHARED_SCHEDULES = new Map<string, DelayFunction>()
const MAX_SHARED_SCHEDULES = 32

/** `Math.random` as it is when called (a shared schedule outlives any stub a test puts in its place). */
const currentRandom = (): number => Math.random()

/** The delay schedule of validated settings. */
function schedule (initialDelay: number, factor: number, maxDelay: number, minDelay: number, jitter: JitterStrategy, random: () => number, custom: DelayFunction | undefined): DelayFunction {
  const draw = (): number => {
    const r = random()
    return r >= 0 && r < 1 ? r : (r >= 1 ? 1 - Number.EPSILON : 0)
  }
  const clamp = (ms: number): number => {
    if (Number.isNaN(ms) || !Number.isFinite(ms)) return maxDelay
    return Math.max(minDelay, Math.min(maxDelay, Math.floor(ms)))
  }

  return (attempt, previousDelay, reason) => {
    if (custom != null) return clamp(custom(attempt, previousDelay, reason))
    if (jitter === 'decorrelated') {
      const prev = Number.isFinite(previousDelay) && previousDelay > initialDelay ? previousDelay : initialDelay
      const upper = Math.min(maxDelay, prev * 3)
      return clamp(initialDelay + draw() * (upper - initialDelay))
    }
    const ceiling = delayCeiling(attempt, initialDelay, factor, maxDelay)
    switch (jitter) {
      case 'full': return clamp(draw() * ceiling)
      case 'equal': return clamp(ceiling / 2 + draw() * (ceiling / 2))
      default: return clamp(ceiling)
    }
  }
}
