import { describe, expect, it } from 'vitest'
import { isJittery, isLate } from '../src/adaptive-policy.js'
import type { IntervalReason } from '../src/index.js'
import { DEFAULT_GROW_AFTER, MAX_GROWTH_PENALTY } from '../src/index.js'
import { IntervalController } from '../src/interval.js'
import { RttRing } from '../src/rtt.js'

/** A controller over [100, 1600] starting at 400, recording its changes. */
function controller (start = 400, cap = (): number => Infinity): { c: IntervalController, changes: Array<[number, IntervalReason]> } {
  const changes: Array<[number, IntervalReason]> = []
  const c = new IntervalController(start, 'configured', 100, 1600, { growAfter: DEFAULT_GROW_AFTER, growFactor: 2 }, cap, {
    changed (next, _previous, reason) { changes.push([next, reason]) }
  })
  return { c, changes }
}

/** On-time pongs until the value stops moving; returns how many it took to reach `target`. */
function pongsTo (c: IntervalController, target: number, limit = 1000): number {
  for (let n = 1; n <= limit; n++) {
    c.onTime(false)
    if (c.value === target) return n
  }
  return Infinity
}

describe('the adaptive interval as a state machine', () => {
  it('grows one step per growAfter on-time pongs, to the ceiling, and stays there', () => {
    const { c, changes } = controller()
    // growAfter × ⌈log2(1600 / 400)⌉ = 3 × 2 pongs (README: how long a stable link takes to reach max)
    expect(pongsTo(c, 1600)).toBe(6)
    expect(changes).toEqual([[800, 'stable'], [1600, 'stable']])
    for (let i = 0; i < 300; i++) c.onTime(false)
    expect(changes).toHaveLength(2) // no oscillation on a steady link
  })

  it('drops to the floor at once on a late pong, a missed pong or stalled writes', () => {
    for (const reason of ['late-pong', 'missed-pong', 'write-stall'] as const) {
      const { c, changes } = controller(1600)
      c.poor(reason)
      expect(c.value).toBe(100)
      expect(changes).toEqual([[100, reason]])
    }
  })

  it('halves on jitter once when it appears, then only blocks growth until it is gone', () => {
    const { c, changes } = controller(1600)
    c.onTime(true)
    expect(c.value).toBe(800)
    for (let i = 0; i < 20; i++) c.onTime(true)
    expect(changes).toEqual([[800, 'jitter']])
    c.onTime(false) // calm again: growth resumes, after the longer run the penalty asks for
    c.poor('jitter')
    expect(c.value).toBe(400)
  })

  it('asks for a longer run after each sign of trouble (hysteresis), up to 2^MAX_GROWTH_PENALTY times, and forgives step by step', () => {
    const { c } = controller(100)
    c.poor('late-pong')
    expect(c.needed).toBe(DEFAULT_GROW_AFTER * 2)
    for (let i = 0; i < 10; i++) c.poor('late-pong')
    expect(c.needed).toBe(DEFAULT_GROW_AFTER * 2 ** MAX_GROWTH_PENALTY)
    expect(pongsTo(c, 200)).toBe(DEFAULT_GROW_AFTER * 2 ** MAX_GROWTH_PENALTY)
    expect(c.needed).toBe(DEFAULT_GROW_AFTER * 2 ** (MAX_GROWTH_PENALTY - 1))
  })

  it('a link that fails every few pongs stays near the floor instead of oscillating', () => {
    const { c } = controller(100)
    const values: number[] = []
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 5; i++) c.onTime(false)
      c.poor('late-pong')
      values.push(c.value)
    }
    expect(Math.max(...values.slice(10))).toBe(100)
  })

  it('stops growing at the learned idle limit', () => {
    const { c, changes } = controller(400, () => 1000)
    expect(pongsTo(c, 1000)).toBe(6)
    expect(changes).toEqual([[800, 'stable'], [1000, 'idle-limit']])
    for (let i = 0; i < 30; i++) c.onTime(false)
    expect(c.value).toBe(1000)
  })

  it('adopts what the peer announces, within its bounds, and only says so when the value changes', () => {
    const { c, changes } = controller()
    c.adopt(5000)
    c.adopt(1600)
    c.adopt(50)
    expect(changes).toEqual([[1600, 'peer'], [100, 'peer']])
  })

  it('clamps into new bounds (HELLO)', () => {
    const { c, changes } = controller(400)
    c.bound(500, 900)
    expect(changes).toEqual([[500, 'hello']])
    expect([c.floor, c.ceiling]).toEqual([500, 900])
  })
})

describe('judging round trips', () => {
  const ring = (...rtts: number[]): RttRing => {
    const r = new RttRing(32)
    for (const rtt of rtts) r.add(rtt)
    return r
  }

  it('a pong is late when it is more than twice the median RTT and more than jitter above it', () => {
    expect(isLate(ring(), 500, 100)).toBe(false) // nothing to compare with yet
    expect(isLate(ring(20, 20, 20), 121, 100)).toBe(true)
    expect(isLate(ring(20, 20, 20), 120, 100)).toBe(false) // not more than jitter above
    expect(isLate(ring(200, 200, 200), 399, 100)).toBe(false) // not twice the median
    expect(isLate(ring(0.2, 0.2, 0.2), 5, 100)).toBe(false) // a LAN moving by milliseconds is steady
  })

  it('the spread is high when the p90 is more than twice the p10 and more than jitter above it, over at least 4 samples', () => {
    expect(isJittery(ring(20, 300, 300), 100)).toBe(false) // too few samples
    expect(isJittery(ring(20, 20, 20, 20, 20, 20, 20, 20, 300, 300), 100)).toBe(true)
    expect(isJittery(ring(20, 20, 20, 20, 20, 20, 20, 20, 20, 300), 100)).toBe(false) // one spike in ten is not a spread
    expect(isJittery(ring(20, 20, 20, 20, 20, 20, 20, 20, 110, 110), 100)).toBe(false)
    // a link jumping between two RTTs is jittery even when the slow one holds most samples (its median)
    expect(isJittery(ring(20, 20, 20, 20, 170, 170, 170, 170, 170, 170), 100)).toBe(true)
    expect(isJittery(ring(150, 150, 150, 150, 150, 150, 150, 150, 160, 170), 100)).toBe(false) // slow but steady
  })
})
