import { FrameType } from '@proto/codec'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { TIMER_GRID_SLOT } from '../src/constants.js'
import type { HeartbeatDuplex, HeartbeatInit } from '../src/index.js'
import { heartbeat } from '../src/index.js'
import { on } from './helpers/events.js'
import type { Direction, ScriptedLink } from './helpers/link.js'
import { stagesOnScriptedLink } from './helpers/stage-pair.js'

const INTERVAL = 1000
const TIMEOUT = 3000
/** How much later the side that yields pings: a quarter of the slack between interval and timeout. */
const YIELD = (TIMEOUT - INTERVAL) / 4
const DELAY = 10
/** `a` never yields when pings cross, `b` always does: deterministic. */
const A: HeartbeatInit = { hello: true, interval: INTERVAL, timeout: TIMEOUT, random: () => 0.9 }
const B: HeartbeatInit = { hello: true, interval: INTERVAL, timeout: TIMEOUT, random: () => 0 }

const sent = (link: ScriptedLink, direction: Direction, type: number): number[] =>
  link.log.filter(e => e.direction === direction && e.frame.type === type).map(e => e.sentAt)

describe('pings that cross, fixed interval (fake timers)', () => {
  const stages = stagesOnScriptedLink(DELAY)
  let link: ScriptedLink
  beforeEach(() => { link = stages.link })
  const pair = (a: HeartbeatInit, b: HeartbeatInit): [HeartbeatDuplex, HeartbeatDuplex] => stages.pair(a, b)

  it('with HELLO, the side the coin picks yields after the first crossing: one ping per interval for both, every ping answered', async () => {
    const [a, b] = pair(A, B)
    // started together, both ping after the first interval: the pings cross
    await vi.advanceTimersByTimeAsync(INTERVAL + TIMER_GRID_SLOT + 2 * DELAY)
    expect(a.stats().pingsSent).toBe(1)
    expect(b.stats().pingsSent).toBe(1)

    const before = { a: a.stats(), b: b.stats() }
    await vi.advanceTimersByTimeAsync(100 * INTERVAL)
    const now = { a: a.stats(), b: b.stats() }
    expect(now.b.pingsSent).toBe(before.b.pingsSent) // b only answers
    expect(now.a.pingsSent - before.a.pingsSent).toBeGreaterThanOrEqual(99)
    expect(now.a.pingsSent - before.a.pingsSent).toBeLessThanOrEqual(100)
    // the ledger: every ping of a's answered by b and matched by a
    expect(now.b.pongsSent - before.b.pongsSent).toBe(now.a.pingsSent - before.a.pingsSent)
    expect(now.a.pongsReceived).toBe(now.a.pingsSent)
    expect(now.a.missed).toBe(0)
    expect(now.a.rtt.last).toBe(2 * DELAY)
    // what both report is the interval agreed by HELLO, not the yielding side's longer gap
    expect(now.b.interval).toBe(INTERVAL)
    expect(now.b.timeout).toBe(TIMEOUT)
    // a's pings stay one interval apart (the grid rounds each up by at most one slot)
    const gaps = sent(link, 'a→b', FrameType.PING).slice(-50).map((t, i, all) => i === 0 ? INTERVAL : t - all[i - 1])
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(INTERVAL)
      expect(gap).toBeLessThanOrEqual(INTERVAL + TIMER_GRID_SLOT)
    }
  })

  const unsettled: Array<[string, HeartbeatInit]> = [
    ['without HELLO nothing is settled: both sides keep pinging (a peer may not know our timeout)', { hello: false }],
    ['nor with the RTT-adaptive timeout, which each side moves on its own', { adaptive: { min: 2000, max: 6000 } }]
  ]
  for (const [name, change] of unsettled) {
    it(name, async () => {
      const [a, b] = pair({ ...A, ...change }, { ...B, ...change })
      await vi.advanceTimersByTimeAsync(INTERVAL + TIMER_GRID_SLOT + 2 * DELAY)
      const before = { a: a.stats().pingsSent, b: b.stats().pingsSent }
      await vi.advanceTimersByTimeAsync(20 * INTERVAL)
      expect(a.stats().pingsSent - before.a).toBeGreaterThanOrEqual(19)
      expect(b.stats().pingsSent - before.b).toBeGreaterThanOrEqual(19)
    })
  }

  it('a side that yielded pings again, a quarter of the slack later, when the peer\'s pings stop; the peer never judges it dead', async () => {
    const [a, b] = pair(A, B)
    const timeouts: unknown[] = []
    on(a, 'timeout', (e) => { timeouts.push(e) })
    on(b, 'timeout', (e) => { timeouts.push(e) })
    await vi.advanceTimersByTimeAsync(10 * INTERVAL)
    const yielded = b.stats().pingsSent
    // a now sends data every 600 ms: its send clock never reaches the interval, so it stops pinging
    const writes = (async function * () {
      for (let i = 0; i < 20; i++) {
        yield { type: FrameType.DATA, body: new Uint8Array([i]) }
        await new Promise(resolve => setTimeout(resolve, 600))
      }
    })()
    void a.sink(writes)
    const from = link.log.length
    await vi.advanceTimersByTimeAsync(20 * 600)
    const later = link.log.slice(from)
    const bPings = later.filter(e => e.direction === 'b→a' && e.frame.type === FrameType.PING).map(e => e.sentAt)
    expect(bPings.length).toBeGreaterThanOrEqual(5)
    expect(b.stats().pingsSent).toBeGreaterThan(yielded)
    // the first of b's own pings went out a quarter of the slack after its last pong; then b is a plain
    // pinger again (its own ping ended the yield), one interval after its last send
    const lastPong = Math.max(...sent(link, 'b→a', FrameType.PONG).filter(t => t < bPings[0]))
    expect(bPings[0] - lastPong).toBeGreaterThanOrEqual(INTERVAL + YIELD)
    expect(bPings[0] - lastPong).toBeLessThanOrEqual(INTERVAL + YIELD + TIMER_GRID_SLOT)
    for (let i = 1; i < bPings.length; i++) expect(bPings[i] - bPings[i - 1]).toBeLessThanOrEqual(INTERVAL + TIMER_GRID_SLOT)
    expect(timeouts).toEqual([])
    expect(a.stats().missed + b.stats().missed).toBe(0)
  })

  it('with a fair coin on both sides, the pings settle to one per interval within a few crossings', async () => {
    let seed = 7
    // a small deterministic generator (a linear congruential one): the test never depends on luck
    const coin = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
    const [a, b] = pair({ ...A, random: coin }, { ...B, random: coin })
    await vi.advanceTimersByTimeAsync(30 * INTERVAL)
    const before = a.stats().pingsSent + b.stats().pingsSent
    await vi.advanceTimersByTimeAsync(50 * INTERVAL)
    const pings = a.stats().pingsSent + b.stats().pingsSent - before
    expect(pings).toBeGreaterThanOrEqual(49)
    expect(pings).toBeLessThanOrEqual(50)
    expect(a.stats().missed + b.stats().missed).toBe(0)
  })

  it("crossing 'keep' never yields and 'yield' always does, whatever the coin: the side that keeps pings for both", async () => {
    const [a, b] = pair({ ...A, random: () => 0, crossing: 'keep' }, { ...B, random: () => 0.9, crossing: 'yield' })
    await vi.advanceTimersByTimeAsync(INTERVAL + TIMER_GRID_SLOT + 2 * DELAY)
    const before = { a: a.stats().pingsSent, b: b.stats().pingsSent }
    await vi.advanceTimersByTimeAsync(50 * INTERVAL)
    expect(a.stats().pingsSent - before.a).toBeGreaterThanOrEqual(49)
    expect(b.stats().pingsSent).toBe(before.b)
    expect(a.stats().rtt.samples).toBeGreaterThanOrEqual(32)
  })

  it('two sides that both keep ping in step, each measuring the RTT (a tool that reports it)', async () => {
    const [a, b] = pair({ ...A, crossing: 'keep' }, { ...B, crossing: 'keep' })
    await vi.advanceTimersByTimeAsync(INTERVAL + TIMER_GRID_SLOT + 2 * DELAY)
    const before = { a: a.stats().pingsSent, b: b.stats().pingsSent }
    await vi.advanceTimersByTimeAsync(20 * INTERVAL)
    expect(a.stats().pingsSent - before.a).toBeGreaterThanOrEqual(19)
    expect(b.stats().pingsSent - before.b).toBeGreaterThanOrEqual(19)
    expect(b.stats().rtt.last).toBe(2 * DELAY)
  })

  const invalid: Array<[string, HeartbeatInit]> = [
    ['a random that is not a function', { random: 0.5 as unknown as () => number }],
    ['an unknown crossing', { crossing: 'sometimes' as 'toss' }]
  ]
  for (const [name, init] of invalid) {
    it(`rejects ${name}`, () => {
      expect(() => heartbeat(link.a, init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError', message: expect.stringContaining(Object.keys(init)[0]) }))
    })
  }
})
