/**
 * Memory readings after forced GCs, for the benchmarks (the process runs with `--expose-gc`). A subpath of
 * its own (`@proto/stage-compliance/memory`), so a benchmark process does not load the test suite.
 *
 * V8 hands the pages a full GC freed back to the OS from background threads, a few milliseconds after
 * `gc()` returns. RSS read at once still counts some of them: at 10,000 idle connections the same server
 * read 9.8–10.1 KiB per connection 30 ms after the GC and 13.6–14.0 KiB at once, by how far those threads
 * had got. So heap figures are read right after the GC, and RSS once it has settled.
 */

/** Between two RSS readings while waiting for it to settle. */
const POLL_MS = 25
/** The wait's least: the release had begun within 30 ms in every reading taken to check it. */
const MIN_WAIT_MS = 100
/** Two readings `POLL_MS` apart that differ by less than this: settled. */
const SETTLED_BYTES = 256 * 1024
/** Bound on the wait: the last reading is taken after this long whatever it is. */
const MAX_WAIT_MS = 2_000

/** Two forced GCs. */
export function collectGarbage (): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('the process measuring memory needs --expose-gc')
  gc()
  gc()
}

/**
 * This process's RSS once V8's background threads have released what the last GC freed: polled every
 * `POLL_MS`, from `MIN_WAIT_MS` on, until two readings differ by less than `SETTLED_BYTES`, for at most
 * `MAX_WAIT_MS`.
 */
export async function settledRss (): Promise<number> {
  let last = process.memoryUsage.rss()
  for (let waited = POLL_MS; waited <= MAX_WAIT_MS; waited += POLL_MS) {
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
    const now = process.memoryUsage.rss()
    if (waited >= MIN_WAIT_MS && Math.abs(now - last) < SETTLED_BYTES) return now
    last = now
  }
  return last
}

/** After two forced GCs: the heap (V8 used + external) as they left it, and RSS once it has settled. */
export async function settledMemory (): Promise<{ heap: number, rss: number }> {
  collectGarbage()
  const m = process.memoryUsage()
  return { heap: m.heapUsed + m.external, rss: await settledRss() }
}
