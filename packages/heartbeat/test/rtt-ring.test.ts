import { heapPerObject } from '@proto/stage-compliance'
import { describe, expect, it } from 'vitest'
import { RttRing } from '../src/rtt.js'

/** The nearest-rank `q` quantile of `xs`. */
function nearestRank (xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1))]
}

/** A deterministic stream of round trips between 0.05 and 500 ms. */
function samples (n: number, seed = 7): number[] {
  const out: number[] = []
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648
    out.push(0.05 + (x / 2_147_483_648) * 500)
  }
  return out
}

describe('RTT ring', () => {
  it('reports the statistics of the last `capacity` samples, before, across and after each widening and once it wraps', () => {
    for (const capacity of [1, 3, 15, 16, 17, 32, 40, 100]) {
      const ring = new RttRing(capacity)
      expect(ring.stats()).toEqual({ last: undefined, min: undefined, mean: undefined, p99: undefined, samples: 0 })
      expect(ring.spread()).toBeUndefined()
      const all = samples(3 * capacity + 5, capacity)
      for (let n = 1; n <= all.length; n++) {
        ring.add(all[n - 1])
        const kept = all.slice(Math.max(0, n - capacity), n)
        const stats = ring.stats()
        expect(stats.samples).toBe(kept.length)
        expect(stats.last).toBe(all[n - 1])
        expect(stats.min).toBe(Math.min(...kept))
        expect(stats.mean).toBeCloseTo(kept.reduce((a, b) => a + b, 0) / kept.length, 9)
        expect(stats.p99).toBe(nearestRank(kept, 0.99))
        expect(ring.quantile(0.5)).toBe(nearestRank(kept, 0.5))
        expect(ring.spread()).toEqual({ p10: nearestRank(kept, 0.1), p50: nearestRank(kept, 0.5), p90: nearestRank(kept, 0.9) })
      }
    }
  })

  it('holds a full ring of the default 32 samples in its 32 slots, without the slack of an array grown by push', () => {
    const n = 20_000
    const rtts = samples(32)
    let made = 0
    const perRing = heapPerObject(n, () => {
      const ring = new RttRing(32)
      for (const rtt of rtts) ring.add(rtt)
      made++
      return ring
    })
    expect(made).toBe(n)
    // 0.38 KiB: the ring object, its array, and 32 slots of doubles with their header (0.27 KiB); grown by
    // push, the array holds 40 slots and a ring takes 0.47 KiB
    expect(perRing).toBeLessThan(440)
  })
})
