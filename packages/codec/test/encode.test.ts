import { collect, memoryBytePair } from '@proto/stage-compliance'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it, vi } from 'vitest'
import { BATCH_BYTES } from '../src/constants.js'
import type { Frame } from '../src/index.js'
import { codec, decode, encode } from '../src/index.js'
import { asAsync, batching, within } from './bytes.js'
import { referenceEncode } from './reference.js'

const small = (i: number, size = 64): Frame => ({ type: i & 0xff, body: new Uint8Array(size).fill(i & 0xff) })

describe('encoding an async source', () => {
  it('packs every frame the producer has ready into chunks of about 64 KiB', async () => {
    const frames = Array.from({ length: 5000 }, (_, i) => small(i))
    const chunks = await collect(encode(asAsync(frames)))
    const total = 5000 * 69
    expect(chunks.length).toBe(Math.ceil(total / Math.ceil(BATCH_BYTES / 69) / 69))
    expect([...decode(chunks)]).toEqual(frames)
  })

  it('hands a lone frame out at once, without waiting for more', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => { release = resolve })
    const it = encode((async function * () {
      yield small(1)
      await gate
      yield small(2)
    })())
    const first = await within(it.next())
    expect(first).not.toBe('timed out')
    expect([...decode([(first as IteratorYieldResult<Uint8Array>).value])]).toEqual([small(1)])
    release()
    const second = await it.next()
    expect([...decode([(second as IteratorYieldResult<Uint8Array>).value])]).toEqual([small(2)])
    expect((await it.next()).done).toBe(true)
  })

  it('is not held back by fake timers', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setImmediate', 'setInterval', 'Date'] })
    try {
      const it = encode(asAsync([small(1)]))
      const first = await it.next()
      expect([...decode([(first as IteratorYieldResult<Uint8Array>).value])]).toEqual([small(1)])
    } finally {
      vi.useRealTimers()
    }
  })

  it('keeps each frame whole inside one chunk, header and body together', async () => {
    const frames = [small(1, 10), { type: 2, body: new Uint8Array(40_000).fill(2) }, small(3, 5000)]
    const chunks: Array<Uint8Array | Uint8ArrayList> = []
    for (const f of frames) {
      // one frame per turn of the event loop: each leaves alone, in one chunk
      chunks.push(...await collect(encode(asAsync([f]))))
    }
    expect(chunks.map(c => c.byteLength)).toEqual([15, 40_005, 5005])
    for (const [i, c] of chunks.entries()) expect([...decode([c])]).toEqual([frames[i]])
  })

  it('reads ahead of a consumer that does not ask by at most one chunk', async () => {
    let pulled = 0
    const it = encode((async function * () {
      for (let i = 0; ; i++) {
        pulled++
        yield small(i, 1000)
      }
    })())
    await it.next()
    await new Promise(resolve => setTimeout(resolve, 50))
    // one chunk handed out, one gathered while the consumer waits, and the frame that filled it
    expect(pulled).toBeLessThanOrEqual(2 * Math.ceil(BATCH_BYTES / 1005) + 1)
    expect(pulled).toBeGreaterThan(Math.ceil(BATCH_BYTES / 1005))
    await it.return?.()
  })

  it('pulls a nextBatch() source by batches only, packing what it has ready, large bodies uncopied', async () => {
    const big = new Uint8Array(20_000).fill(5)
    const batches: Frame[][] = [
      Array.from({ length: 100 }, (_, i) => ({ type: 0, body: Uint8Array.of(i) })),
      [{ type: 1, body: Uint8Array.of(1) }, { type: 2, body: big }, { type: 3, body: Uint8Array.of(3) }]
    ]
    const source = batching(batches)
    const chunks = await collect(encode(source))
    expect(source.calls.next).toBe(0)
    expect(chunks).toHaveLength(1)
    expect([...(chunks[0] as Uint8ArrayList)]).toContain(big)
    expect([...decode(chunks)]).toEqual(batches.flat())
  })

  it('sends the frames accepted before an invalid one, then fails with a typed error', async () => {
    for (const source of [asAsync([small(1), { type: 300, body: Uint8Array.of(2) }, small(3)]), batching([[small(1), { type: 300, body: Uint8Array.of(2) }, small(3)]])]) {
      const it = encode(source)
      const first = await it.next()
      expect([...decode([(first as IteratorYieldResult<Uint8Array>).value])]).toEqual([small(1)])
      await expect(it.next()).rejects.toMatchObject({ name: 'InvalidFrameError' })
      expect((await it.next()).done).toBe(true)
    }
    // the synchronous path too
    const sync = encode([small(1), { type: 300, body: Uint8Array.of(2) }])
    expect([...decode([sync.next().value as Uint8Array])]).toEqual([small(1)])
    expect(() => sync.next()).toThrow(expect.objectContaining({ name: 'InvalidFrameError' }))
  })

  it('stops a producer whose frame was invalid, so its cleanup runs', async () => {
    let cleaned = false
    const it = encode((async function * () {
      try {
        yield { type: 999, body: Uint8Array.of(1) }
        yield small(2)
      } finally {
        cleaned = true
      }
    })())
    await expect(it.next()).rejects.toMatchObject({ name: 'InvalidFrameError' })
    await new Promise(resolve => setImmediate(resolve))
    expect(cleaned).toBe(true)
  })

  it('delivers the frames produced before the producer threw, then its own error', async () => {
    const boom = new Error('producer failed')
    const it = encode((async function * () {
      yield small(1)
      yield small(2)
      throw boom
    })())
    const first = await it.next()
    expect([...decode([(first as IteratorYieldResult<Uint8Array>).value])]).toEqual([small(1), small(2)])
    await expect(it.next()).rejects.toBe(boom)
    expect((await it.next()).done).toBe(true)
  })

  it('answers overlapping next() calls in order', async () => {
    const it = encode(asAsync([small(1), small(2)]))
    const [a, b] = await Promise.all([it.next(), it.next()])
    expect([...decode([(a as IteratorYieldResult<Uint8Array>).value])]).toEqual([small(1), small(2)])
    expect(b.done).toBe(true)
  })

  it('return() does not wait for a producer that is busy producing ahead', async () => {
    let stoppedAt: number | undefined
    const it = encode((async function * () {
      try {
        yield small(1)
        await new Promise(() => {}) // a producer waiting on something that never comes
      } finally {
        stoppedAt = Date.now()
      }
    })())
    await it.next()
    const stop = it.return as () => Promise<IteratorResult<unknown>>
    expect(await within(stop.call(it))).toEqual({ done: true, value: undefined })
    expect(stoppedAt).toBeUndefined() // its finally can only run once its await settles
  })

  it('a codec sink whose connection fails mid-write rejects instead of hanging on a parked producer', async () => {
    const pair = memoryBytePair()
    const a = codec(pair.a)
    const reason = new Error('torn down')
    const writing = a.sink((async function * () {
      yield small(1)
      await new Promise(() => {})
    })())
    a.abort(reason)
    expect(await within(writing.then(() => 'resolved', (err: Error) => err))).toBe(reason)
  })

  it('encodes Uint8ArrayList bodies, small ones copied, large ones by reference', async () => {
    const parts = [new Uint8Array(10_000).fill(1), new Uint8Array(10_000).fill(2)]
    const frames = [{ type: 1, body: new Uint8ArrayList(Uint8Array.of(1), Uint8Array.of(2)) }, { type: 2, body: new Uint8ArrayList(...parts) }]
    const chunks = await collect(encode(asAsync(frames)))
    const flat = frames.map(f => ({ type: f.type, body: f.body.subarray() }))
    expect(chunks.reduce((n, c) => n + c.byteLength, 0)).toBe(referenceEncode(flat).byteLength)
    expect([...decode(chunks)]).toEqual(flat)
    const pieces = chunks.flatMap(c => c instanceof Uint8Array ? [c] : [...c])
    expect(pieces).toContain(parts[0])
    expect(pieces).toContain(parts[1])
  })
})

describe('what an encoded chunk is on Node', () => {
  it('a chunk of small frames is a Buffer, which a socket writes as it is; the bodies decoded from it stay plain', async () => {
    const frames: Frame[] = [{ type: 0, body: Uint8Array.of(1, 2, 3) }, { type: 0x40, body: Uint8Array.of(4) }]
    const chunks = [...encode(frames)]
    expect(chunks.length).toBe(1)
    const chunk = chunks[0] as Uint8Array
    // Writable.write() wraps any other Uint8Array in a Buffer of its own: two objects per write for a view
    expect(Buffer.isBuffer(chunk)).toBe(true)
    expect(Uint8Array.from(chunk)).toEqual(referenceEncode(frames))
    // the same from an async producer, packed as it comes
    const packed = await collect(encode(asAsync(frames)))
    expect(packed.every(c => Buffer.isBuffer(c))).toBe(true)
    const bodies = (await collect(decode(asAsync(chunks)))).map(f => f.body)
    expect(bodies.map(b => Buffer.isBuffer(b))).toEqual([false, false])
    expect(bodies).toEqual([Uint8Array.of(1, 2, 3), Uint8Array.of(4)])
  })
})
