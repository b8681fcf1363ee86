import type { ByteChunk, PushSource, PushTarget } from '@proto/interface'
import { heapPerObject } from '@proto/stage-compliance'
import { describe, expect, it } from 'vitest'
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
