import type { Clock, Timers } from '@proto/interface'
import { heapPerObject } from '@proto/stage-compliance'
import { describe, expect, it } from 'vitest'
import type { EventSink } from '../src/events.js'
import type { LivenessOwner } from '../src/liveness.js'
import { Liveness } from '../src/liveness.js'

/** What an idle connection's time-keeping holds for good: measured on the part itself, many of them at once. */
describe('idle state', () => {
  it('a connection that never met backpressure, a stalled loop or close() keeps no number for those clocks', () => {
    const clock: Clock = { now: () => 1_000.5 }
    // a timer armed for nothing: the parts are only made, never run
    const timers = { setTimeout: () => ({ unref () {} }), clearTimeout: () => {} } as unknown as Timers
    const owner: LivenessOwner = { canPing: true, watching: true, closeDeadline: Infinity, over: false, frameProgress: 0, ping () {}, dead () {}, expired () {}, graceOver () {} }
    const events = { safeDispatchEvent: () => true, hasListeners: () => false } as unknown as EventSink
    const policy = { interval: 1_000, timeout: 3_000 }
    const perPart = heapPerObject(20_000, (i) => {
      const time = new Liveness(clock, timers, policy, 1_000, owner, events)
      time.received(i + 0.5) // a pong's clock, set on every connection
      return time
    })
    // 353–368 B here: the part, its timer and the five clocks every connection sets (each a 16-byte number of
    // its own); the three set only under backpressure or a stalled loop, kept as numbers from the start,
    // made it 412 B
    expect(perPart).toBeLessThan(390)
  })
})
