import type { BatchIterator, StageDuplex } from '@proto/interface'
import { isBatchIterator } from '@proto/interface'
import { pipe } from 'it-pipe'
import { expect, it } from 'vitest'
import type { ComplianceHarness, StagePair } from './harness.js'
import { collect, hasInChain, settle } from './util.js'

/** What the batch checks need from the suite around them. */
export interface BatchCheckContext<T> {
  harness: ComplianceHarness<T>
  setup(): Promise<StagePair<T>>
  expectSame(sent: T[], received: T[]): void
}

/** A plain transform, written as users write one (`it-map` has this shape): it hides `nextBatch()`. */
async function * passThrough<T> (source: AsyncIterable<T>): AsyncGenerator<T> {
  for await (const item of source) yield item
}

/** A source that hands `batches` out through `nextBatch()`, or item by item through `next()`, mixed freely. */
function batchSource<T> (batches: T[][]): AsyncIterableIterator<T> & BatchIterator<T> {
  const queue = batches.filter(b => b.length > 0).map(b => [...b])
  const source = {
    [Symbol.asyncIterator]: () => source,
    next: async (): Promise<IteratorResult<T>> => {
      const item = queue[0]?.shift()
      if (queue[0]?.length === 0) queue.shift()
      return item === undefined ? { done: true, value: undefined } : { done: false, value: item }
    },
    nextBatch: async (): Promise<T[] | undefined> => queue.shift()
  }
  return source
}

/** The iterator of `duplex.source` if it offers `nextBatch()`. */
function batchIterator<T> (duplex: StageDuplex<T>): BatchIterator<T> | undefined {
  const iterator = duplex.source[Symbol.asyncIterator]()
  return isBatchIterator(iterator) ? iterator : undefined
}

/** Items in bursts with a turn of the event loop between them, so batches of many sizes form. */
async function * bursts<T> (items: T[], size: number): AsyncGenerator<T> {
  for (let i = 0; i < items.length; i += size) {
    for (const item of items.slice(i, i + size)) yield item
    await new Promise(resolve => setImmediate(resolve))
  }
}

/**
 * The batch part of the contract: a source that offers `nextBatch()` gives the same items as `next()`,
 * whichever is called; a sink takes a batch source item for item; a plain transform between two stages works.
 */
export function batchChecks<T> ({ harness, setup, expectSame }: BatchCheckContext<T>): void {
  const sample = (n: number, spread: number): T[] => Array.from({ length: n }, (_, i) => harness.item(i, 1 + (i * 53) % spread))

  it('nextBatch() agrees with next(): same items, same order, mixed freely, never an empty batch, undefined only at the end', async (ctx) => {
    const { a, b } = await setup()
    const source = batchIterator(a)
    if (source === undefined) { ctx.skip(); return }
    const sent = sample(60, 2000)
    const writing = b.sink(bursts(sent, 7))
    const received: T[] = []
    const batchSizes: number[] = []
    for (let step = 0; ; step++) {
      if (step % 3 === 1) {
        const r = await source.next()
        if (r.done === true) break
        received.push(r.value)
      } else {
        const batch = await source.nextBatch()
        if (batch === undefined) break
        batchSizes.push(batch.length)
        received.push(...batch)
      }
    }
    await writing
    expect(batchSizes.filter(n => n === 0)).toEqual([])
    expectSame(sent, received)
    expect(await source.nextBatch()).toBeUndefined()
    expect((await source.next()).done).toBe(true)
    expect(await source.nextBatch()).toBeUndefined()
  })

  it('nextBatch() answers with what has arrived, as next() would: it never waits for more', async (ctx) => {
    const { a, b } = await setup()
    const source = batchIterator(a)
    if (source === undefined) { ctx.skip(); return }
    const sent = sample(3, 100)
    let release!: () => void
    const more = new Promise<void>((resolve) => { release = resolve })
    // the rest is written only once the first item came out: a stage that holds items back for more never
    // answers (the bound is generous; how fast it answers is for benchmarks)
    const writing = b.sink((async function * () {
      yield sent[0]
      await more
      yield * sent.slice(1)
    })())
    const first = await Promise.race([source.nextBatch(), new Promise<'held back'>((resolve) => { setTimeout(() => { resolve('held back') }, 1_000) })])
    release()
    expect(first).not.toBe('held back')
    const received = [...(first as T[] | undefined) ?? []]
    for (let batch = await source.nextBatch(); batch !== undefined; batch = await source.nextBatch()) received.push(...batch)
    await writing
    expectSame(sent, received)
  })

  it('nextBatch() fails as next() does: abort(err) rejects a pending batch with err, and later calls settle', async (ctx) => {
    const { a } = await setup()
    const source = batchIterator(a)
    if (source === undefined || a.abort == null) { ctx.skip(); return }
    const reason = new Error('torn down')
    const reading = settle(source.nextBatch())
    a.abort(reason)
    const r = await reading
    expect(r.ok).toBe(false)
    expect(hasInChain(r.error, reason)).toBe(true)
    const later = await settle(source.nextBatch())
    expect(later.value).toBeUndefined()
  })

  it('nextBatch() surfaces a failure beneath the stage', async (ctx) => {
    const pair = await setup()
    const source = batchIterator(pair.a)
    if (source === undefined || pair.breakLower == null) { ctx.skip(); return }
    const reading = settle((async () => { while (await source.nextBatch() !== undefined) { /* drain */ } })())
    pair.breakLower(new Error('lower layer failed'))
    const r = await reading
    expect(r.ok).toBe(false)
    expect(r.error).toBeInstanceOf(Error)
  })

  it('its sink takes a source that offers nextBatch() item for item, in order', async () => {
    const { a, b } = await setup()
    const sent = sample(45, 3000)
    const batches: T[][] = []
    for (let i = 0, n = 1; i < sent.length; i += n, n = (n % 9) + 1) batches.push(sent.slice(i, i + n))
    const [received] = await Promise.all([collect(b.source), a.sink(batchSource(batches))])
    expectSame(sent, received)
  })

  for (const [how, plain] of [['stage to stage', false], ['with a plain transform (an async generator, as it-map is) between two stages', true]] as const) {
    it(`carries items ${how}: its source piped into its own sink`, async () => {
      const { a, b } = await setup()
      const sent = sample(50, 3000)
      const sink = async (source: AsyncIterable<T>): Promise<void> => { await a.sink(source) }
      const echo = plain ? pipe(a.source, (source: AsyncIterable<T>) => passThrough(source), sink) : pipe(a.source, sink)
      const [received] = await Promise.all([collect(b.source), b.sink(sent), echo])
      expectSame(sent, received)
    })
  }
}
