import { describe, expect, it } from 'vitest'
import { pairRows, readTargets } from '../src/lib/target-lines.js'

/** The end of a run's output, as `run.js` prints it (progress lines, then the targets). */
const RUN = `  throughput 64 B round 5/5: proto 1.59 M
wrote bench/out/RESULTS.md in 271 s
  met    Throughput 64 B: full stack msg/s ÷ it-length-prefixed corked: 6.70× (target ≥ 5×)
  MISSED Throughput 64 B, sessions on ÷ off (same queue depths): 0.85× (target ≥ 0.9×)
  met    Echo 32 B: full stack p50 ÷ raw net p50: 1.13× (target ≤ 1.2×)
  met    Echo 32 B: p50 sessions on ÷ off: 1.07× (target ≤ 1.1×)
  met    Reconnect (suite check, not in DESIGN.md): worst server-back → first message: 136 ms (0.68× ceiling) (target ≤ ceiling 200 ms + 50 ms)
  MISSED 10000 idle: sessions on ÷ off, RSS/conn; heap/conn: 1.39×; 1.53× (target ≤ 1.1×)
`

describe('reading the targets a run prints', () => {
  it('takes each target whole: names that share a prefix or hold ": " stay apart, values give every ratio, and the direction comes from the target', () => {
    expect(readTargets(RUN)).toEqual([
      { name: 'Throughput 64 B: full stack msg/s ÷ it-length-prefixed corked', values: [6.7], higherIsBetter: true },
      { name: 'Throughput 64 B, sessions on ÷ off (same queue depths)', values: [0.85], higherIsBetter: true },
      { name: 'Echo 32 B: full stack p50 ÷ raw net p50', values: [1.13], higherIsBetter: false },
      { name: 'Echo 32 B: p50 sessions on ÷ off', values: [1.07], higherIsBetter: false },
      { name: 'Reconnect (suite check, not in DESIGN.md): worst server-back → first message', values: [0.68], higherIsBetter: false },
      { name: '10000 idle: sessions on ÷ off, RSS/conn; heap/conn', values: [1.39, 1.53], higherIsBetter: false }
    ])
  })

  it('skips every other line', () => {
    expect(readTargets('@proto bench (quick)\n  scale net round 1/1: 2000 live\nwrote x in 3 s\n')).toEqual([])
  })
})

describe('comparing the readings pair by pair', () => {
  const reading = (values: number[], higherIsBetter: boolean): { name: string, values: number[], higherIsBetter: boolean } => ({ name: 't', values, higherIsBetter })

  it('counts the pairs the head wins, in the direction the target asks for', () => {
    const higher = pairRows('t', [reading([0.8], true), reading([0.9], true)], [reading([0.85], true), reading([0.85], true)])
    expect(higher).toEqual([{ label: 't', base: [0.8, 0.9], head: [0.85, 0.85], headAhead: 1 }])
    const lower = pairRows('t', [reading([1.2], false), reading([1.1], false)], [reading([1.1], false), reading([1.0], false)])
    expect(lower?.[0]?.headAhead).toBe(2)
  })

  it('gives a row per ratio of a value that holds several, and pairs only as many runs as both sides have', () => {
    const rows = pairRows('t', [reading([1.4, 1.5], false), reading([1.3, 1.6], false), reading([1.0, 1.0], false)], [reading([1.35, 1.55], false), reading([1.35, 1.5], false)])
    expect(rows).toEqual([
      { label: 't (1 of 2)', base: [1.4, 1.3], head: [1.35, 1.35], headAhead: 1 },
      { label: 't (2 of 2)', base: [1.5, 1.6], head: [1.55, 1.5], headAhead: 1 }
    ])
  })

  it('has nothing to compare when only one side reported the target', () => {
    expect(pairRows('t', [reading([1], true)], [])).toBeUndefined()
    expect(pairRows('t', [], [reading([1], true)])).toBeUndefined()
  })
})
