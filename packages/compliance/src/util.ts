/** Collects every item of an (async) iterable into an array. */
export async function collect<T> (source: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
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

/** Counts Node's active resources by kind (`Timeout`, `TCPWrap`, …). */
export function resourceSnapshot (): Map<string, number> {
  const counts = new Map<string, number>()
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1)
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
  }
}
