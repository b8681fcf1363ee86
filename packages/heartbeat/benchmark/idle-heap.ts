/**
 * Heap per idle heartbeat stage, in one process (run with `--expose-gc`):
 * - `stage`: N stages over a minimal idle lower (a source that never yields, a sink parked on one read):
 *   the stage's own objects, nothing beneath it;
 * - `pair`: N links of `heartbeat(codec(memoryBytePair))` on both ends, pinging every 200 ms for a while
 *   (so RTT samples and the ping state exist), per stage; includes the codec and the in-memory pair.
 * Each mode is measured against the same process's heap before the stages were made.
 *
 * Run from the repo root: `npx tsc -b packages/heartbeat && node --expose-gc packages/heartbeat/dist/benchmark/idle-heap.js [N] [mode]`
 */
import type { Frame, FrameDuplex } from '@proto/codec'
import { codec } from '@proto/codec'
import { memoryBytePair } from '@proto/stage-compliance'
import type { Source } from 'it-stream-types'
import { heartbeat } from '../src/index.js'

const N = Number(process.argv[2] ?? 5000)
const mode = process.argv[3] ?? 'stage'
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc')

const NEVER = new Promise<never>(() => {})
const idleSource = { [Symbol.asyncIterator]: () => idleSource, next: () => NEVER, nextBatch: () => NEVER }

/** A lower frame duplex that never delivers anything and parks one read on the stage's outbound. */
function idleLower (): FrameDuplex {
  return {
    source: idleSource as unknown as AsyncIterable<Frame>,
    sink: async (source: Source<Frame>): Promise<void> => {
      const it = (source as AsyncIterable<Frame>)[Symbol.asyncIterator]() as AsyncIterator<Frame> & { nextBatch?: () => Promise<unknown> }
      void (it.nextBatch?.() ?? it.next())
      return await NEVER
    }
  }
}

function heap (): number {
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}

const keep: unknown[] = []
const before = heap()
if (mode === 'stage') {
  for (let i = 0; i < N; i++) keep.push(heartbeat(idleLower(), { interval: 15_000, timeout: 45_000 }))
  await new Promise(resolve => setTimeout(resolve, 100))
} else {
  for (let i = 0; i < N / 2; i++) {
    const pair = memoryBytePair()
    keep.push(heartbeat(codec(pair.a), { interval: 200, timeout: 60_000 }), heartbeat(codec(pair.b), { interval: 200, timeout: 60_000 }))
  }
  await new Promise(resolve => setTimeout(resolve, 2000))
}
const after = heap()
console.log(`${mode}: ${N} stages, heap per stage ${((after - before) / N).toFixed(0)} B (${((after - before) / N / 1024).toFixed(2)} KiB); node ${process.version}`)
process.exit(0)
