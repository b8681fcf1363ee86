import type { DialContext, DurableDuplex, ReconnectInit } from '../../src/index.js'
import { reconnect } from '../../src/index.js'
import type { ItemConnection } from './item-pair.js'
import { itemConnection } from './item-pair.js'

const clock = { now: () => Date.now() }

export interface Gated<T> {
  d: DurableDuplex<T>
  /** Lets one dial through (now, or when it comes). */
  up(): void
  /** The in-memory connections made, in order. */
  conns: Array<ItemConnection<T>>
  /** The dial contexts, in order. */
  contexts: DialContext[]
}

/**
 * A durable duplex over in-memory item connections whose dials wait until `up()` is called; each call
 * lets one dial through. Every durable duplex made is recorded in `open` for the test's cleanup.
 */
export function gated<T = any> (open: Array<DurableDuplex<any>>, init: ReconnectInit<T> = {}, capacity = 1_000): Gated<T> {
  const conns: Array<ItemConnection<T>> = []
  const contexts: DialContext[] = []
  const gates: Array<() => void> = []
  let pending: (() => void) | undefined
  const d = reconnect<T>(async (ctx) => {
    await new Promise<void>((resolve) => {
      const go = gates.shift()
      if (go != null) resolve()
      else pending = resolve
    })
    contexts.push(ctx)
    const c = itemConnection<T>(capacity)
    conns.push(c)
    return c.near
  }, { clock, connectTimeout: Infinity, ...init })
  open.push(d)
  return {
    d,
    conns,
    contexts,
    up () {
      const p = pending
      pending = undefined
      if (p != null) p()
      else gates.push(() => {})
    }
  }
}
