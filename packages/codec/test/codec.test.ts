import { collect, memoryBytePair, settle } from '@proto/stage-compliance'
import fc from 'fast-check'
import { pipe } from 'it-pipe'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import type { Frame, FrameFormat } from '../src/index.js'
import { codec, decode, encode, formats, frameCheck, FrameType, InvalidHeaderError, isUndecodable } from '../src/index.js'
import { asAsync, concat } from './bytes.js'
import { referenceEncode } from './reference.js'

const LAYOUTS: Array<[string, FrameFormat]> = [
  ['proto', formats.proto],
  ['lengthPrefixed', formats.lengthPrefixed],
  ['structBI', formats.structBI],
  ['int32', formats.int32],
  ['u8 type before', { length: 1, type: 'before' }],
  ['u16 little, counts type', { length: 2, endian: 'little', lengthCounts: 'type-and-body' }],
  ['u32 little', { length: 4, endian: 'little' }],
  ['u64 big, counts frame', { length: 8, lengthCounts: 'frame' }],
  ['u64 little, no type', { length: 8, endian: 'little', type: 'none' }],
  ['u32 counts frame, type before', { length: 4, type: 'before', lengthCounts: 'frame' }],
  ['varint type before', { length: 'varint', type: 'before' }]
]

function maxBodyFor (format: FrameFormat): number {
  return format.length === 1 ? 200 : 3000
}

function framesArb (format: FrameFormat): fc.Arbitrary<Frame[]> {
  const type = format.type === 'none' ? fc.constant(0) : fc.integer({ min: 0, max: 255 })
  return fc.array(fc.record({ type, body: fc.uint8Array({ maxLength: maxBodyFor(format) }) }), { maxLength: 30 })
}

/** Splits `bytes` at the given cut points. */
function split (bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map(c => c % (bytes.byteLength + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const p of [...points, bytes.byteLength]) {
    out.push(bytes.subarray(prev, p))
    prev = p
  }
  return out
}

describe.each(LAYOUTS)('layout %s', (_name, format) => {
  it('encodes exactly as the naive reference encoder', () => {
    fc.assert(fc.property(framesArb(format), (frames) => {
      expect(concat(encode(frames, { format }))).toEqual(referenceEncode(frames, format))
    }), { numRuns: 100 })
  })

  it('encodes Uint8ArrayList bodies exactly as their bytes, sync and async', async () => {
    await fc.assert(fc.asyncProperty(framesArb(format), fc.array(fc.nat(), { maxLength: 30 }), async (frames, cuts) => {
      const lists = frames.map(f => ({ type: f.type, body: new Uint8ArrayList(...split(f.body, cuts)) }))
      expect(concat(encode(lists, { format }))).toEqual(referenceEncode(frames, format))
      expect(concat(await collect(encode(asAsync(lists), { format })))).toEqual(referenceEncode(frames, format))
    }), { numRuns: 50 })
  })

  it('decodes every chunking of an encoded stream to the same frames', () => {
    fc.assert(fc.property(framesArb(format), fc.array(fc.nat(), { maxLength: 40 }), (frames, cuts) => {
      const wire = referenceEncode(frames, format)
      expect([...decode(split(wire, cuts), { format })]).toEqual(frames)
    }), { numRuns: 150 })
  })

  it('decodes 1-byte pieces and one coalesced chunk alike, sync and async', async () => {
    const frames: Frame[] = Array.from({ length: 20 }, (_, i) => ({ type: format.type === 'none' ? 0 : i, body: new Uint8Array(i * 7).fill(i) }))
    const wire = referenceEncode(frames, format)
    const pieces = Array.from(wire, b => Uint8Array.of(b))
    expect([...decode(pieces, { format })]).toEqual(frames)
    expect([...decode([wire], { format })]).toEqual(frames)
    expect(await collect(decode(asAsync(pieces), { format }))).toEqual(frames)
    expect(await collect(decode(encode(asAsync(frames), { format }), { format }))).toEqual(frames)
  })
})

describe('zero copy and one write per frame', () => {
  it('decodes frames inside one chunk as views into it', () => {
    const wire = referenceEncode([{ type: 0, body: Uint8Array.of(1, 2, 3) }, { type: 1, body: Uint8Array.of(4) }])
    const [a, b] = [...decode([wire])]
    expect(a.body.buffer).toBe(wire.buffer)
    expect(b.body.buffer).toBe(wire.buffer)
  })

  it('assembles a frame split over chunks into one body', () => {
    const body = new Uint8Array(100_000).map((_, i) => i)
    const wire = referenceEncode([{ type: 0, body }])
    const frames = [...decode(split(wire, [3, 5000, 70_000]))]
    expect(frames).toHaveLength(1)
    expect(frames[0].body).toEqual(body)
  })

  it('packs small frames and large bodies from an async source into one chunk, large bodies uncopied', async () => {
    const small = { type: 0, body: new Uint8Array(100) }
    const large = { type: 0, body: new Uint8Array(1 << 20) }
    const chunks = await collect(encode(asAsync([small, large])))
    expect(chunks).toHaveLength(1)
    expect(chunks[0].byteLength).toBe(105 + 5 + (1 << 20))
    expect([...(chunks[0] as Iterable<Uint8Array>)]).toContain(large.body)
    expect([...decode(chunks)]).toEqual([small, large])
  })

  it('packs frames from a synchronous source into few chunks', () => {
    const frames = Array.from({ length: 10_000 }, () => ({ type: 0, body: new Uint8Array(64) }))
    const chunks = [...encode(frames)]
    expect(chunks.length).toBeLessThan(20)
    expect(concat(chunks).byteLength).toBe(10_000 * 69)
  })
})

describe('limits and bad input', () => {
  it('fails a length bomb from the header alone, without waiting for or buffering a body', async () => {
    let pulled = 0
    async function * source (): AsyncGenerator<Uint8Array> {
      pulled++
      yield Uint8Array.of(0xff, 0xff, 0xff, 0xf0)
      pulled++
      await new Promise(() => {}) // a peer that never sends the body
    }
    await expect(collect(decode(source()))).rejects.toMatchObject({ name: 'FrameTooLongError', length: 0xfffffff0, maxFrameLength: 16 << 20 })
    expect(pulled).toBe(1)
  })

  it('isUndecodable tells bytes that are no frame from a peer that left mid-frame', async () => {
    const tooLong = await settle(collect(decode(asAsync([Uint8Array.of(0, 0, 0, 9, 0)]), { maxFrameLength: 8 })))
    const truncated = await settle(collect(decode(asAsync([Uint8Array.of(0, 0, 0, 9, 0, 1)]))))
    expect(tooLong.ok ? undefined : isUndecodable(tooLong.error)).toBe(true)
    expect(truncated.ok ? undefined : (truncated.error as Error).name).toBe('TruncatedFrameError')
    expect(isUndecodable((truncated as { error: unknown }).error)).toBe(false)
    expect(isUndecodable(new InvalidHeaderError())).toBe(true)
    expect(isUndecodable(new Error('reset'))).toBe(false)
  })

  it('delivers frames completed before an error, then the error', async () => {
    const wire = concat([referenceEncode([{ type: 0, body: Uint8Array.of(1) }, { type: 0, body: Uint8Array.of(2) }]), Uint8Array.of(0, 0, 0, 9, 0)])
    const got: Frame[] = []
    const err = await (async () => {
      try { for await (const f of decode(asAsync([wire]), { maxFrameLength: 8 })) got.push(f) } catch (e) { return e as Error }
    })()
    expect(err?.name).toBe('FrameTooLongError')
    expect(got.map(f => f.body[0])).toEqual([1, 2])
  })

  it('refuses to encode an oversized frame or a bad type', () => {
    expect(() => [...encode([{ type: 0, body: new Uint8Array(11) }], { maxFrameLength: 10 })]).toThrow(expect.objectContaining({ name: 'FrameTooLongError' }))
    expect(() => [...encode([{ type: 0, body: new Uint8Array(256) }], { format: { length: 1 } })]).toThrow(expect.objectContaining({ name: 'FrameTooLongError' }))
    expect(() => [...encode([{ type: 256, body: new Uint8Array(1) }])]).toThrow(expect.objectContaining({ name: 'InvalidFrameError' }))
    expect(() => [...encode([{ type: 1.5, body: new Uint8Array(1) }])]).toThrow(expect.objectContaining({ name: 'InvalidFrameError' }))
    expect(() => [...encode([{ type: 2, body: new Uint8Array(1) }], { format: formats.lengthPrefixed })]).toThrow(expect.objectContaining({ name: 'InvalidFrameError' }))
  })

  it('refuses a body that is not bytes, sync and async, and encodes nothing of it', async () => {
    // another typed array would be copied element by element: a Uint16Array of 4 elements fills 4 of the
    // 8 bytes its header announces, and the rest of the chunk would go out as whatever memory it held
    const bad: unknown[] = [new Uint16Array([0x4142, 0x4344, 0x4546, 0x4748]), new Float64Array([1.5]), new DataView(new ArrayBuffer(4)), new ArrayBuffer(4), 'text', [1, 2], null, undefined]
    for (const body of bad) {
      const frames = [{ type: 0, body: Uint8Array.of(1) }, { type: 0, body } as unknown as Frame]
      expect(() => [...encode(frames)], String(body)).toThrow(expect.objectContaining({ name: 'InvalidFrameError', message: expect.stringContaining('Uint8Array') }))
      const written: Array<Uint8Array | { subarray(): Uint8Array }> = []
      const err = await (async () => {
        try { for await (const chunk of encode(asAsync(frames))) written.push(chunk) } catch (e) { return e as Error }
      })()
      expect(err?.name, String(body)).toBe('InvalidFrameError')
      expect(concat(written), String(body)).toEqual(referenceEncode([{ type: 0, body: Uint8Array.of(1) }]).subarray(0, concat(written).byteLength))
    }
    expect(() => [...encode([null as unknown as Frame])]).toThrow(expect.objectContaining({ name: 'InvalidFrameError' }))
    // first, or after the producer paused (nothing gathered): refused the same way, never a TypeError that escapes
    async function * paused (bad: unknown): AsyncGenerator<Frame> {
      yield { type: 0, body: Uint8Array.of(1) }
      await new Promise(resolve => setTimeout(resolve, 5))
      yield bad as Frame
    }
    for (const bad of [null, { type: 0 }, { type: 0, body: null }]) {
      for (const frames of [asAsync([bad as Frame]), paused(bad)]) {
        const r = await settle((async () => { for await (const _ of encode(frames)) { /* drain */ } })())
        expect(r.ok ? undefined : (r.error as Error).name, JSON.stringify(bad)).toBe('InvalidFrameError')
      }
      const sinking = codec(memoryBytePair().a)
      const r = await settle(sinking.sink(asAsync([bad as Frame])))
      expect(r.ok ? undefined : (r.error as Error).name).toBe('InvalidFrameError')
    }
    // a Buffer is a Uint8Array
    expect(concat(encode([{ type: 0, body: Buffer.from([7]) }]))).toEqual(referenceEncode([{ type: 0, body: Uint8Array.of(7) }]))
  })

  it.each([
    [{ maxFrameLength: -1 }],
    [{ maxFrameLength: 1.5 }],
    [{ maxFrameLength: 2 ** 32 }],
    [{ format: { length: 3 as 4 } }],
    [{ format: { endian: 'middle' as 'big' } }],
    [{ format: { type: 'inside' as 'after' } }],
    [{ format: { lengthCounts: 'all' as 'body' } }],
    [{ format: { length: 'varint' as const, lengthCounts: 'frame' as const } }]
  ])('rejects invalid options at once: %j', (init) => {
    expect(() => encode([], init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => decode([], init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => codec(memoryBytePair().a, init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })
  it.each([
    ['null', null],
    ['a string', 'a socket'],
    ['an object without a source', { sink: async () => {} }],
    ['a source that is not async iterable', { source: [new Uint8Array(1)], sink: async () => {} }],
    ['no sink function', { source: (async function * () {})(), sink: 'x' }]
  ])('refuses a lower that is no byte duplex (%s) at once, with InvalidParametersError', (_name, lower) => {
    expect(() => codec(lower as never)).toThrow(expect.objectContaining({ name: 'InvalidParametersError', message: expect.stringMatching(/^expected lower/) }))
  })
  it('a byte source whose read throws instead of rejecting fails the frame source the same way: a rejection, not a throw', async () => {
    const throwing = { [Symbol.asyncIterator]: () => ({ next: (): Promise<IteratorResult<Uint8Array>> => { throw new Error('broken source') } }) }
    const frames = decode(throwing)[Symbol.asyncIterator]() as unknown as AsyncIterator<Frame> & { nextBatch(): Promise<Frame[] | undefined> }
    let read: Promise<unknown> | undefined
    expect(() => { read = frames.next() }).not.toThrow()
    await expect(read).rejects.toThrow('broken source')
    const again = decode(throwing)[Symbol.asyncIterator]() as unknown as AsyncIterator<Frame> & { nextBatch(): Promise<Frame[] | undefined> }
    expect(() => { read = again.nextBatch() }).not.toThrow()
    await expect(read).rejects.toThrow('broken source')
  })
})

describe('codec() stage', () => {
  it('aborts only its own connection on bad input and keeps earlier frames', async () => {
    const bad = memoryBytePair()
    const good = memoryBytePair()
    const badFrames = codec(bad.a)
    const goodFrames = codec(good.a)
    const writeBad = bad.b.sink([referenceEncode([{ type: FrameType.DATA, body: Uint8Array.of(7) }]), Uint8Array.of(0xff, 0xff, 0xff, 0xff)])
    const received: Frame[] = []
    const error = await (async () => {
      try { for await (const f of badFrames.source) received.push(f) } catch (err) { return err as Error }
    })()
    expect(error?.name).toBe('FrameTooLongError')
    expect(received).toEqual([{ type: 0, body: Uint8Array.of(7) }])
    await writeBad
    // the peer of the bad connection sees it torn down with the same typed reason
    await expect(collect(bad.b.source)).rejects.toMatchObject({ name: 'FrameTooLongError' })
    // the other connection is untouched
    const [got] = await Promise.all([collect(goodFrames.source), pipe([{ type: 0x40, body: Uint8Array.of(1) }], codec(good.b))])
    expect(got).toEqual([{ type: 0x40, body: Uint8Array.of(1) }])
  })

  it('aborts the connection only once the frames decoded before the bad header have been handed out', async () => {
    const aborted: Error[] = []
    const lower = {
      source: asAsync([concat([referenceEncode([{ type: 0, body: Uint8Array.of(1) }, { type: 0, body: Uint8Array.of(2) }]), Uint8Array.of(0xff, 0xff, 0xff, 0xff)])]),
      sink: async () => {},
      abort: (err: Error) => { aborted.push(err) }
    }
    const frames = codec(lower)
    expect((await frames.source.next()).value?.body).toEqual(Uint8Array.of(1))
    expect((await frames.source.next()).value?.body).toEqual(Uint8Array.of(2))
    expect(aborted).toEqual([])
    await expect(frames.source.next()).rejects.toMatchObject({ name: 'FrameTooLongError' })
    expect(aborted.map(e => e.name)).toEqual(['FrameTooLongError'])
  })

  it('rejects the sink and aborts the connection when a frame cannot be encoded', async () => {
    const pair = memoryBytePair()
    const a = codec(pair.a)
    const peer = collect(pair.b.source).catch((err: Error) => err)
    await expect(a.sink([{ type: 999, body: new Uint8Array(1) }])).rejects.toMatchObject({ name: 'InvalidFrameError' })
    expect(await peer).toMatchObject({ name: 'InvalidFrameError' })
  })

  it('forwards the goingAway signal of the duplex beneath, and has none when that has none', () => {
    const pair = memoryBytePair()
    expect(codec(pair.a).goingAway).toBeUndefined()
    const owner = new AbortController()
    const lower = { ...pair.a, goingAway: owner.signal }
    const frames = codec(lower)
    expect(frames.goingAway).toBe(owner.signal)
    owner.abort(new Error('server closing'))
    expect(frames.goingAway?.aborted).toBe(true)
    // read through, not copied at creation: a lower duplex whose signal changes is followed
    const later = new AbortController()
    lower.goingAway = later.signal
    expect(frames.goingAway).toBe(later.signal)
  })

  it('passes a going-away watcher to the duplex beneath when that can be watched, and says no otherwise', () => {
    const pair = memoryBytePair()
    const watcher = { onGoingAway: () => {} }
    // beneath has only a signal (or nothing): the caller falls back to goingAway
    expect(codec(pair.a).watchGoingAway(watcher)).toBe(false)
    expect(codec({ ...pair.a, goingAway: new AbortController().signal }).watchGoingAway(watcher)).toBe(false)
    const watching = new Set<unknown>()
    const lower = {
      ...pair.a,
      watchGoingAway: (w: unknown) => { watching.add(w); return true },
      unwatchGoingAway: (w: unknown) => { watching.delete(w) }
    }
    const frames = codec(lower)
    expect(frames.watchGoingAway(watcher)).toBe(true)
    expect([...watching]).toEqual([watcher])
    frames.unwatchGoingAway(watcher)
    expect(watching.size).toBe(0)
    codec(pair.a).unwatchGoingAway(watcher) // nothing beneath to forget it: no error
  })

  it('serves whole batches through nextBatch()', async () => {
    const pair = memoryBytePair()
    const a = codec(pair.a)
    void pair.b.sink([referenceEncode(Array.from({ length: 5 }, (_, i) => ({ type: 0, body: Uint8Array.of(i) })))])
    const first = await a.source.next()
    expect(first.value?.body[0]).toBe(0)
    expect((await a.source.nextBatch())?.map(f => f.body[0])).toEqual([1, 2, 3, 4])
    expect(await a.source.nextBatch()).toBeUndefined()
  })
})

describe('zero copy across a header/body split', () => {
  it('decodes a body that arrives whole after its header without copying it', () => {
    const body = new Uint8Array(70_000).fill(9)
    const chunks = [...encode([{ type: 3, body }])]
    expect(chunks).toHaveLength(1)
    const frames = [...decode(chunks)]
    expect(frames[0].body.buffer).toBe(body.buffer)
    expect(frames[0].body.byteOffset).toBe(body.byteOffset)
    expect(frames[0].body).toEqual(body)
    expect([...decode([Uint8Array.of(0, 0, 0, 2, 1), Uint8Array.of(7, 8)])]).toEqual([{ type: 1, body: Uint8Array.of(7, 8) }])
  })
})

describe('frameCheck(init?)', () => {
  it('throws what encoding would throw, and passes what it would encode', () => {
    const check = frameCheck({ maxFrameLength: 16 })
    for (const ok of [{ type: 0, body: new Uint8Array(16) }, { type: 0xFF, body: new Uint8Array(0) }, { type: 0x40, body: new Uint8ArrayList(new Uint8Array(8), new Uint8Array(8)) }]) expect(() => { check(ok) }).not.toThrow()
    expect(() => { check({ type: 0, body: new Uint8Array(17) }) }).toThrow(expect.objectContaining({ name: 'FrameTooLongError', length: 17, maxFrameLength: 16 }))
    for (const type of [256, -1, 1.5, Number.NaN]) expect(() => { check({ type, body: new Uint8Array(1) }) }, String(type)).toThrow(expect.objectContaining({ name: 'InvalidFrameError' }))
    expect(() => { check({ type: 0, body: 'text' as unknown as Uint8Array }) }).toThrow(expect.objectContaining({ name: 'InvalidFrameError' }))
    // a format without a type byte carries type 0 only
    expect(() => { frameCheck({ format: formats.int32 })({ type: 0x40, body: new Uint8Array(1) }) }).toThrow(expect.objectContaining({ name: 'InvalidFrameError' }))
    expect(() => frameCheck({ maxFrameLength: -1 })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })
})
