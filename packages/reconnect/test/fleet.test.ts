import { describe, expect, it } from 'vitest'
import type { BackoffInit } from '../src/index.js'
import { backoff } from '../src/index.js'
import { seededRandom } from './helpers/random.js'

const FLEET = 10_000
const OUTAGE = 300_000
const WINDOW = 100

interface FleetResult {
  attempts: number
  /** Most attempts in one 100 ms window, over the whole outage. */
  peak: number
  /** Most attempts in one window once the schedule has settled at its cap (after 120 s). */
  steadyPeak: number
  steadyMean: number
  /** Clients reconnecting in the busiest 100 ms window after the server comes back. */
  recoveryPeak: number
  /** 99th percentile of the time from recovery to reconnect (ms). */
  p99Recovery: number
}

/**
 * 10 000 clients lose the server at t = 0; it refuses every attempt at once until `OUTAGE`, then accepts.
 * Each client follows the schedule exactly as the durable duplex does (attempt 1 is already delayed).
 * Pure computation: no sockets, no timers.
 */
function simulate (init: BackoffInit, seed = 42): FleetResult {
  const random = seededRandom(seed)
  const schedule = backoff({ ...init, random })
  const buckets = new Int32Array(Math.ceil(OUTAGE / WINDOW))
  const recovery = new Map<number, number>()
  const waits: number[] = []
  let attempts = 0
  for (let c = 0; c < FLEET; c++) {
    let t = 0
    let prev = 0
    for (let attempt = 1; ; attempt++) {
      prev = schedule(attempt, prev, undefined)
      t += prev
      if (t >= OUTAGE) {
        const w = Math.floor((t - OUTAGE) / WINDOW)
        recovery.set(w, (recovery.get(w) ?? 0) + 1)
        waits.push(t - OUTAGE)
        break
      }
      attempts++
      buckets[Math.floor(t / WINDOW)]++
    }
  }
  const steady = buckets.subarray(120_000 / WINDOW)
  waits.sort((a, b) => a - b)
  return {
    attempts,
    peak: Math.max(...buckets),
    steadyPeak: Math.max(...steady),
    steadyMean: steady.reduce((s, n) => s + n, 0) / steady.length,
    recoveryPeak: Math.max(...recovery.values()),
    p99Recovery: waits[Math.floor(waits.length * 0.99)]
  }
}

describe('fleet simulation: 10 000 clients lose the server at the same instant', () => {
  it('a deterministic schedule retries in lock-step (the failure this guards against)', () => {
    const r = simulate({ jitter: 'none' })
    expect(r.peak).toBe(FLEET)
    expect(r.recoveryPeak).toBe(FLEET)
  })

  it('the default schedule (full jitter, 500 ms → 30 s cap) spreads the fleet', () => {
    const r = simulate({})
    console.log('default schedule', r)
    // The busiest window is the first: ~1/5 of the fleet's first delays U[0, 500) fall in it, plus early
    // second and third attempts (≈ 30 % in one run). No window ever holds the fleet, and from the cap on
    // each window holds well under 1 %, as does the busiest window after the server comes back.
    expect(r.peak).toBeLessThan(FLEET * 0.35)
    expect(r.steadyPeak).toBeLessThan(FLEET * 0.01)
    expect(r.steadyMean).toBeLessThan(FLEET * 0.008)
    expect(r.recoveryPeak).toBeLessThan(FLEET * 0.01)
    expect(r.p99Recovery).toBeLessThan(30_000)
  })

  it.each([['equal'], ['decorrelated']] as const)('%s jitter also keeps every window well below the fleet', (jitter) => {
    const r = simulate({ jitter })
    console.log(jitter, r)
    expect(r.peak).toBeLessThan(FLEET * 0.5)
    expect(r.steadyPeak).toBeLessThan(FLEET * 0.02)
    expect(r.recoveryPeak).toBeLessThan(FLEET * 0.02)
  })

  it('a larger first delay keeps even the first second below 10 % of the fleet per window', () => {
    const r = simulate({ initialDelay: 2_000 })
    console.log('initialDelay 2000', r)
    expect(r.peak).toBeLessThan(FLEET * 0.1)
  })
})
