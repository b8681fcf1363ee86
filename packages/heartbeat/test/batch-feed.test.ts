import type { Frame } from '@proto/codec'
import { FrameType } from '@proto/codec'
import { afterEach, describe, expect, it } from 'vitest'
import type { HeartbeatDuplex } from '../src/index.js'
import { heartbeat } from '../src/index.js'
import { f, rawPeer, settle } from './helpers/raw-peer.js'

const turn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

/** A batch source (another stage's queue, or `pushable()`): hands `batches` out, refuses `next()`. */
function batchSource (batches: Frame[][]): AsyncIterable<Frame> & { calls: number } {
  const out = {
    calls: 0,
    [Symbol.asyncIterator]: () => ({
      next: async (): Promise<IteratorResult<Frame>> => { throw new Error('next() called on a batching source') },
      nextBatch: async (): Promise<Frame[] | undefined> => { out.calls++; return batches.shift() }
    })
  }
  return out
}

describe('the feed takes a batch source a batch at a time', () => {
  let stage: HeartbeatDuplex | undefined
  afterEach(() => {
    stage?.abort(new Error('test over'))
    stage = undefined
  })

  it('hands each batch down as one run, in order, reading the send clock once per run', async () => {
    const peer = rawPeer({ batchedSink: true })
    let clockReads = 0
    const clock = { now: (): number => { clockReads++; return performance.now() } }
    const hb = stage = heartbeat(peer.lower, { interval: 60_000, timeout: 120_000, clock })
    peer.holdWrites()
    const frames = Array.from({ length: 900 }, (_, i) => f(FrameType.DATA, new Uint8Array([i & 0xff, i >> 8])))
    const source = batchSource([frames.slice(0, 300), frames.slice(300, 600), frames.slice(600)])
    const sinking = settle(hb.sink(source))
    await turn()
    const before = clockReads
    const batchesBefore = peer.batches
    peer.releaseWrites()
    for (let i = 0; i < 100 && peer.written.filter(x => x.type === FrameType.DATA).length < 900; i++) await turn()
    const data = peer.written.filter(x => x.type === FrameType.DATA)
    expect(data.map(x => x.body[0] | (x.body[1] << 8))).toEqual(frames.map((_, i) => i))
    // three source batches: three runs down (each within OUTBOUND_BATCH_FRAMES), one clock read each at most
    expect(peer.batches - batchesBefore).toBeLessThanOrEqual(4)
    expect(clockReads - before).toBeLessThanOrEqual(6)
    expect(source.calls).toBeLessThanOrEqual(5)
    expect(await sinking).toEqual({ ok: true })
    const closing = settle(hb.close())
    peer.end()
    expect(await closing).toEqual({ ok: true })
  })
})

describe('the source has one consumer', () => {
  it('a second read while one waits is refused with InvalidParametersError; the first still gets the next frame', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { interval: 60_000, timeout: 120_000 })
    const it = hb.source
    const first = it.next()
    const second = settle(it.nextBatch())
    const third = settle(it.next())
    expect((await second).error?.name).toBe('InvalidParametersError')
    expect((await third).error?.name).toBe('InvalidParametersError')
    peer.send(f(0x40, 'one'))
    const r = await first
    expect(r.done).toBe(false)
    expect(new TextDecoder().decode(r.value.body)).toBe('one')
    peer.send(f(0x40, 'two'))
    const batch = await it.nextBatch()
    expect(batch?.map(x => new TextDecoder().decode(x.body))).toEqual(['two'])
    hb.abort(new Error('done'))
  })
})
