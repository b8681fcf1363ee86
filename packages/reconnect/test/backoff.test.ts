import { describe, expect, it } from 'vitest'
import type { JitterStrategy } from '../src/index.js'
import { backoff, delayCeiling } from '../src/index.js'
import { seededRandom } from './helpers/random.js'

/** Runs `n` consecutive attempts of a schedule, feeding each delay back as `previousDelay`. */
function run (schedule: ReturnType<typeof backoff>, n: number): number[] {
  const out: number[] = []
  let prev = 0
  for (let attempt = 1; attempt <= n; attempt++) {
    prev = schedule(attempt, prev, undefined)
    out.push(prev)
  }
  return out
}

describe('backoff schedule', () => {
  it('grows the ceiling by factor and caps it: 500, 1000, 2000 … 30000', () => {
    const none = backoff({ jitter: 'none' })
    expect(run(none, 9)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000])
    expect(delayCeiling(1, 500, 2, 30_000)).toBe(500)
    expect(delayCeiling(7, 500, 2, 30_000)).toBe(30_000)
  })

  it('applies the cap before the jitter: full jitter at the cap spreads over [1, cap)', () => {
    const schedule = backoff({ random: seededRandom(1) })
    const atCap = run(schedule, 2_000).slice(100)
    expect(Math.max(...atCap)).toBeLessThan(30_000)
    expect(Math.max(...atCap)).toBeGreaterThan(29_000)
    expect(Math.min(...atCap)).toBeLessThan(1_000)
    // Uniform on [0, 30000): mean 15000, and no value repeats often (no lock-step at the cap).
    const mean = atCap.reduce((s, d) => s + d, 0) / atCap.length
    expect(mean).toBeGreaterThan(14_000)
    expect(mean).toBeLessThan(16_000)
    const counts = new Map<number, number>()
    for (const d of atCap) counts.set(d, (counts.get(d) ?? 0) + 1)
    expect(Math.max(...counts.values())).toBeLessThan(5)
    const cap = atCap.filter(d => d === 30_000).length
    expect(cap).toBe(0)
  })

  it.each<[JitterStrategy, number, number]>([
    ['full', 1, 30_000],
    ['equal', 15_000, 30_000],
    ['decorrelated', 500, 30_000]
  ])('%s jitter stays within [%d, %d] and keeps its spread at the cap', (jitter, lo, hi) => {
    const delays = run(backoff({ jitter, random: seededRandom(7) }), 3_000).slice(200)
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(lo)
    expect(Math.max(...delays)).toBeLessThanOrEqual(hi)
    expect(new Set(delays).size).toBeGreaterThan(delays.length / 2)
  })

  it('never returns 0, a negative, NaN or a value above the cap, even after 10 000 attempts', () => {
    const extremes = [() => 0, () => 0.999999999999, () => 1, () => -1, () => Number.NaN]
    for (const jitter of ['full', 'equal', 'decorrelated', 'none'] as const) {
      for (const random of [seededRandom(3), ...extremes]) {
        const schedule = backoff({ jitter, random })
        for (const attempt of [1, 2, 54, 1_017, 1_100, 10_000, 1e9, Number.MAX_SAFE_INTEGER]) {
          const d = schedule(attempt, 30_000, undefined)
          expect(Number.isInteger(d)).toBe(true)
          expect(d).toBeGreaterThanOrEqual(1)
          expect(d).toBeLessThanOrEqual(30_000)
        }
        expect(run(schedule, 10_000).filter(d => !(Number.isInteger(d) && d >= 1 && d <= 30_000))).toEqual([])
      }
    }
  })

  it('keeps a steep factor from overflowing: the ceiling is the cap, never Infinity or NaN', () => {
    const schedule = backoff({ factor: 1e6, jitter: 'none', random: seededRandom(1) })
    expect(run(schedule, 10_000).every(d => d === 30_000 || d === 500)).toBe(true)
    expect(delayCeiling(10_000, 500, 1e6, 30_000)).toBe(30_000)
  })

  it('passes attempt, previous delay and reason to a custom delay hook and clamps its result', () => {
    const seen: Array<[number, number, string | undefined]> = []
    const schedule = backoff({
      maxDelay: 5_000,
      delay: (attempt, prev, reason) => {
        seen.push([attempt, prev, reason?.message])
        return attempt === 1 ? -5 : attempt === 2 ? Number.NaN : attempt * 1_000_000
      }
    })
    expect(schedule(1, 0, new Error('refused'))).toBe(1)
    expect(schedule(2, 1, undefined)).toBe(5_000)
    expect(schedule(3, 5_000, undefined)).toBe(5_000)
    expect(seen).toEqual([[1, 0, 'refused'], [2, 1, undefined], [3, 5_000, undefined]])
  })

  it('shares one schedule between the same plain settings, never one with its own random or delay', () => {
    expect(backoff({ jitter: 'none', initialDelay: 7, maxDelay: 70 })).toBe(backoff({ maxDelay: 70, initialDelay: 7, jitter: 'none' }))
    expect(backoff({ jitter: 'none', initialDelay: 7, maxDelay: 70 })).not.toBe(backoff({ jitter: 'none', initialDelay: 7, maxDelay: 71 }))
    const random = seededRandom(1)
    expect(backoff({ initialDelay: 7, random })).not.toBe(backoff({ initialDelay: 7, random }))
    const delay = (): number => 5
    expect(backoff({ initialDelay: 7, delay })).not.toBe(backoff({ initialDelay: 7, delay }))
  })

  it('a shared schedule draws from Math.random as it is at each call (a stub installed later is used)', () => {
    const shared = backoff({ jitter: 'full', initialDelay: 1000, maxDelay: 1000 })
    const real = Math.random
    try {
      Math.random = () => 0.5
      expect(backoff({ jitter: 'full', initialDelay: 1000, maxDelay: 1000 })).toBe(shared)
      expect(shared(1, 0, undefined)).toBe(500)
      Math.random = () => 0.25
      expect(shared(1, 0, undefined)).toBe(250)
    } finally {
      Math.random = real
    }
  })

  it('rejects bad options at once with InvalidParametersError', () => {
    const bad = [
      { initialDelay: 0 }, { initialDelay: -1 }, { initialDelay: Number.NaN }, { factor: 0.5 },
      { maxDelay: 100, initialDelay: 200 }, { maxDelay: 2 ** 31 }, { minDelay: 0.5 },
      { jitter: 'sometimes' as JitterStrategy }, { random: 4 as unknown as () => number }
    ]
    for (const init of bad) {
      expect(() => backoff(init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    }
  })

  it('a delay function of its own needs no initialDelay under maxDelay (it shapes nothing then); the clamp still holds', () => {
    const delay = backoff({ delay: () => 1_000, maxDelay: 40 })
    expect(delay(1, 0, new Error('x'))).toBe(40)
    expect(() => backoff({ delay: () => 1, maxDelay: 5, minDelay: 10 })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })
})
