/**
 * What the durable duplex costs per item, in memory: the same lower duplex is driven directly (baseline)
 * and through `reconnect()`, in both directions, in one run. Run: `pnpm --filter @proto/reconnect bench`.
 */
import type { Pushable, StageDuplex } from '@proto/interface'
import { isBatchIterator, pushable } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { reconnect } from '../src/index.js'

const N = Number(process.env.BENCH_ITEMS ?? 2_000_000)
const ITEM = new Uint8Array(64)
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined }

/** A lower duplex as cheap as it gets: a source of N ready items and a sink that counts. */
function nullDuplex (): StageDuplex<Uint8Array> & { received: () => number } {
  let received = 0
  let left = N
  const source = {
    next: async (): Promise<IteratorResult<Uint8Array>> => (left-- > 0 ? { done: false, value: ITEM } : DONE),
    [Symbol.asyncIterator] () { return this }
  }
  return {
    source,
    async sink (items: Source<Uint8Array>): Promise<void> {
      for await (const _ of items) received++
    },
    received: () => received
  }
}

/** The same, but its sink reads with `nextBatch()` when the source offers it, as the heartbeat and codec stages do. */
function batchingDuplex (): StageDuplex<Uint8Array> & { received: () => number } {
  const lower = nullDuplex()
  let received = 0
  return {
    source: lower.source,
    async sink (items: Source<Uint8Array>): Promise<void> {
      const it = (items as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
      if (isBatchIterator(it)) {
        for (let b = await it.nextBatch(); b !== undefined; b = await it.nextBatch()) received += b.length
      } else {
        for (let r = await it.next(); r.done !== true; r = await it.next()) received++
      }
    },
    received: () => received
  }
}

/** The user's items as users often have them: an async generator, one item per `next()`. */
async function * asyncItems (): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < N; i++) yield ITEM
}

/** The same items from an application that has them ready: pushed into a bounded `pushable()`, refilled when half empty. */
function pushed (): Pushable<Uint8Array> {
  const queue = pushable<Uint8Array>({ maxItems: 1024 })
  void (async () => {
    let n = 0
    while (n < N) {
      while (queue.room > 0 && n < N) { queue.push(ITEM); n++ }
      if (n < N) await queue.onRoom()
    }
    queue.end()
  })()
  return queue
}

function * items (): Generator<Uint8Array> {
  for (let i = 0; i < N; i++) yield ITEM
}

async function time (fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return N / ((performance.now() - t0) / 1000)
}

async function writeDirect (): Promise<void> {
  const lower = nullDuplex()
  await lower.sink(items())
  if (lower.received() !== N) throw new Error('lost items')
}

async function writeDurable (): Promise<void> {
  const lower = nullDuplex()
  const d = reconnect<Uint8Array>(async () => lower, { buffer: { maxMessages: 1_000 } })
  await d.sink(items())
  await d.close()
  if (lower.received() !== N) throw new Error('lost items')
}

/** Writes `make()`'s items into a batching lower, directly or through `reconnect()`. */
function batchingWrite (make: () => AsyncIterable<Uint8Array>, durable: boolean): () => Promise<void> {
  return async () => {
    const lower = batchingDuplex()
    if (durable) {
      const d = reconnect<Uint8Array>(async () => lower, { buffer: { maxMessages: 1_000 } })
      await d.sink(make())
      await d.close()
    } else {
      await lower.sink(make())
    }
    if (lower.received() !== N) throw new Error('lost items')
  }
}

async function readDirect (): Promise<void> {
  let n = 0
  for await (const _ of nullDuplex().source) n++
  if (n !== N) throw new Error('lost items')
}

async function readDurable (): Promise<void> {
  const d = reconnect<Uint8Array>(async () => nullDuplex(), { peerEnd: 'end' })
  let n = 0
  for await (const _ of d.source) n++
  await d.close()
  if (n !== N) throw new Error('lost items')
}

const rows: Array<[string, number, number]> = []
const paths = [
  ['write (user sink → lower sink)', writeDirect, writeDurable],
  ['write, async generator → lower reading `nextBatch()`', batchingWrite(asyncItems, false), batchingWrite(asyncItems, true)],
  ['write, `pushable()` (batches) → lower reading `nextBatch()`', batchingWrite(pushed, false), batchingWrite(pushed, true)],
  ['read (lower source → user source)', readDirect, readDurable]
] as const
for (const [name, direct, durable] of paths) {
  await time(direct)
  await time(durable)
  const best = async (fn: () => Promise<void>): Promise<number> => Math.max(await time(fn), await time(fn), await time(fn))
  rows.push([name, await best(direct), await best(durable)])
}
console.log(`${N} items of 64 B, Node ${process.version}`)
console.log('| path | lower alone (items/s) | through reconnect (items/s) | ratio |')
console.log('|---|---|---|---|')
for (const [name, a, b] of rows) console.log(`| ${name} | ${(a / 1e6).toFixed(2)} M | ${(b / 1e6).toFixed(2)} M | ${(b / a).toFixed(2)} |`)
