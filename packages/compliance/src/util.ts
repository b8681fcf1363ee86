import type { AsyncHook } from 'node:async_hooks'
import { createHook } from 'node:async_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** Collects every item of an (async) iterable into an array. */
export async function collect<T> (source: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

/** How a promise settled: `ok` with its `value`, or not with its `error`. */
export interface Settled<T> {
  ok: boolean
  value?: T
  error?: unknown
}

/** Resolves with the outcome of `promise` without ever rejecting. */
export async function settle<T> (promise: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await promise }
  } catch (error) {
    return { ok: false, error }
  }
}

/**
 * How much `counter()` grows over `windowMs` of real time, after `settleMs` first (for whatever is counted
 * to reach its steady state), and how long the window really lasted: divide by that, not by `windowMs`, for
 * a rate that late timers on a busy machine do not skew.
 */
export async function countOver (counter: () => number, settleMs: number, windowMs: number): Promise<{ count: number, elapsed: number }> {
  await new Promise(resolve => setTimeout(resolve, settleMs))
  const from = counter()
  const at = performance.now()
  await new Promise(resolve => setTimeout(resolve, windowMs))
  return { count: counter() - from, elapsed: performance.now() - at }
}

/**
 * The heap (V8 used + external) that each of `n` objects made by `make(i)` holds, from two forced GCs
 * before and after making them. They are kept in an array made beforehand, so its growth is not counted. An
 * estimate (V8 moves and releases pages around the GCs): within about 10 B per object at `n` = 50 000, far
 * off at a few thousand; bound it with a margin.
 */
export function heapPerObject (n: number, make: (i: number) => unknown): number {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const heap = (): number => {
    gc()
    gc()
    const m = process.memoryUsage()
    return m.heapUsed + m.external
  }
  const kept: unknown[] = new Array(n)
  const before = heap()
  for (let i = 0; i < n; i++) kept[i] = make(i)
  const after = heap()
  // read after the second reading, so the objects are alive for it
  if (kept[n - 1] === undefined) throw new Error('expected make() to return an object')
  return (after - before) / n
}

/** An error followed by its `cause`s, outermost first. */
export function errorChain (err: unknown): unknown[] {
  const chain: unknown[] = []
  let cur: unknown = err
  while (cur != null && chain.length < 16 && !chain.includes(cur)) {
    chain.push(cur)
    cur = (cur as { cause?: unknown }).cause
  }
  return chain
}

/** Whether `target` is `err` or one of its causes. */
export function hasInChain (err: unknown, target: unknown): boolean {
  return errorChain(err).includes(target)
}

/**
 * Timers that have not fired or been cleared, tracked with an async hook: Node's
 * `getActiveResourcesInfo()` leaves out `unref()`ed timers, which are exactly the ones a leak hides in.
 * The hook is installed on first use and only sees timers created after that.
 */
const liveTimers = new Set<number>()
let timerHook: AsyncHook | undefined

function trackTimers (): void {
  if (timerHook != null) return
  timerHook = createHook({
    init (id, type) { if (type === 'Timeout') liveTimers.add(id) },
    destroy (id) { liveTimers.delete(id) }
  }).enable()
}

/**
 * Counts Node's active resources by kind (`TCPWrap`, `PipeWrap`, …), plus `Timeout (incl. unref)`: every
 * timer created since the first snapshot that is still pending, `unref()`ed or not.
 */
export function resourceSnapshot (): Map<string, number> {
  trackTimers()
  const counts = new Map<string, number>()
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'Timeout') continue
    counts.set(kind, (counts.get(kind) ?? 0) + 1)
  }
  counts.set('Timeout (incl. unref)', liveTimers.size)
  return counts
}

/**
 * Waits until no kind of active resource is above its count in `before`, polling every 10 ms up to
 * `deadline` ms. Returns the kinds still above (empty when clean).
 */
export async function waitForResources (before: Map<string, number>, deadline = 2000): Promise<string[]> {
  const started = Date.now()
  for (;;) {
    const now = resourceSnapshot()
    const extra: string[] = []
    for (const [kind, n] of now) {
      const was = before.get(kind) ?? 0
      if (n > was) extra.push(`${kind} +${n - was}`)
    }
    if (extra.length === 0 || Date.now() - started > deadline) return extra
    await new Promise(resolve => setTimeout(resolve, 10))
    // let the poll timer's own destroy hook run before the next count
    await new Promise(resolve => setImmediate(resolve))
    await new Promise(resolve => setImmediate(resolve))
  }
}
