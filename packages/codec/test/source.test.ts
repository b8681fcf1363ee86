import type { ByteChunk } from '@proto/interface'
import { heapPerObject } from '@proto/stage-compliance'
import { describe, expect, it } from 'vitest'
import { FrameDecoder } from '../src/decoder.js'
import { toLayout } from '../src/format.js'
import { DecodingSource } from '../src/frame-source.js'
import type { Frame } from '../src/index.js'
import { decode, formats } from '../src/index.js'
import { asAsync, batching, within } from './bytes.js'
import { referenceEncode } from './reference.js'

const frames = (from: number, n: number): Frame[] => Array.from({ length: n }, (_, i) => ({ type: 0, body: Uint8Array.of(from + i) }))
const wire = (from: number, n: number): Uint8Array => referenceEncode(frames(from, n))

describe('the decoding source', () => {
  it('gives the same frames through next() and nextBatch(), mixed, never an empty batch', async () => {
    const chunks = [wire(0, 3), new Uint8Array(0), wire(3, 1).subarray(0, 2), wire(3, 1).subarray(2), wire(4, 4)]
    const source = decode(asAsync(chunks))
    const got: Frame[] = []
    const first = await source.next()
    got.push(first.value as Frame)
    for (;;) {
      const batch = await source.nextBatch()
      if (batch === undefined) break
      expect(batch.length).toBeGreaterThan(0)
      got.push(...batch)
      const one = await source.next()
      if (one.done === true) break
      got.push(one.value)
    }
    expect(got).toEqual(frames(0, 8))
    expect(await source.nextBatch()).toBeUndefined()
    expect((await source.next()).done).toBe(true)
  })

  it('reads a lower source that offers nextBatch() by batches only', async () => {
    const lower = batching<ByteChunk>([[wire(0, 2), wire(2, 1)], [wire(3, 3)]])
    const source = decode(lower)
    expect(await source.nextBatch()).toEqual(frames(0, 3))
    expect((await source.next()).value).toEqual(frames(3, 1)[0])
    expect(await source.nextBatch()).toEqual(frames(4, 2))
    expect(await source.nextBatch()).toBeUndefined()
    expect(lower.calls.next).toBe(0)
  })

  it('answers overlapping calls in the order they were made', async () => {
    const source = decode(asAsync([wire(0, 1), wire(1, 1), wire(2, 2)]))
    const [a, b, c, d] = await Promise.all([source.next(), source.nextBatch(), source.next(), source.next()])
    expect(a.value).toEqual(frames(0, 1)[0])
    expect(b).toEqual(frames(1, 1))
    expect(c.value).toEqual(frames(2, 1)[0])
    expect(d.value).toEqual(frames(3, 1)[0])
  })

  it('hands out the frames before a decoding error through nextBatch(), then rejects, then ends', async () => {
    const source = decode(asAsync([wire(0, 2), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0)]), { maxFrameLength: 100 })
    expect(await source.nextBatch()).toEqual(frames(0, 2))
    await expect(source.nextBatch()).rejects.toMatchObject({ name: 'FrameTooLongError' })
    expect(await source.nextBatch()).toBeUndefined()
    expect((await source.next()).done).toBe(true)
  })

  it('passes a failure of the lower source on, once, through either call', async () => {
    const boom = new Error('connection reset')
    for (const call of ['next', 'nextBatch'] as const) {
      const source = decode((async function * () {
        yield wire(0, 1)
        throw boom
      })())
      expect(await source.nextBatch()).toEqual(frames(0, 1))
      await expect(source[call]()).rejects.toBe(boom)
      expect((await source.next()).done).toBe(true)
    }
  })

  it('return() stops the lower source, and does not wait on a read in flight', async () => {
    let cleaned = false
    const source = decode((async function * () {
      try {
        yield wire(0, 1)
      } finally {
        cleaned = true
      }
    })())
    await source.next()
    await source.return()
    expect(cleaned).toBe(true)
    const stuck = decode((async function * () {
      yield wire(0, 1)
      await new Promise(() => {})
    })())
    await stuck.next()
    void stuck.next()
    expect(await within(stuck.return())).toEqual({ done: true, value: undefined })
  })

  it('keeps no pull state (batch, callbacks) until it is read: a source in push mode, which never is, holds none', async () => {
    const decoder = new FrameDecoder(toLayout(formats.proto, undefined))
    const lower = asAsync([wire(0, 1)])[Symbol.asyncIterator]()
    const perSource = heapPerObject(50_000, () => new DecodingSource(lower, decoder))
    // 64 B here, the source alone (its lower source and decoder are shared); with its pull state it was 184 B,
    // and an empty array of its own made that 216 B
    expect(perSource).toBeLessThan(100)
    // and one that reads still decodes into an array of its own
    const reading = new DecodingSource(asAsync([wire(0, 3)])[Symbol.asyncIterator](), decoder)
    expect((await reading.nextBatch())?.map(f => f.body[0])).toEqual([0, 1, 2])
    expect(await reading.nextBatch()).toBeUndefined()
  })
})
