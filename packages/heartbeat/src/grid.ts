import type { Clock } from '@proto/interface'
import { systemClock, validate } from '@proto/interface'
import { TIMER_GRID_SLOT } from './constants.js'

/** What waits on the grid: the stage's `Timer`. */
export interface GridEntry {
  /** The slot it waits in (set by the grid), `-1` while it waits in none. */
  slot: number
  /** Its slot is due. */
  fire(): void
}

function fireGrid (grid: TimerGrid): void {
  grid.fire()
}

/**
 * The heartbeat timers of one process on a coarse shared grid. A timer due at `at` fires at the first slot
 * boundary at or after it (never earlier, at most one slot later), and every timer of a slot fires in the
 * same callback of one Node timer: with many connections, their pings leave in one turn of the event loop and
 * their pongs come back together, so one wake-up serves many sockets instead of one each. One Node timer is
 * armed for the earliest slot that has timers, `unref()`ed, and none while the grid is empty.
 */
export class TimerGrid {
  private readonly slots = new Map<number, Set<GridEntry>>()
  private timer: ReturnType<typeof setTimeout> | undefined
  private armedSlot = Infinity
  /** The timer functions in force when the grid was made (fake timers installed later get a grid of their own). */
  readonly setTimeoutFn = globalThis.setTimeout
  private readonly clearTimeoutFn = globalThis.clearTimeout

  /** `slotMs`: the width of one slot, in ms. */
  constructor (private readonly clock: Clock, readonly slotMs: number) {}

  /** Timers waiting, over all slots. */
  get size (): number {
    let n = 0
    for (const set of this.slots.values()) n += set.size
    return n
  }

  /** Whether the grid holds a Node timer now. */
  get armed (): boolean {
    return this.timer !== undefined
  }

  /** Puts `entry` in the first slot at or after `at` (clock ms), out of any slot it was in; returns when that slot is due. */
  add (entry: GridEntry, at: number, now: number): number {
    this.remove(entry)
    const slot = Math.ceil(Math.max(at, now) / this.slotMs)
    let set = this.slots.get(slot)
    if (set === undefined) {
      set = new Set()
      this.slots.set(slot, set)
    }
    set.add(entry)
    entry.slot = slot
    if (slot < this.armedSlot) this.arm(slot, now)
    return slot * this.slotMs
  }

  /** Takes `entry` out of its slot; the Node timer goes when nothing is left. */
  remove (entry: GridEntry): void {
    const slot = entry.slot
    if (slot < 0) return
    entry.slot = -1
    const set = this.slots.get(slot)
    if (set === undefined) return
    set.delete(entry)
    if (set.size > 0) return
    this.slots.delete(slot)
    if (this.slots.size === 0) this.disarm()
  }

  /** @internal Fires every timer of the slots due now, then arms for the next slot. */
  fire (): void {
    this.timer = undefined
    this.armedSlot = Infinity
    // Node's timers and the clock may disagree by a fraction of a millisecond: a slot due within 1 ms is due
    const last = Math.floor((this.clock.now() + 1) / this.slotMs)
    let due: GridEntry[] | undefined
    for (const [slot, set] of this.slots) {
      if (slot > last) continue
      this.slots.delete(slot)
      for (const entry of set) {
        entry.slot = -1
        ;(due ??= []).push(entry)
      }
    }
    // armed for what is left first, so the entries that re-arm while firing compare against it
    this.armNext()
    if (due === undefined) return
    for (let i = 0; i < due.length; i++) (due[i] as GridEntry).fire()
  }

  private armNext (): void {
    let next = Infinity
    for (const slot of this.slots.keys()) if (slot < next) next = slot
    if (next !== Infinity) this.arm(next, this.clock.now())
  }

  private arm (slot: number, now: number): void {
    this.disarm()
    this.armedSlot = slot
    // at most Node's longest delay (a longer one fires after 1 ms); a slot further off is armed again then
    const t = this.setTimeoutFn(fireGrid, Math.min(validate.MAX_TIMER_DELAY, Math.max(0, slot * this.slotMs - now)), this)
    t.unref?.()
    this.timer = t
  }

  private disarm (): void {
    if (this.timer !== undefined) this.clearTimeoutFn(this.timer)
    this.timer = undefined
    this.armedSlot = Infinity
  }
}

let shared: TimerGrid | undefined

/**
 * The grid of this process, for stages on the system clock and timers. One per set of timer functions: when
 * fake timers are installed (or removed) in a test, stages made from then on share a grid of those timers,
 * and a grid armed with the previous ones is left to the stages that use it.
 */
export function sharedGrid (): TimerGrid {
  if (shared === undefined || shared.setTimeoutFn !== globalThis.setTimeout) shared = new TimerGrid(systemClock, TIMER_GRID_SLOT)
  return shared
}
