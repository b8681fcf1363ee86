import { FrameType } from '@proto/codec'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { HeartbeatDuplex } from '../src/index.js'
import { heartbeat } from '../src/index.js'
import { f, forever, rawPeer, settle } from './helpers/raw-peer.js'

const CLOSE_TIMEOUT = 1000
const init = { interval: 60_000, timeout: 120_000, closeTimeout: CLOSE_TIMEOUT }
const data = (n: number): number[] => Array.from({ length: n }, (_, i) => i)
const written = (peer: ReturnType<typeof rawPeer>): number[] => peer.written.filter(x => x.type === FrameType.DATA).map(x => x.body[0])

describe('close(): a graceful end that loses nothing (fake timers)', () => {
  let stage: HeartbeatDuplex | undefined

  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => {
    stage?.abort(new Error('test over'))
    stage = undefined
    vi.useRealTimers()
  })

  for (const kind of ['sync', 'async', 'batch'] as const) {
    it(`flushes every frame of a ${kind} source to a slow writer, however long it takes while it progresses, then FIN, then waits for the peer`, async () => {
      const peer = rawPeer({ batchedSink: false })
      const hb = stage = heartbeat(peer.lower, init)
      peer.holdWrites()
      const frames = data(50).map(i => f(FrameType.DATA, new Uint8Array([i])))
      const batches = [frames.slice(0, 20), frames.slice(20, 45), frames.slice(45)]
      const batchSource = {
        [Symbol.asyncIterator]: () => batchSource,
        next: async () => { throw new Error('next() called on a batching source') },
        nextBatch: async () => batches.shift()
      }
      const source = kind === 'sync' ? frames : kind === 'async' ? (async function * () { yield * frames })() : batchSource
      const sinking = settle(hb.sink(source))
      let closed = false
      const closing = settle(hb.close()).finally(() => { closed = true })
      // one frame every 500 ms: the whole flush takes 25 closeTimeouts, but it never stalls for one
      for (let i = 0; i < 50; i++) {
        await vi.advanceTimersByTimeAsync(500)
        peer.releaseOne()
        await vi.advanceTimersByTimeAsync(0)
      }
      await vi.advanceTimersByTimeAsync(0)
      expect(written(peer)).toEqual(data(50))
      expect(peer.aborted).toBeUndefined()
      expect(await sinking).toEqual({ ok: true })
      expect(peer.sinkEnded).toBe(true) // FIN
      expect(closed).toBe(false) // the peer has not ended its side yet
      await vi.advanceTimersByTimeAsync(CLOSE_TIMEOUT - 10)
      peer.end()
      expect(await closing).toEqual({ ok: true })
    })
  }

  it('gives up closeTimeout after the last frame went down when the writer stops taking, and still delivers what arrived', async () => {
    const peer = rawPeer({ batchedSink: false })
    const hb = stage = heartbeat(peer.lower, init)
    peer.send(f(FrameType.DATA, 'a'), f(FrameType.DATA, 'b')) // arrived, not read yet
    peer.holdWrites()
    void hb.sink(data(10).map(i => f(FrameType.DATA, new Uint8Array([i])))).catch(() => {})
    const closing = settle(hb.close())
    await vi.advanceTimersByTimeAsync(300)
    for (let i = 0; i < 3; i++) { peer.releaseOne(); await vi.advanceTimersByTimeAsync(0) }
    const lastWrite = performance.now()
    await vi.advanceTimersByTimeAsync(CLOSE_TIMEOUT - 1)
    expect(peer.aborted).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(performance.now() - lastWrite).toBe(CLOSE_TIMEOUT)
    expect((await closing).error?.name).toBe('CloseTimeoutError')
    expect(peer.aborted?.name).toBe('CloseTimeoutError')
    // nothing the stage had accepted from the peer is lost: the queued frames come first, then the error
    const got: string[] = []
    const r = await settle((async () => { for await (const x of hb.source) got.push(new TextDecoder().decode(x.body)) })())
    expect(got).toEqual(['a', 'b'])
    expect(r.error?.name).toBe('CloseTimeoutError')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('gives up closeTimeout after its FIN when the peer keeps its side open', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, init)
    await vi.advanceTimersByTimeAsync(5000)
    const closing = settle(hb.close())
    await vi.advanceTimersByTimeAsync(0)
    expect(peer.sinkEnded).toBe(true)
    const fin = performance.now()
    await vi.advanceTimersByTimeAsync(CLOSE_TIMEOUT - 1)
    expect(peer.aborted).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(performance.now() - fin).toBe(CLOSE_TIMEOUT)
    expect((await closing).error?.name).toBe('CloseTimeoutError')
  })

  it('gives up when the user source neither yields nor ends', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, init)
    void hb.sink(forever()).catch(() => {})
    const closing = settle(hb.close())
    await vi.advanceTimersByTimeAsync(CLOSE_TIMEOUT)
    expect((await closing).error?.name).toBe('CloseTimeoutError')
  })

  it('keeps pinging and answering while it waits for the peer, and the peer may still send', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, { interval: 100, timeout: 120_000, closeTimeout: 10_000 })
    const writing = settle(hb.sink((async function * () {
      yield f(FrameType.DATA, 'last')
      await new Promise(resolve => setTimeout(resolve, 380)) // the source ends a little later
    })()))
    const closing = settle(hb.close())
    await vi.advanceTimersByTimeAsync(50)
    peer.send(f(FrameType.PING, 'p'), f(FrameType.DATA, 'late'))
    await vi.advanceTimersByTimeAsync(400)
    expect(peer.written.map(x => x.type)).toEqual([FrameType.DATA, FrameType.PONG, FrameType.PING, FrameType.PING, FrameType.PING])
    expect((await writing).ok).toBe(true)
    expect(peer.sinkEnded).toBe(true)
    const r = await hb.source.next()
    expect(new TextDecoder().decode(r.value.body)).toBe('late')
    peer.end()
    expect(await closing).toEqual({ ok: true })
  })

  it('before sink(): FIN at once; a later sink() is refused', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, init)
    const closing = settle(hb.close())
    await vi.advanceTimersByTimeAsync(0)
    expect(peer.sinkEnded).toBe(true)
    expect((await settle(hb.sink([f(FrameType.DATA)]))).error?.name).toBe('InvalidParametersError')
    peer.end()
    expect(await closing).toEqual({ ok: true })
  })

  it('is idempotent and leaves no timer behind', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, init)
    const a = hb.close()
    const b = hb.close()
    peer.end()
    await vi.advanceTimersByTimeAsync(0)
    await Promise.all([a, b])
    expect(vi.getTimerCount()).toBe(0)
  })
})
