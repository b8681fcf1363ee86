import { afterEach, beforeEach, expect, vi } from 'vitest'
import type { HeartbeatDuplex, HeartbeatInit } from '../../src/index.js'
import { heartbeat } from '../../src/index.js'
import type { ScriptedLink } from './link.js'
import { scriptedLink } from './link.js'

/** Stages made on the link of the running test (see {@link stagesOnScriptedLink}). */
export interface StagePairs {
  /** The running test's link (a new one per test). */
  readonly link: ScriptedLink
  /** Ends the test's link and makes a new one with the same delay (another connection in the same test). */
  next(): ScriptedLink
  /** Two stages at the link's ends, `a` and `b`; aborted after the test. */
  pair(a: HeartbeatInit, b: HeartbeatInit): [HeartbeatDuplex, HeartbeatDuplex]
}

/**
 * For the tests of a `describe`: fake timers and a new scripted link per test (each frame delayed by
 * `delay` ms); after each test, every stage made with `pair` is aborted, the link ended, and no timer may
 * be left behind.
 */
export function stagesOnScriptedLink (delay: number): StagePairs {
  const stages: HeartbeatDuplex[] = []
  let current: ScriptedLink | undefined
  const make = (): ScriptedLink => {
    current?.end()
    current = scriptedLink()
    current.delay = () => delay
    return current
  }
  beforeEach(() => {
    vi.useFakeTimers()
    current = undefined
    make()
  })
  afterEach(() => {
    for (const s of stages.splice(0)) s.abort(new Error('test over'))
    current?.end()
    expect(vi.getTimerCount()).toBe(0)
    vi.useRealTimers()
  })
  return {
    get link (): ScriptedLink {
      if (current === undefined) throw new Error('expected a running test: the link is made before each one')
      return current
    },
    next: make,
    pair (a, b) {
      const link = this.link
      const sa = heartbeat(link.a, a)
      const sb = heartbeat(link.b, b)
      stages.push(sa, sb)
      return [sa, sb]
    }
  }
}
