import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { ByteChunk, PushSource, PushTarget } from '@proto/interface'
import { heapPerObject } from '@proto/stage-compliance'
import { describe, expect, it, vi } from 'vitest'
import { FrameEncoder } from '../src/encoder.js'
import { toLayout } from '../src/format.js'
import type { Frame } from '../src/index.js'
import { codec, decode, formats, FrameType } from '../src/index.js'
import { PushEncoding } from '../src/push-encode.js'
import { asAsync, concat } from './bytes.js'
import { referenceEncode } from './reference.js'

/**
 * Push mode in the codec (`PushSource`/`PushTarget` from @proto/interface), over lower duplexes that do not
 * push: the frame source subscribed to by the stage above, and a pushing producer given to `sink`.
 */

function recorder (): PushTarget<Frame> & { batches: Frame[][], ended: Array<Error | undefined> } {
  const r = {
    batches: [] as Frame[][],
    ended: [] as Array<Error | undefined>,
    push (frames: Frame[]): boolean { r.batches.push([...frames]); return true },
    end (err?: Error): void { r.ended.push(err) }
  }
  return r
}

/** A producer that pushes `batches` of frames once subscribed, then ends; counts resumes. */
function producer (batches: Frame[][]): PushSource<Frame> & AsyncIterableIterator<Frame> & { resumed: number, returned: boolean } {
  let target: PushTarget<Frame> | undefined
  let waiting = false
  const queue = [...batches]
  const p = {
    resumed: 0,
    returned: false,
    subscribe (t: PushTarget<Frame>): void { target = t; run() },
    resume (): void { p.resumed++; waiting = false; run() },
    return: async (): Promise<IteratorResult<Frame>> => { p.returned = true; return { done: true, value: undefined } },
    // as the heartbeat's outbound: the iterator is the push source itself, and is never pulled here
    [Symbol.asyncIterator] (): AsyncIterableIterator<Frame> { return p },
    next: async (): Promise<IteratorResult<Frame>> => { throw new Error('expected push mode, but the codec pulled') }
  }
  function run (): void {
    while (target !== undefined && !waiting && !p.returned && queue.length > 0) {
      if (!target.push(queue.shift() as Frame[])) waiting = true
    }
    if (queue.length === 0 && !waiting && target !== undefined) {
      const t = target
      target = undefined
      t.end()
    }
  }
  return p
}

describe('codec push mode over a lower duplex that does not push', () => {
  it('a subscribed stage gets the frames of each read in one batch, then the end once', async () => {
    const wire = referenceEncode([{ type: 0, body: Uint8Array.of(1) }, { type: 0, body: Uint8Array.of(2) }, { type: 0x40, body: Uint8Array.of(3) }])
    const frames = codec({ source: asAsync([wire.subarray(0, 7), wire.subarray(7)]), sink: async () => {} })
    const r = recorder()
    frames.source.subscribe(r)
    await expect.poll(() => r.ended.length).toBe(1)
    expect(r.batches.flat().map(f => f.body[0])).toEqual([1, 2, 3])
    expect(r.batches.length).toBe(2)
    expect(r.ended).toEqual([undefined])
  })

  it('a decoding error reaches the subscriber after the frames before it, then the connection is aborted', async () => {
    const aborted: Error[] = []
    const lower = {
      source: asAsync([concat([referenceEncode([{ type: 0, body: Uint8Array.of(1) }, { type: 0, body: Uint8Array.of(2) }]), Uint8Array.of(0xff, 0xff, 0xff, 0xff)])]),
      sink: async () => {},
      abort: (err: Error) => { aborted.push(err) }
    }
    const r = recorder()
    codec(lower).source.subscribe(r)
    await expect.poll(() => r.ended.length).toBe(1)
    expect(r.batches.flat().map(f => f.body[0])).toEqual([1, 2])
    expect(r.ended[0]?.name).toBe('FrameTooLongError')
    expect(aborted.map(e => e.name)).toEqual(['FrameTooLongError'])
  })

  it('a pushing producer given to sink is encoded for a lower sink that pulls, in order, one chunk per gathered run', async () => {
    const chunks: ByteChunk[] = []
    const lower = {
      source: asAsync([]),
      sink: async (source: AsyncIterable<ByteChunk> | Iterable<ByteChunk>) => { for await (const c of source) chunks.push(c) }
    }
    const batches = Array.from({ length: 5 }, (_, b) => Array.from({ length: 3 }, (_, i) => ({ type: FrameType.DATA, body: Uint8Array.of(b * 3 + i) })))
    const p = producer(batches)
    await codec(lower).sink(p)
    const decoded = [...decode(chunks.map(c => c instanceof Uint8Array ? c : c.subarray()))]
    expect(decoded.map(f => f.body[0])).toEqual(Array.from({ length: 15 }, (_, i) => i))
  })

  it('an invalid frame from a pushing producer fails the sink after the frames before it, and releases the producer', async () => {
    const chunks: ByteChunk[] = []
    const lower = {
      source: asAsync([]),
      sink: async (source: AsyncIterable<ByteChunk> | Iterable<ByteChunk>) => { for await (const c of source) chunks.push(c) }
    }
    const p = producer([[{ type: FrameType.DATA, body: Uint8Array.of(1) }, { type: 999, body: Uint8Array.of(2) }], [{ type: FrameType.DATA, body: Uint8Array.of(3) }]])
    await expect(codec(lower).sink(p)).rejects.toMatchObject({ name: 'InvalidFrameError' })
    expect([...decode(chunks.map(c => c instanceof Uint8Array ? c : c.subarray()))].map(f => f.body[0])).toEqual([1])
    expect(p.returned).toBe(true)
  })
})

describe('sinkPush: a pushing producer with a watcher instead of a promise', () => {
  /** A watcher that records the outcome. */
  function watcher (): { onSinkEnd(err?: Error): void, ended: Promise<Error | undefined> } {
    let done: (err: Error | undefined) => void = () => {}
    return { ended: new Promise((resolve) => { done = resolve }), onSinkEnd (err?: Error) { done(err) } }
  }

  it('hands the encoding to a lower duplex that has sinkPush, watcher and all', async () => {
    const chunks: ByteChunk[] = []
    let watched: unknown
    const lower = {
      source: asAsync([]),
      sink: async () => { throw new Error('expected sinkPush, but sink was called') },
      sinkPush: (source: PushSource<ByteChunk>, w: { onSinkEnd(err?: Error): void }) => {
        watched = w
        source.subscribe({ push: (c) => { chunks.push(...c); return true }, end: (err) => { queueMicrotask(() => { w.onSinkEnd(err) }) } })
      }
    }
    const w = watcher()
    codec(lower).sinkPush(producer([[{ type: FrameType.DATA, body: Uint8Array.of(7) }], [{ type: FrameType.DATA, body: Uint8Array.of(8) }]]), w)
    expect(await w.ended).toBeUndefined()
    expect(watched).toBe(w)
    expect([...decode(chunks.map(c => c instanceof Uint8Array ? c : c.subarray()))].map(f => f.body[0])).toEqual([7, 8])
  })

  it("over a lower duplex with only sink(), tells the watcher the sink's outcome", async () => {
    const chunks: ByteChunk[] = []
    const lower = {
      source: asAsync([]),
      sink: async (source: AsyncIterable<ByteChunk> | Iterable<ByteChunk>) => { for await (const c of source) chunks.push(c) }
    }
    const ok = watcher()
    codec(lower).sinkPush(producer([[{ type: FrameType.DATA, body: Uint8Array.of(1) }]]), ok)
    expect(await ok.ended).toBeUndefined()
    expect(chunks.length).toBeGreaterThan(0)
    const failing = watcher()
    codec(lower).sinkPush(producer([[{ type: 999, body: Uint8Array.of(2) }]]), failing)
    expect((await failing.ended)?.name).toBe('InvalidFrameError')
    const throwing = watcher()
    codec({ source: asAsync([]), sink: () => { throw new Error('no sink here') } }).sinkPush(producer([]), throwing)
    expect((await throwing.ended)?.message).toBe('no sink here')
  })
})

const frame = (n: number): Frame => ({ type: 0, body: Uint8Array.of(n) })

describe('what a push encoding holds', () => {
  it('keeps no array of gathered frames until a pulling consumer makes it gather some', async () => {
    const encoder = new FrameEncoder(toLayout(formats.proto, undefined))
    const idle = producer([])
    const perEncoding = heapPerObject(50_000, () => new PushEncoding(idle, encoder))
    // 134 B here, the encoding alone (its producer and encoder are shared); an empty array of its own made
    // it 168 B
    expect(perEncoding).toBeLessThan(150)
    // pulled, it still gathers and hands out every frame, across several takes
    const pulled = new PushEncoding(producer([[frame(1), frame(2)], [frame(3)]]), encoder)
    const chunks: ByteChunk[] = []
    for await (const chunk of pulled) chunks.push(chunk)
    expect(concat(chunks)).toEqual(referenceEncode([frame(1), frame(2), frame(3)]))
  })
})

describe('a body in progress when the connection ends', () => {
  /** Weak references to every buffer of 1 MiB or more the codec allocates while `run` runs (a body that spans reads). */
  async function bodiesAllocated (run: () => Promise<void>): Promise<Array<WeakRef<ArrayBufferLike>>> {
    const refs: Array<WeakRef<ArrayBufferLike>> = []
    const allocUnsafe = Buffer.allocUnsafe.bind(Buffer)
    const spy = vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
      const b = allocUnsafe(size)
      if (size >= 1 << 20) refs.push(new WeakRef(b.buffer))
      return b
    })
    try {
      await run()
    } finally {
      spy.mockRestore()
    }
    return refs
  }
  async function collected (refs: Array<WeakRef<ArrayBufferLike>>): Promise<boolean> {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    for (let i = 0; i < 3 && refs.some(r => r.deref() !== undefined); i++) {
      await new Promise(resolve => setImmediate(resolve))
      gc()
    }
    return refs.every(r => r.deref() === undefined)
  }
  // a header announcing 8 MiB, then 1 MiB of it: the body is given its full 8 MiB (16 × what arrived covers it)
  const header = Uint8Array.of(0x00, 0x80, 0x00, 0x00, 0x40)
  const part = new Uint8Array(1 << 20)

  it('is let go when a lower source that pushes ends or fails, though the stage, its subscriber and the lower duplex are still held', async () => {
    for (const ending of [undefined, new Error('connection reset')]) {
      let target: PushTarget<ByteChunk> | undefined
      const lower = {
        source: { subscribe (t: PushTarget<ByteChunk>) { target = t }, resume () {}, [Symbol.asyncIterator] () { return this }, next: async () => await new Promise<never>(() => {}) },
        sink: async () => {},
        abort: () => {}
      }
      const r = recorder()
      const stage = codec(lower, { maxFrameLength: 16 << 20 })
      const refs = await bodiesAllocated(async () => {
        stage.source.subscribe(r)
        target?.push([header, part])
      })
      expect(refs).toHaveLength(1)
      target?.end(ending)
      expect(r.ended.map(e => e?.name)).toEqual([ending === undefined ? 'TruncatedFrameError' : 'Error'])
      expect(await collected(refs)).toBe(true)
      expect([stage, lower, r]).toHaveLength(3) // all still held here
    }
  })

  it('is let go when a lower source that is read ends inside it', async () => {
    const stage = codec({ source: asAsync([header, part]), sink: async () => {} }, { maxFrameLength: 16 << 20 })
    const it = stage.source[Symbol.asyncIterator]()
    let failure: unknown
    const refs = await bodiesAllocated(async () => {
      await it.next().catch((err: unknown) => { failure = err })
    })
    expect(refs).toHaveLength(1)
    expect((failure as Error).name).toBe('TruncatedFrameError')
    expect(await collected(refs)).toBe(true)
    expect([stage, it]).toHaveLength(2)
  })
})
