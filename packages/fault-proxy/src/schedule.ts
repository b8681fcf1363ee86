import { DEFAULT_MAX_FAULTS } from './constants.js'
import type { Random } from './random.js'
import { seededRandom } from './random.js'
import type { CutMode, FaultAction, FaultPlan, MsRange } from './types.js'
import { checkPlan } from './validate.js'

/** Stream labels: each timeline draws from its own fork of the seed, so one never shifts the other. */
export const RANDOM_STREAM = { cuts: 1, blackHoles: 2, fragments: 3 } as const

function draw (random: Random, [min, max]: MsRange): number {
  return random.int(Math.ceil(min), Math.floor(max))
}

function * cutTimeline (plan: FaultPlan, random: Random): Generator<FaultAction> {
  const every = plan.cutEvery
  if (every === undefined) return
  const modes = plan.cutMode ?? 'mixed'
  let at = 0
  for (;;) {
    at += draw(random, every)
    const mode: CutMode = modes === 'mixed' ? (random.next() < 0.5 ? 'fin' : 'reset') : modes
    yield { atMs: at, type: 'cut', mode }
  }
}

function * blackHoleTimeline (plan: FaultPlan, random: Random): Generator<FaultAction> {
  const every = plan.blackHoleEvery
  const lasting = plan.blackHoleFor
  if (every === undefined || lasting === undefined) return
  let at = 0
  for (;;) {
    at += draw(random, every)
    const durationMs = draw(random, lasting)
    yield { atMs: at, type: 'black-hole', durationMs }
    at += durationMs
  }
}

/**
 * The random actions of `plan` under `seed`, in time order: a pure function of its arguments, so a run
 * is replayed by passing the same seed. Cuts and black holes run on independent timelines (each from
 * its own fork of the seed); at equal times a cut comes first. The sequence is finite: it stops after
 * `plan.maxFaults` actions (default 10000) or at the first action later than `plan.durationMs`.
 * Every iteration does a constant amount of work.
 *
 * Throws `InvalidParametersError` when `plan` is invalid.
 */
export function * faultSchedule (plan: FaultPlan, seed: number): Generator<FaultAction, void, undefined> {
  checkPlan(plan)
  const random = seededRandom(seed)
  const cuts = cutTimeline(plan, random.fork(RANDOM_STREAM.cuts))
  const holes = blackHoleTimeline(plan, random.fork(RANDOM_STREAM.blackHoles))
  const max = plan.maxFaults ?? DEFAULT_MAX_FAULTS
  const until = plan.durationMs ?? Infinity
  let nextCut = cuts.next()
  let nextHole = holes.next()
  for (let n = 0; n < max; n++) {
    let action: FaultAction
    if (nextCut.done === true && nextHole.done === true) return
    if (nextHole.done === true || (nextCut.done !== true && nextCut.value.atMs <= nextHole.value.atMs)) {
      action = (nextCut as IteratorYieldResult<FaultAction>).value
      nextCut = cuts.next()
    } else {
      action = nextHole.value
      nextHole = holes.next()
    }
    if (action.atMs > until) return
    yield action
  }
}

/** The first `count` actions of {@link faultSchedule} (all of them when fewer), as an array. */
export function planSchedule (plan: FaultPlan, seed: number, count = DEFAULT_MAX_FAULTS): FaultAction[] {
  const out: FaultAction[] = []
  if (count <= 0) return out
  for (const action of faultSchedule(plan, seed)) {
    out.push(action)
    if (out.length >= count) break
  }
  return out
}
