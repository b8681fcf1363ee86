import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import { systemTimers } from '@proto/interface'
import { memoryBytePair, settle } from '@proto/stage-compliance'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { GridEntry } from '../src/grid.js'
import { sharedGrid, TimerGrid } from '../src/grid.js'
import { heartbeat } from '../src/index.js'
import { Timer } from '../src/timer.js'

/** Under fake timers: `Date.now()` moves with them. */
const clock = { now: () => Date.now() }

function entry (name: string, fired: Array<[string, number]>): GridEntry {
  return { slot: -1, fire: () => { fired.push([name, Date.now()]) } }
}

describe('the shared timer grid (fake timers)', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 0 }) })
  afterEach(() => { vi.useRealTimers() })

  it('timers due within one slot fire in one callback at its boundary, never early; one Node timer for all', () => {
    const grid = new TimerGrid(clock, 25)
    const fired: Array<[string, number]> = []
    grid.add(entry('a', fired), 3, 0)
    grid.add(entry('b', fired), 17, 0)
    grid.add(entry('c', fired), 25, 0)
    grid.add(entry('d', fired), 26, 0)
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(24)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual([['a', 25], ['b', 25], ['c', 25]])
    vi.advanceTimersByTime(25)
    expect(fired.slice(3)).toEqual([['d', 50]])
    expect(grid.armed).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a removed timer does not fire, and the Node timer goes with the last one', () => {
    const grid = new TimerGrid(clock, 25)
    const fired: Array<[string, number]> = []
    const a = entry('a', fired)
    const b = entry('b', fired)
    grid.add(a, 10, 0)
    grid.add(b, 60, 0)
    grid.remove(a)
    vi.advanceTimersByTime(50)
    expect(fired).toEqual([])
    grid.remove(b)
    expect(grid.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(100)
    expect(fired).toEqual([])
  })

  it('an earlier slot added later moves the one Node timer forward; adding again moves an entry to its new slot', () => {
    const grid = new TimerGrid(clock, 25)
    const fired: Array<[string, number]> = []
    const a = entry('a', fired)
    grid.add(entry('late', fired), 90, 0)
    grid.add(a, 200, 0)
    grid.add(entry('early', fired), 20, 0)
    grid.add(a, 40, 0)
    expect(grid.size).toBe(3)
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(300)
    expect(fired).toEqual([['early', 25], ['a', 50], ['late', 100]])
  })

  it("a stage's timer on the grid keeps the earliest moment asked for, never fires once cancelled, and reports no lag for the slot's rounding", () => {
    const grid = new TimerGrid(clock, 25)
    const calls: Array<[number, number]> = []
    const timer = new Timer(clock, systemTimers, { fired: (now, lag) => { calls.push([now, lag]) }, yielded: () => {} }, grid)
    timer.arm(10, 0)
    timer.arm(40, 0) // later: the earlier moment stands
    vi.advanceTimersByTime(25)
    expect(calls).toEqual([[25, 0]])
    timer.arm(60, 25)
    timer.cancel()
    vi.advanceTimersByTime(100)
    expect(calls).toEqual([[25, 0]])
    timer.arm(180, 125)
    timer.arm(130, 125) // earlier: moves to its slot
    vi.advanceTimersByTime(25)
    expect(calls).toEqual([[25, 0], [150, 0]])
    timer.arm(160, 150)
    timer.dispose()
    expect(grid.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('timers re-armed while their slot fires wait for a later slot, behind those already waiting', () => {
    const grid = new TimerGrid(clock, 25)
    const fired: Array<[string, number]> = []
    const again: GridEntry = { slot: -1, fire: () => { fired.push(['again', Date.now()]); if (fired.length < 3) grid.add(again, Date.now() + 30, Date.now()) } }
    grid.add(again, 5, 0)
    grid.add(entry('waiting', fired), 70, 0)
    vi.advanceTimersByTime(200)
    expect(fired).toEqual([['again', 25], ['waiting', 75], ['again', 75]])
  })
})

describe('stages on the system clock share the grid (real time)', () => {
  it('every stage waits on the one grid, and leaves it when it ends', async () => {
    const grid = sharedGrid()
    const before = grid.size
    const N = 20
    const pairs = Array.from({ length: N }, () => {
      const pair = memoryBytePair()
      return [heartbeat(codec(pair.a), { interval: 200, timeout: 5_000 }), heartbeat(codec(pair.b), { interval: 200, timeout: 5_000 })]
    })
    const reads = pairs.flat().map(async s => await settle((async () => { for await (const _ of s.source as AsyncIterable<Frame>) { /* none */ } })()))
    expect(grid.size).toBe(before + 2 * N)
    await expect.poll(() => pairs.every(([c]) => (c?.stats().pongsReceived ?? 0) >= 2), { timeout: 5_000 }).toBe(true)
    await Promise.all(pairs.flat().map(async (s) => { await s.close() }))
    await Promise.all(reads)
    expect(grid.size).toBe(before)
  })
})
