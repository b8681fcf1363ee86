/**
 * Per-frame cost of the stage on a busy link, in memory, against the same path without it, in one run:
 * - inbound: frames served in batches of 64 (as the codec serves them) read one by one with `for await`,
 *   directly from the lower source vs through `heartbeat(lower).source`;
 * - outbound: a synchronous source of frames written into a lower sink that reads them one by one, directly
 *   vs through `heartbeat(lower).sink` (the outbound merges control frames ahead of data);
 * - codec round trip: 64-byte frames from `codec` to `codec` over the transport's `memoryPair`, without and with a
 *   heartbeat stage on both ends;
 * - the same over loopback TCP with `@proto/transport`. The codec's sink reads the stage's outbound with
 *   `nextBatch()` and encodes each batch into one chunk.
 *
 * Run from the repo root: `npx tsc -b bench && node bench/dist/src/heartbeat/throughput.js [frames] [rounds]`
 */
import type { Frame, FrameDuplex } from '@proto/codec'
import { codec, FrameType } from '@proto/codec'
import { heartbeat } from '@proto/heartbeat'
import { connect, listen, memoryPair } from '@proto/transport'

const FRAMES = Number(process.argv[2] ?? 2_000_000)
const ROUNDS = Number(process.argv[3] ?? 5)
const BATCH = 64
const body = new Uint8Array(64)
const init = { interval: 15_000, timeout: 45_000 }

/** A lower frame duplex whose source serves `FRAMES` frames in batches and whose sink counts what it reads. */
function lower (): FrameDuplex & { received: () => number } {
  let served = 0
  let received = 0
  const batch = (): Frame[] | undefined => {
    if (served >= FRAMES) return undefined
    const n = Math.min(BATCH, FRAMES - served)
    served += n
    return Array.from({ length: n }, () => ({ type: FrameType.DATA, body }))
  }
  let pending: Frame[] = []
  let index = 0
  const source = {
    [Symbol.asyncIterator]: () => source,
    async next (): Promise<IteratorResult<Frame>> {
      if (index >= pending.length) {
        const b = batch()
        if (b === undefined) return { done: true, value: undefined }
        pending = b
        index = 0
      }
      return { done: false, value: pending[index++] }
    },
    nextBatch: async () => batch()
  }
  return {
    source,
    async sink (frames: AsyncIterable<Frame> | Iterable<Frame>): Promise<void> {
      for await (const _ of frames) received++
    },
    received: () => received
  }
}

async function timed (fn: () => Promise<number>): Promise<number> {
  const t0 = performance.now()
  const n = await fn()
  return n / ((performance.now() - t0) / 1000)
}

async function readAll (source: AsyncIterable<Frame>): Promise<number> {
  let n = 0
  for await (const _ of source) n++
  return n
}

const cases: Record<string, () => Promise<number>> = {
  'inbound, direct': async () => await readAll(lower().source),
  'inbound, heartbeat': async () => {
    const hb = heartbeat(lower(), init)
    const n = await readAll(hb.source)
    hb.abort(new Error('done'))
    return n
  },
  'outbound, direct': async () => {
    const l = lower()
    await l.sink(Array.from({ length: FRAMES }, () => ({ type: FrameType.DATA, body })))
    return l.received()
  },
  'outbound, heartbeat': async () => {
    const l = lower()
    const hb = heartbeat(l, init)
    await hb.sink(Array.from({ length: FRAMES }, () => ({ type: FrameType.DATA, body })))
    hb.abort(new Error('done'))
    return l.received()
  },
  'codec ↔ codec': async () => await roundTrip(false),
  'heartbeat(codec) ↔ heartbeat(codec)': async () => await roundTrip(true),
  'tcp codec': async () => await tcp(false),
  'tcp heartbeat(codec)': async () => await tcp(true)
}

async function tcp (withHeartbeat: boolean): Promise<number> {
  const n = FRAMES / 4
  let received = 0
  const frames = codec
  const server = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => {
    const b: FrameDuplex = withHeartbeat ? heartbeat(frames(conn), init) : frames(conn)
    const [r] = await Promise.all([readAll(b.source), b.sink([])])
    received = r
  })
  const conn = await connect({ host: '127.0.0.1', port: (server.address as { port: number }).port })
  const a: FrameDuplex = withHeartbeat ? heartbeat(frames(conn), init) : frames(conn)
  await Promise.all([
    a.sink((function * () { for (let i = 0; i < n; i++) yield { type: FrameType.DATA, body } })()),
    readAll(a.source)
  ])
  await server.close()
  return received
}

async function roundTrip (withHeartbeat: boolean): Promise<number> {
  const [ca, cb] = memoryPair({ highWaterMark: 256 * 1024 })
  const a: FrameDuplex = withHeartbeat ? heartbeat(codec(ca), init) : codec(ca)
  const b: FrameDuplex = withHeartbeat ? heartbeat(codec(cb), init) : codec(cb)
  const n = FRAMES / 4
  const [received] = await Promise.all([
    readAll(b.source),
    a.sink((function * () { for (let i = 0; i < n; i++) yield { type: FrameType.DATA, body } })()),
    b.sink([])
  ])
  await readAll(a.source)
  return received
}

const results = new Map<string, number[]>(Object.keys(cases).map(k => [k, []]))
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn] of Object.entries(cases)) results.get(name)?.push(await timed(fn))
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]
const fmt = (n: number): string => n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`
const m = (k: string): number => median(results.get(k) ?? [])
console.log(`\n${FRAMES} frames of 64 B, ${ROUNDS} interleaved rounds, medians; node ${process.version}\n`)
console.log('| path | without heartbeat (frames/s) | with heartbeat (frames/s) | ratio |')
console.log('|---|---:|---:|---:|')
for (const [label, a, b] of [
  ['inbound (`for await` over the source)', 'inbound, direct', 'inbound, heartbeat'],
  ['outbound (sync source into the sink)', 'outbound, direct', 'outbound, heartbeat'],
  ['codec to codec over `memoryPair`', 'codec ↔ codec', 'heartbeat(codec) ↔ heartbeat(codec)'],
  ['codec to codec over loopback TCP (`@proto/transport`)', 'tcp codec', 'tcp heartbeat(codec)']
]) console.log(`| ${label} | ${fmt(m(a))} | ${fmt(m(b))} | ${(m(b) / m(a)).toFixed(2)}× |`)
