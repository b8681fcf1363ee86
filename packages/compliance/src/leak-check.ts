import { afterEach, beforeEach, expect } from 'vitest'
import { resourceSnapshot, waitForResources } from './util.js'

/** Cleanups a test registers; they run last first after it. */
export type Cleanups = Array<() => Promise<void> | void>

/**
 * Registers, in the current file or `describe`, hooks that snapshot Node's active resources before each
 * test and, after it, run the cleanups it pushed (last first) and expect no socket or timer left beyond
 * the snapshot within `deadline` ms. Returns the list the tests push their cleanups onto.
 */
export function cleanupsWithLeakCheck (deadline = 3_000): Cleanups {
  const cleanups: Cleanups = []
  let before: Map<string, number>
  beforeEach(() => { before = resourceSnapshot() })
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
    expect(await waitForResources(before, deadline)).toEqual([])
  })
  return cleanups
}
