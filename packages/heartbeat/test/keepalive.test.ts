import { codec, formats, FrameType } from '@proto/codec'
import { memoryBytePair } from '@proto/stage-compliance'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { HeartbeatDuplex, HeartbeatInit } from '../src/index.js'
import { heartbeat } from '../src/index.js'
import { on } from './helpers/events.js'
import { f, rawPeer, settle } from './helpers/raw-peer.js'

const INTERVAL = 1000
const TIMEOUT = 3000
const init: HeartbeatInit = { mode: 'keepalive', interval: INTERVAL, timeout: TIMEOUT }
const text = (body: Uint8Array): string => new TextDecoder().decode(body)

describe("mode 'keepalive': keep-alive for layouts without a type byte (fake timers)", () => {
  let stage: HeartbeatDuplex | undefined

  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => {
    stage?.abort(new Error('test over'))
    stage = undefined
    vi.useRealTimers()
  })

  it('sends an empty DATA frame when nothing was sent for interval, never answers or hands up empty frames', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, init)
    const pings: number[] = []
    on(hb, 'ping', () => pings.push(performance.now()))
    const got: string[] = []
    void settle((async () => { for await (const x of hb.source) got.push(text(x.body)) })())
    const start = performance.now()
    // the peer echoes everything, our keep-alives included, and says something now and then
    for (let t = 0; t < 3500; t += 100) {
      await vi.advanceTimersByTimeAsync(100)
      for (const w of peer.written.splice(0)) peer.send(w)
      if (t === 1500) peer.send(f(FrameType.DATA, 'hello'))
    }
    expect(pings.map(t => t - start)).toEqual([1000, 2000, 3000])
    expect(got).toEqual(['hello']) // the echoed keep-alives never reach the application
    expect(hb.stats()).toMatchObject({ pingsSent: 3, pingsReceived: 3, pongsSent: 0, pongsReceived: 0 })
    expect(hb.stats().rtt.samples).toBe(0)
    expect(peer.aborted).toBeUndefined()
  })

  it('sends nothing while data flows', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, init)
    void settle(hb.sink((async function * () {
      for (let i = 0; i < 10; i++) {
        await new Promise(resolve => setTimeout(resolve, 500))
        peer.send(f(FrameType.DATA, 'alive'))
        yield f(FrameType.DATA, `m${i}`)
      }
      await new Promise(() => {})
    })()))
    void settle((async () => { for await (const _ of hb.source) { /* drain */ } })())
    await vi.advanceTimersByTimeAsync(5000)
    expect(peer.written.every(x => x.body.byteLength > 0)).toBe(true)
    expect(peer.written).toHaveLength(10)
  })

  it('judges the peer by inbound silence alone: any frame is proof of life, none for timeout is death', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, init)
    const reading = settle((async () => { for await (const _ of hb.source) { /* drain */ } })())
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(TIMEOUT - 100)
      peer.send(i % 2 === 0 ? f(FrameType.DATA) : f(FrameType.DATA, 'x')) // keep-alives and data alike
    }
    await vi.advanceTimersByTimeAsync(0)
    expect(peer.aborted).toBeUndefined()
    const last = performance.now()
    await vi.advanceTimersByTimeAsync(TIMEOUT)
    expect(peer.aborted).toBeUndefined() // pending input is read before the verdict: two ticks under fake timers
    await vi.advanceTimersByTimeAsync(2)
    expect(performance.now() - last).toBe(TIMEOUT + 2)
    expect(peer.aborted?.name).toBe('HeartbeatTimeoutError')
    expect((await reading).error?.name).toBe('HeartbeatTimeoutError')
  })

  it('two stages over a type-less layout keep each other alive and carry the messages', async () => {
    const pair = memoryBytePair()
    const a = stage = heartbeat(codec(pair.a, { format: formats.int32 }), init)
    const b = heartbeat(codec(pair.b, { format: formats.int32 }), init)
    const got: string[] = []
    void settle((async () => { for await (const x of b.source) got.push(text(x.body)) })())
    void settle((async () => { for await (const _ of a.source) { /* drain */ } })())
    await vi.advanceTimersByTimeAsync(10 * TIMEOUT)
    await a.sink([f(FrameType.DATA, 'one'), f(FrameType.DATA, 'two')])
    await vi.advanceTimersByTimeAsync(10)
    expect(got).toEqual(['one', 'two'])
    expect(a.stats().pingsSent).toBeGreaterThan(5)
    expect(b.stats().pingsReceived).toBe(a.stats().pingsSent)
    b.abort(new Error('done'))
  })
})

describe("mode 'keepalive' options", () => {
  for (const option of ['hello', 'adaptive', 'pingType', 'pongType', 'pingBody', 'pongBody', 'minPingInterval', 'maxPingBody', 'crossing', 'random'] as const) {
    it(`rejects ${option}, which has no meaning without pings`, () => {
      const value = { hello: true, adaptive: true, pingType: 9, pongType: 10, pingBody: new Uint8Array(0), pongBody: new Uint8Array(0), minPingInterval: 100, maxPingBody: 0, crossing: 'keep', random: Math.random }[option]
      expect(() => heartbeat(rawPeer().lower, { ...init, [option]: value })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    })
  }

  it('refuses a lower that is no frame duplex at once, with InvalidParametersError', () => {
    for (const lower of [null, undefined, 42, {}, { source: {}, sink: async () => {} }, { source: (async function * () {})() }]) {
      expect(() => heartbeat(lower as never, init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    }
  })

  it('rejects an unknown mode', () => {
    expect(() => heartbeat(rawPeer().lower, { mode: 'pong' as 'ping' })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })
})
