import { afterEach, beforeEach, vi } from 'vitest'
import type { DurableDuplex, ReconnectInit } from '../../src/index.js'

/** Retention on, no jitter, a quick first redial and no stability wait: the options the retention tests share. */
export const RETAIN: ReconnectInit<number> = { retention: true, jitter: 'none', initialDelay: 10, minStableTime: 0 }

/**
 * Fake timers for every test of the file, and the list where its tests put the durable duplexes they open:
 * each is aborted after its test, before real timers come back.
 */
export function durablesUnderFakeTimers<T = any> (): Array<DurableDuplex<T>> {
  const open: Array<DurableDuplex<T>> = []
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => {
    for (const d of open.splice(0)) d.abort(new Error('test over'))
    vi.useRealTimers()
  })
  return open
}
