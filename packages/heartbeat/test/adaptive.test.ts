import { FrameType } from '@proto/codec'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { TIMER_GRID_SLOT } from '../src/constants.js'
import type { HeartbeatDuplex, HeartbeatEvents, HeartbeatInit } from '../src/index.js'
import { DEFAULT_GROW_AFTER, intervalMemory } from '../src/index.js'
import { on } from './helpers/events.js'
import type { ScriptedLink } from './helpers/link.js'
import { stagesOnScriptedLink } from './helpers/stage-pair.js'

/** Start at 1 s, between 250 ms and 8 s; timeout 3 s at 1 s: grace (3 − 1) × 250 = 500 ms. */
const MIN = 250
const MAX = 8000
const GRACE = 500
const DELAY = 10
/** `a` never yields when pings cross, `b` always does: `a` pings for both (deterministic). */
const A: HeartbeatInit = { hello: true, interval: 1000, timeout: 3000, adaptiveInterval: { min: MIN, max: MAX, random: () => 0.9 } }
const B: HeartbeatInit = { hello: true, interval: 1000, timeout: 3000, adaptiveInterval: { min: MIN, max: MAX, random: () => 0 } }

type Change = HeartbeatEvents['interval'] & { at: number }

function record (hb: HeartbeatDuplex): Change[] {
  const changes: Change[] = []
  on(hb, 'interval', (d) => { changes.push({ ...d, at: performance.now() }) })
  return changes
}

/** Advances fake time in steps until `done()` or `limit` ms. */
async function until (done: () => boolean, limit: number, step = 10): Promise<void> {
  for (let t = 0; t < limit && !done(); t += step) await vi.advanceTimersByTimeAsync(step)
}

/** When `a` sent each of its pings, from the link's log. */
const pingTimes = (link: ScriptedLink, direction = 'a→b'): number[] => link.log.filter(e => e.direction === direction && e.frame.type === FrameType.PING).map(e => e.sentAt)

describe('adaptive interval between two stages (fake timers)', () => {
  const stages = stagesOnScriptedLink(DELAY)
  let link: ScriptedLink
  beforeEach(() => { link = stages.link })
  const pair = (a: HeartbeatInit = A, b: HeartbeatInit = B): [HeartbeatDuplex, HeartbeatDuplex] => stages.pair(a, b)

  it(`reaches max on a stable link after growAfter × ⌈log2(max / interval)⌉ on-time pongs (${DEFAULT_GROW_AFTER} × 3), then stays there`, async () => {
    const [a, b] = pair()
    const changes = record(a)
    let pongsAtMax = 0
    on(a, 'interval', (d) => { if (d.interval === MAX) pongsAtMax = a.stats().pongsReceived })
    await until(() => a.stats().interval === MAX, 60_000)
    expect(pongsAtMax).toBe(DEFAULT_GROW_AFTER * 3)
    expect(changes.map(c => [c.interval, c.reason])).toEqual([[2000, 'stable'], [4000, 'stable'], [MAX, 'stable']])
    expect(a.stats().intervalReason).toBe('stable')
    // the peer follows the announcements, and one side pings for both
    await vi.advanceTimersByTimeAsync(2 * MAX)
    expect(b.stats()).toMatchObject({ interval: MAX, intervalReason: 'peer' })
    const bPings = b.stats().pingsSent
    const aPings = a.stats().pingsSent
    await vi.advanceTimersByTimeAsync(100 * MAX)
    expect(changes).toHaveLength(3) // no oscillation on a steady link
    expect(a.stats().pingsSent - aPings).toBe(100)
    expect(b.stats().pingsSent).toBe(bPings)
    expect(a.stats().timeout).toBe(MAX + GRACE)
    expect(b.stats().timeout).toBe(MAX + GRACE)
  })

  it("crossing 'keep' and 'yield' settle the adaptive interval's crossing pings the same way, without a coin", async () => {
    const plain = { hello: true, interval: 1000, timeout: 3000 }
    const [a, b] = pair({ ...plain, crossing: 'keep', adaptiveInterval: { min: MIN, max: MAX } }, { ...plain, crossing: 'yield', adaptiveInterval: { min: MIN, max: MAX } })
    await vi.advanceTimersByTimeAsync(10_000)
    const bPings = b.stats().pingsSent
    const aPings = a.stats().pingsSent
    await vi.advanceTimersByTimeAsync(20_000)
    expect(a.stats().pingsSent).toBeGreaterThan(aPings)
    expect(b.stats().pingsSent).toBe(bPings)
  })

  it('drops to min at the first late pong, within one interval, and the peer follows', async () => {
    const [a, b] = pair()
    await until(() => a.stats().interval === MAX && b.stats().interval === MAX, 60_000)
    const changes = record(a)
    const peerChanges = record(b)
    const slowFrom = performance.now()
    // a pong 200 ms late (the median RTT is 20 ms), back before the next ping is due
    link.delay = (direction, frame) => direction === 'b→a' && frame.type === FrameType.PONG ? 200 : DELAY
    await until(() => changes.length > 0, 2 * MAX)
    const ping = pingTimes(link).filter(t => t >= slowFrom)[0]
    expect(changes[0]).toMatchObject({ interval: MIN, previous: MAX, reason: 'late-pong' })
    expect(changes[0].at - ping).toBe(200 + DELAY) // at the pong itself
    link.delay = () => DELAY
    await vi.advanceTimersByTimeAsync(MIN + 2 * DELAY)
    expect(peerChanges[0]).toMatchObject({ interval: MIN, reason: 'peer' })
    expect(a.stats().timeout).toBe(MIN + GRACE)
    expect(b.stats().timeout).toBe(MIN + GRACE)
  })

  it('drops to min when a pong is missing at the next ping (min after it), and keeps the timeout it had until a frame arrives', async () => {
    const [a] = pair()
    await until(() => a.stats().interval === MAX, 60_000)
    await vi.advanceTimersByTimeAsync(MAX)
    const changes = record(a)
    const stallFrom = performance.now()
    link.delay = direction => direction === 'b→a' ? 400 : DELAY
    await until(() => changes.length > 0, 2 * MAX, 1)
    const [first, second] = pingTimes(link).filter(t => t >= stallFrom)
    expect(second - first).toBe(MIN) // the next ping follows an unanswered one after min
    expect(changes[0]).toMatchObject({ interval: MIN, previous: MAX, reason: 'missed-pong' })
    expect(changes[0].at).toBe(second)
    // nothing arrived since: the silence already under way is still judged by the timeout it began with
    expect(a.stats().timeout).toBe(MAX + GRACE)
    link.delay = () => DELAY
    await vi.advanceTimersByTimeAsync(3 * MIN)
    expect(a.stats().timeout).toBe(MIN + GRACE)
    expect(a.stats().goAway).toBeUndefined()
  })

  it('detects a black hole on a poor link as fast as a fixed min interval does', async () => {
    /** How long after the black hole the peer was declared dead, and the silence it was judged by. */
    const detect = async (init: HeartbeatInit, peerInit: HeartbeatInit): Promise<{ after: number, silence: number }> => {
      link = stages.next()
      const [a] = pair(init, peerInit)
      await vi.advanceTimersByTimeAsync(60_000) // stable: the adaptive interval is at max
      // a jittery phase: every third pong is late; it lasts until the interval is down and 3 s more
      let n = 0
      link.delay = (direction, frame) => direction === 'b→a' && frame.type === FrameType.PONG && ++n % 3 === 0 ? 150 : DELAY
      await until(() => a.stats().interval === MIN, 60_000)
      await vi.advanceTimersByTimeAsync(3_000)
      link.blackHole(true)
      const from = performance.now()
      let at = Infinity
      let silence = Infinity
      on(a, 'timeout', (err) => {
        at = performance.now()
        silence = err.lastReceivedAge
      })
      await until(() => at < Infinity, 60_000, 1)
      return { after: at - from, silence }
    }
    const fixed = await detect({ hello: true, interval: MIN, timeout: 3 * MIN }, { hello: true, interval: MIN, timeout: 3 * MIN })
    const adaptive = await detect(A, B)
    // the same rule (3 × min of silence), and so found within the same bound after the black hole (its
    // phase against the last pong decides where in it)
    expect(adaptive.silence).toBeLessThanOrEqual(fixed.silence + TIMER_GRID_SLOT) // each verdict waits for its slot of the timer grid
    expect(fixed.after).toBeLessThanOrEqual(3 * MIN + 5 + TIMER_GRID_SLOT)
    expect(adaptive.after).toBeLessThanOrEqual(3 * MIN + 5 + TIMER_GRID_SLOT)
  })

  it('never pings the peer more often than its advertised minimum, even while probing a poor link', async () => {
    const minPing = 400
    const [a, b] = pair(A, { ...B, minPingInterval: minPing })
    await vi.advanceTimersByTimeAsync(100)
    expect(a.stats().intervalBounds).toEqual({ min: minPing, max: MAX })
    expect(b.stats().intervalBounds).toEqual({ min: minPing, max: MAX })
    // pongs late, and some so late that the next ping follows after the floor: everything that brings the
    // interval down, and the most pings a poor link can draw
    let n = 0
    link.delay = (direction, frame) => direction === 'b→a' && frame.type === FrameType.PONG ? (++n % 4 === 0 ? minPing + 50 : 5 * DELAY) : DELAY
    await vi.advanceTimersByTimeAsync(60_000)
    const times = pingTimes(link)
    expect(times.length).toBeGreaterThan(60)
    const gaps = times.slice(1).map((t, i) => t - times[i])
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(minPing)
    expect(b.stats().goAway).toBeUndefined()
    expect(a.stats().goAway).toBeUndefined()
    expect(a.stats().intervalReason).not.toBe('stable') // it was pushed down to the floor
  })

  it('both sides agree on the timeout: the larger grace, the shared bounds, the shared interval', async () => {
    const [a, b] = pair(
      { hello: true, interval: 1000, timeout: 3000, adaptiveInterval: { min: MIN, max: MAX, random: () => 0.9 } },
      // grace (5 − 1) × 300 = 1200, bounds [300, 4000]
      { hello: true, interval: 1000, timeout: 5000, adaptiveInterval: { min: 300, max: 4000, random: () => 0 } }
    )
    await vi.advanceTimersByTimeAsync(100)
    expect(a.stats().intervalBounds).toEqual({ min: 300, max: 4000 })
    expect(b.stats().intervalBounds).toEqual({ min: 300, max: 4000 })
    const seen: Array<[number, number]> = []
    for (let i = 0; i < 60; i++) {
      await vi.advanceTimersByTimeAsync(997)
      seen.push([a.stats().timeout, b.stats().timeout])
    }
    expect(seen.at(-1)).toEqual([4000 + 1200, 4000 + 1200])
    expect(seen.filter(([x, y]) => x !== y).length).toBeLessThanOrEqual(3) // only while an announcement crosses
    link.delay = (direction, frame) => direction === 'b→a' && frame.type === FrameType.PONG ? 500 : DELAY
    await vi.advanceTimersByTimeAsync(5000)
    link.delay = () => DELAY
    await vi.advanceTimersByTimeAsync(1000)
    expect([a.stats().interval, b.stats().interval]).toEqual([300, 300])
    expect([a.stats().timeout, b.stats().timeout]).toEqual([300 + 1200, 300 + 1200])
  })

  it('with a fixed peer: no announcements, the peer tolerates our longest silence, and we judge it by its own interval', async () => {
    const [a, b] = pair(A, { hello: true, interval: 1000, timeout: 3000 })
    await vi.advanceTimersByTimeAsync(100)
    // the fixed peer adopted max(its interval, our min) and max(its timeout, our max + grace) (version 1 rule)
    expect(b.stats()).toMatchObject({ interval: 1000, timeout: MAX + GRACE })
    expect(a.stats().timeout).toBe(1000 + GRACE)
    await vi.advanceTimersByTimeAsync(30_000)
    const pings = link.log.filter(e => e.frame.type === FrameType.PING)
    expect(pings.length).toBeGreaterThan(0)
    expect(pings.every(e => e.frame.body.byteLength === 8)).toBe(true)
    expect(a.stats().goAway).toBeUndefined()
  })

  it('finds the idle limit of a NAT across connections, a few lost connections at most, and settles under it', async () => {
    const NAT = 5000 // the mapping is gone after 5 s without a packet
    const memory = intervalMemory()
    const probing: HeartbeatInit = { hello: true, interval: 1000, timeout: 3000, adaptiveInterval: { min: MIN, max: 16_000, memory, probeIdleLimit: true, random: () => 0.9 } }
    const peer: HeartbeatInit = { hello: true, interval: 1000, timeout: 3000, adaptiveInterval: { min: MIN, max: 16_000, random: () => 0 } }
    const lostAfter: number[] = []
    let settled: HeartbeatDuplex | undefined
    for (let connection = 0; connection < 10 && settled === undefined; connection++) {
      link = stages.next()
      let lastPacket = performance.now()
      link.admit = () => {
        const now = performance.now()
        if (now - lastPacket > NAT) link.blackHole(true)
        lastPacket = now
        return true
      }
      const [a] = pair(probing, peer)
      let lost = false
      on(a, 'timeout', () => { lost = true })
      await until(() => lost, 300_000, 50)
      if (lost) lostAfter.push(Math.max(...link.log.filter(e => e.direction === 'a→b' && e.frame.type === FrameType.PING).map(e => e.sentAt)))
      else settled = a
    }
    expect(settled).toBeDefined()
    // a binary search: a gap of 8 s failed, then about 6 and 5.4 s; 4.95 s survives and is where it stays
    expect(lostAfter.length).toBeGreaterThanOrEqual(1)
    expect(lostAfter.length).toBeLessThanOrEqual(5)
    const { survived, failed } = memory.snapshot().idleLimit
    expect(survived).toBeLessThanOrEqual(NAT)
    expect(failed).toBeGreaterThan(NAT)
    expect(failed - survived).toBeLessThanOrEqual(0.1 * failed)
    expect(settled?.stats().interval).toBeGreaterThan(0.9 * NAT)
    expect(settled?.stats().interval).toBeLessThanOrEqual(NAT)
  })
})
