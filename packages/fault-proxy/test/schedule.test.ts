import { describe, expect, it } from 'vitest'
import type { FaultPlan } from '../src/index.js'
import { faultSchedule, planSchedule, seededRandom } from '../src/index.js'

describe('seededRandom', () => {
  it('replays the same sequence for the same seed and differs across seeds', () => {
    const a = seededRandom(42)
    const b = seededRandom(42)
    const c = seededRandom(43)
    const seqA = Array.from({ length: 100 }, () => a.next())
    const seqB = Array.from({ length: 100 }, () => b.next())
    const seqC = Array.from({ length: 100 }, () => c.next())
    expect(seqA).toEqual(seqB)
    expect(seqA).not.toEqual(seqC)
    for (const x of seqA) expect(x >= 0 && x < 1).toBe(true)
  })

  it('draws integers in the inclusive range, hitting both ends', () => {
    const r = seededRandom(1)
    const seen = new Set<number>()
    for (let i = 0; i < 2000; i++) {
      const n = r.int(3, 9)
      expect(Number.isInteger(n) && n >= 3 && n <= 9).toBe(true)
      seen.add(n)
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7, 8, 9])
  })

  it('forks depend on the seed and label, not on draws made before', () => {
    const a = seededRandom(5)
    const b = seededRandom(5)
    for (let i = 0; i < 10; i++) b.next()
    expect(a.fork(1).next()).toBe(b.fork(1).next())
    expect(a.fork(1).next()).not.toBe(a.fork(2).next())
  })
})

const plan: FaultPlan = {
  cutEvery: [100, 400],
  cutMode: 'mixed',
  blackHoleEvery: [200, 800],
  blackHoleFor: [50, 300],
  maxFaults: 200
}

describe('faultSchedule', () => {
  it('is a pure function of plan and seed', () => {
    const one = planSchedule(plan, 1234)
    const two = planSchedule(plan, 1234)
    expect(one).toHaveLength(200)
    expect(two).toEqual(one)
    expect(planSchedule(plan, 1235)).not.toEqual(one)
  })

  it('keeps each timeline stable when the other is switched off', () => {
    const both = planSchedule(plan, 9)
    const cutsOnly = planSchedule({ cutEvery: [100, 400], cutMode: 'mixed', maxFaults: 1000 }, 9)
    const bothCuts = both.filter(a => a.type === 'cut')
    expect(cutsOnly.slice(0, bothCuts.length)).toEqual(bothCuts)
  })

  it('is in time order, within the ranges, with black holes that never overlap', () => {
    const actions = planSchedule(plan, 77)
    let lastAt = 0
    let lastCut = 0
    let holeEnd = 0
    const modes = new Set<string>()
    for (const a of actions) {
      expect(a.atMs).toBeGreaterThanOrEqual(lastAt)
      lastAt = a.atMs
      if (a.type === 'cut') {
        expect(a.atMs - lastCut).toBeGreaterThanOrEqual(100)
        expect(a.atMs - lastCut).toBeLessThanOrEqual(400)
        lastCut = a.atMs
        modes.add(a.mode)
      } else {
        expect(a.atMs - holeEnd).toBeGreaterThanOrEqual(200)
        expect(a.atMs - holeEnd).toBeLessThanOrEqual(800)
        expect(a.durationMs).toBeGreaterThanOrEqual(50)
        expect(a.durationMs).toBeLessThanOrEqual(300)
        holeEnd = a.atMs + a.durationMs
      }
    }
    expect(modes).toEqual(new Set(['fin', 'reset']))
    expect(actions.some(a => a.type === 'black-hole')).toBe(true)
  })

  it('uses a fixed cut mode when asked', () => {
    const actions = planSchedule({ cutEvery: [10, 20], cutMode: 'reset', maxFaults: 50 }, 3)
    expect(actions.every(a => a.type === 'cut' && a.mode === 'reset')).toBe(true)
  })

  it('is bounded by maxFaults and durationMs', () => {
    expect(planSchedule({ cutEvery: [1, 1] }, 1)).toHaveLength(10_000)
    expect(planSchedule({ cutEvery: [1, 1], maxFaults: 7 }, 1)).toHaveLength(7)
    const timed = planSchedule({ cutEvery: [10, 10], durationMs: 95 }, 1)
    expect(timed.map(a => a.atMs)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90])
    expect(planSchedule({}, 1)).toEqual([])
    expect(planSchedule(plan, 1, 3)).toHaveLength(3)
  })

  it.each<[string, FaultPlan]>([
    ['reversed range', { cutEvery: [10, 5] }],
    ['all-zero cut interval', { cutEvery: [0, 0] }],
    ['a cut interval below 1 ms (every action at 0 ms)', { cutEvery: [0, 0.5] }],
    ['a range without a whole millisecond in it', { cutEvery: [0.2, 0.8] }],
    ['black holes every 0 ms lasting 0 ms, in fractions', { blackHoleEvery: [0, 0.5], blackHoleFor: [0, 0.5] }],
    ['negative time', { blackHoleEvery: [-1, 5], blackHoleFor: [1, 2] }],
    ['black hole without duration', { blackHoleEvery: [1, 2] }],
    ['unknown cut mode', { cutEvery: [1, 2], cutMode: 'rst' as 'reset' }],
    ['bad fragment', { fragment: { min: 0, max: 10 } }],
    ['fragment max below min', { fragment: { min: 10, max: 5 } }],
    ['fractional maxFaults', { cutEvery: [1, 2], maxFaults: 1.5 }],
    ['negative throttle', { throttle: -1 }]
  ])('rejects an invalid plan: %s', (_, bad) => {
    expect(() => faultSchedule(bad, 1).next()).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })
})
