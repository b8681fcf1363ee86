import { describe, expect, it } from 'vitest'
import { createThrottle, seededRandom } from '../src/index.js'

describe('createThrottle', () => {
  it('is unlimited for 0 and Infinity', () => {
    for (const rate of [0, Infinity]) {
      const t = createThrottle(rate)
      expect(t.rate).toBe(Infinity)
      expect(t.reserve(1e9, 0)).toBe(0)
    }
  })

  it('never grants more than burst + rate × time, and grants that much when asked continuously', () => {
    const rate = 10_000
    const t = createThrottle(rate)
    expect(t.slice).toBe(500)
    const random = seededRandom(11)
    let now = 0
    let granted = 0
    // A writer that books random slices, waits what it is told, then writes.
    for (let i = 0; i < 2000; i++) {
      const bytes = random.int(1, t.slice)
      now += t.reserve(bytes, now)
      granted += bytes
      expect(granted).toBeLessThanOrEqual(t.burst + rate * now / 1000 + 1e-6)
      if (random.next() < 0.05) now += random.int(0, 200) // idle now and then
    }
    // Back-to-back slices from idle reach the rate (within one slice).
    const u = createThrottle(rate)
    let at = 0
    let sent = 0
    while (at < 1000) { at += u.reserve(u.slice, at); sent += u.slice }
    expect(sent).toBeGreaterThanOrEqual(rate)
    expect(sent).toBeLessThanOrEqual(rate + 2 * u.slice)
  })
})
