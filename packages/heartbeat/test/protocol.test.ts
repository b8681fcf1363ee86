import type { Frame } from '@proto/codec'
import { ADAPTIVE_FLAG, codec, decodeGoAway, decodeHello, encodeHello, FrameType, GoAwayCode } from '@proto/codec'
import type { Clock, Timers } from '@proto/interface'
import { memoryBytePair } from '@proto/stage-compliance'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { HeartbeatDuplex, HeartbeatInit } from '../src/index.js'
import { heartbeat } from '../src/index.js'
import { on } from './helpers/events.js'
import { f, forever, rawPeer, settle } from './helpers/raw-peer.js'

describe('options', () => {
  const bad: Array<[string, HeartbeatInit]> = [
    ['timeout equal to interval', { interval: 1000, timeout: 1000 }],
    ['timeout below interval', { interval: 1000, timeout: 500 }],
    ['negative interval', { interval: -1 }],
    ['NaN timeout', { timeout: Number.NaN }],
    ['infinite timeout', { timeout: Number.POSITIVE_INFINITY }],
    ['interval as a string', { interval: '15' as unknown as number }],
    ['ping and pong of one type', { pingType: 7, pongType: 7 }],
    ['frame type above 255', { pingType: 256 }],
    ['fractional frame type', { pongType: 2.5 }],
    ['empty queue', { maxQueuedFrames: 0 }],
    ['fractional queue bytes', { maxQueuedBytes: 10.5 }],
    ['zero closeTimeout', { closeTimeout: 0 }],
    ['adaptive min not above interval', { interval: 1000, timeout: 3000, adaptive: { min: 1000 } }],
    ['adaptive max below min', { interval: 1000, timeout: 3000, adaptive: { min: 2000, max: 1500 } }],
    ['adaptive multiplier 0', { adaptive: { multiplier: 0 } }],
    ['adaptive without a timeout', { timeout: 0, adaptive: true }],
    ['pingBody of the wrong kind', { pingBody: 'seq' as 'sequence' }],
    ['negative minPingInterval', { minPingInterval: -5 }],
    ['helloFlags above a byte', { hello: true, helloFlags: 0x100 }],
    ['fractional helloFlags', { hello: true, helloFlags: 1.5 }],
    ['a clock without now()', { clock: {} as unknown as Clock }],
    ['timers without setTimeout()', { timers: {} as unknown as Timers }],
    ['a clock that is not an object', { clock: 5 as unknown as Clock }]
  ]
  for (const [name, init] of bad) {
    it(`rejects ${name} at once`, () => {
      const peer = rawPeer()
      expect(() => heartbeat(peer.lower, init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    })
  }

  it('accepts 0 to switch pinging or dead-peer detection off', async () => {
    vi.useFakeTimers()
    try {
      const peer = rawPeer()
      const hb = heartbeat(peer.lower, { interval: 0, timeout: 0 })
      expect(vi.getTimerCount()).toBe(0)
      await vi.advanceTimersByTimeAsync(100_000)
      expect(peer.written).toHaveLength(0)
      expect(peer.aborted).toBeUndefined()
      hb.abort(new Error('done'))
    } finally {
      vi.useRealTimers()
    }
  })

  it('has the documented defaults', () => {
    const hb = heartbeat(rawPeer().lower)
    expect(hb.stats().interval).toBe(15_000)
    expect(hb.stats().timeout).toBe(45_000)
    hb.abort(new Error('done'))
  })
})

/** Two heartbeat stages over codec over an in-memory byte pair. */
function linked (a: HeartbeatInit, b: HeartbeatInit): { a: HeartbeatDuplex, b: HeartbeatDuplex } {
  const pair = memoryBytePair()
  return { a: heartbeat(codec(pair.a), a), b: heartbeat(codec(pair.b), b) }
}

describe('HELLO negotiation', () => {
  afterEach(() => { vi.useRealTimers() })

  it('both sides adopt the larger interval and the larger timeout', async () => {
    vi.useFakeTimers()
    const { a, b } = linked({ hello: true, interval: 1000, timeout: 5000 }, { hello: true, interval: 2000, timeout: 3000 })
    await vi.advanceTimersByTimeAsync(0)
    for (const side of [a, b]) {
      expect(side.stats().interval).toBe(2000)
      expect(side.stats().timeout).toBe(5000)
    }
    // and they keep each other alive with those values
    await vi.advanceTimersByTimeAsync(20_000)
    expect(a.stats().pingsSent + b.stats().pingsSent).toBeGreaterThan(5)
    expect(a.stats().pingsSent).toBeLessThanOrEqual(10)
    const data = settle((async () => { for await (const x of b.source) return x })())
    await a.sink([f(FrameType.DATA, 'after hello')])
    expect(((await data) as any).ok).toBe(true)
    a.abort(new Error('done'))
    b.abort(new Error('done'))
  })

  it('fails with ProtocolVersionError when the peer speaks another version', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { hello: true })
    await peer.waitWritten(1)
    expect(peer.written[0].type).toBe(FrameType.HELLO)
    peer.send(f(FrameType.HELLO, encodeHello({ version: 9, interval: 1000, timeout: 3000 })))
    const r = await settle(hb.source.next())
    expect(r.error?.name).toBe('ProtocolVersionError')
    expect(r.error?.cause?.name).toBe('ProtocolVersionError')
    expect(r.error?.version).toBe(9)
    expect(r.error?.supported).toBe(1)
    expect((await peer.waitAborted()).name).toBe('ProtocolVersionError')
    // GOAWAY DO_NOT_RETRY went out first: the peer cannot speak our version
    expect(peer.written.map(x => x.type)).toEqual([FrameType.HELLO, FrameType.GOAWAY])
    expect(decodeGoAway(peer.written[1].body).code).toBe(GoAwayCode.DO_NOT_RETRY)
  })

  it('refuses a HELLO that asks for a longer timeout than maxPeerTimeout (4× our own, at least 3 minutes, by default): a silent peer cannot hold the connection for weeks', async () => {
    const asks = [
      { interval: 1000, timeout: 4_294_967_295 },
      { interval: 180_001, timeout: 180_002 },
      { interval: 1000, timeout: 2000, flags: ADAPTIVE_FLAG, minPingInterval: 0, adaptive: { interval: 1000, max: 170_000, grace: 10_001 } }
    ]
    for (const ask of asks) {
      const peer = rawPeer()
      const hb = heartbeat(peer.lower, { hello: true, interval: 1000, timeout: 3000 })
      peer.send(f(FrameType.HELLO, encodeHello(ask)))
      const r = await settle(hb.source.next())
      expect(r.error?.name).toBe('ProtocolVersionError')
      expect(r.error?.message).toContain('longer than maxPeerTimeout (180000 ms)')
      expect((await peer.waitAborted()).name).toBe('ProtocolVersionError')
      expect(peer.written.map(x => x.type)).toEqual([FrameType.HELLO, FrameType.GOAWAY])
      expect(decodeGoAway(peer.written[1].body)).toEqual({ code: GoAwayCode.DO_NOT_RETRY, reason: 'unusable_heartbeat' })
      expect(hb.stats().timeout).toBe(3000)
    }
    // up to the bound, or any with Infinity, the larger values are adopted
    const within = rawPeer()
    const a = heartbeat(within.lower, { hello: true, interval: 1000, timeout: 3000 })
    within.send(f(FrameType.HELLO, encodeHello({ interval: 60_000, timeout: 180_000 })))
    await vi.waitFor(() => { expect(a.stats()).toMatchObject({ interval: 60_000, timeout: 180_000 }) })
    const open = rawPeer()
    const b = heartbeat(open.lower, { hello: true, interval: 1000, timeout: 3000, maxPeerTimeout: Infinity })
    open.send(f(FrameType.HELLO, encodeHello({ interval: 1000, timeout: 1_000_000_000 })))
    await vi.waitFor(() => { expect(b.stats().timeout).toBe(1_000_000_000) })
    a.abort(new Error('done'))
    b.abort(new Error('done'))
  })

  it('checks maxPeerTimeout: at least our own longest timeout, and only where pings are exchanged', () => {
    expect(() => heartbeat(rawPeer().lower, { hello: true, interval: 1000, timeout: 3000, maxPeerTimeout: 2999 })).toThrow('expected maxPeerTimeout to be a number of milliseconds from 3000')
    expect(() => heartbeat(rawPeer().lower, { hello: true, interval: 1000, timeout: 3000, adaptiveInterval: { max: 5000, grace: 2000 }, maxPeerTimeout: 6999 })).toThrow('from 7000')
    expect(() => heartbeat(rawPeer().lower, { mode: 'keepalive', interval: 1000, timeout: 3000, maxPeerTimeout: 5000 })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })

  it('fails with ProtocolVersionError when the first frame is not a HELLO', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { hello: true })
    peer.send(f(FrameType.DATA, 'hi'))
    const r = await settle(hb.source.next())
    expect(r.error?.name).toBe('ProtocolVersionError')
  })

  it('sends helloFlags in our HELLO and hands the peer\'s HELLO, flags included, to peerHello', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { hello: true, helloFlags: 0x81, interval: 1000, timeout: 3000 })
    await peer.waitWritten(1)
    expect(decodeHello(peer.written[0].body)).toEqual({ version: 1, flags: 0x81, interval: 1000, timeout: 3000 })
    let seen: unknown = 'pending'
    void hb.peerHello.then((h) => { seen = h })
    await new Promise(resolve => setImmediate(resolve))
    expect(seen).toBe('pending')
    // a HELLO may carry extension bytes after those the stage knows (docs/PROTOCOL.md §3.1): they are ignored
    const body = new Uint8Array(24)
    body.set(encodeHello({ flags: 0x05, interval: 2000, timeout: 6000, minPingInterval: 500 }))
    peer.send(f(FrameType.HELLO, body))
    expect(await hb.peerHello).toEqual({ version: 1, flags: 0x05, interval: 2000, timeout: 6000, minPingInterval: 500 })
    expect(hb.stats().interval).toBe(2000)
    hb.abort(new Error('done'))
  })

  it('peerHello is undefined without hello, and when the stage ends before an acceptable HELLO', async () => {
    expect(await heartbeat(rawPeer().lower).peerHello).toBeUndefined()
    const refused = rawPeer()
    const wrongVersion = heartbeat(refused.lower, { hello: true })
    refused.send(f(FrameType.HELLO, encodeHello({ version: 2, interval: 1000, timeout: 3000 })))
    expect(await wrongVersion.peerHello).toBeUndefined()
    const notHello = rawPeer()
    const data = heartbeat(notHello.lower, { hello: true })
    notHello.send(f(FrameType.DATA, 'hi'))
    expect(await data.peerHello).toBeUndefined()
    const aborted = heartbeat(rawPeer().lower, { hello: true })
    aborted.abort(new Error('gone'))
    expect(await aborted.peerHello).toBeUndefined()
    const ended = rawPeer()
    const endedEarly = heartbeat(ended.lower, { hello: true })
    ended.end()
    expect(await endedEarly.peerHello).toBeUndefined()
    endedEarly.abort(new Error('done'))
  })

  it('without hello a HELLO-typed frame is plain data (foreign protocols use 0x01 freely)', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower)
    peer.send(f(0x01, 'x'))
    const r = await hb.source.next()
    expect(r.value.type).toBe(0x01)
    hb.abort(new Error('done'))
  })
})

describe('minPingInterval guard', () => {
  afterEach(() => { vi.useRealTimers() })

  it('sends GOAWAY TOO_MANY_PINGS and closes a peer that pings too often, once it spent what a stall could have held back', async () => {
    vi.useFakeTimers()
    const peer = rawPeer()
    // pings every 100 ms against a minimum of 1 s: each one is 800 ms early on average; a stall could have held
    // back at most the 2 s timeout's worth, so the 4th is the first strike, and the 6th the third
    const hb = heartbeat(peer.lower, { interval: 0, timeout: 2_000, minPingInterval: 1000, maxPingStrikes: 2 })
    const reading = settle((async () => { for await (const _ of hb.source) { /* drain */ } })())
    for (let i = 0; i < 8; i++) {
      peer.send(f(FrameType.PING, `p${i}`))
      await vi.advanceTimersByTimeAsync(100)
    }
    const r = await reading
    expect(r.error?.name).toBe('TooManyPingsError')
    expect(r.error?.minPingInterval).toBe(1000)
    expect(r.error?.observedInterval).toBe(100)
    // five pongs (three within the allowance, two strikes), then GOAWAY, then the end of our writing; then destroyed
    expect(peer.written.map(x => x.type)).toEqual([FrameType.PONG, FrameType.PONG, FrameType.PONG, FrameType.PONG, FrameType.PONG, FrameType.GOAWAY])
    expect(decodeGoAway(peer.written[5].body)).toEqual({ code: GoAwayCode.TOO_MANY_PINGS, reason: 'too_many_pings' })
    expect(peer.sinkEnded).toBe(true)
    expect(peer.aborted?.name).toBe('TooManyPingsError')
    expect((await settle(hb.sink([]))).error?.name).toBe('TooManyPingsError')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a peer whose HELLO asked for a longer timeout gets no larger allowance: a flood is stopped as soon', async () => {
    vi.useFakeTimers()
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { hello: true, interval: 500, timeout: 2_000, minPingInterval: 1000, maxPingStrikes: 2 })
    const reading = settle((async () => { for await (const _ of hb.source) { /* drain */ } })())
    peer.send(f(FrameType.HELLO, encodeHello({ interval: 500, timeout: 8_000 })))
    await vi.advanceTimersByTimeAsync(0)
    expect(hb.stats().timeout).toBe(8_000)
    for (let i = 0; i < 8; i++) {
      peer.send(f(FrameType.PING, `p${i}`))
      await vi.advanceTimersByTimeAsync(100)
    }
    const r = await reading
    expect(r.error?.name).toBe('TooManyPingsError')
    // our HELLO, five pongs (three within our own 2 s allowance, two strikes), then GOAWAY
    expect(peer.written.map(x => x.type)).toEqual([FrameType.HELLO, FrameType.PONG, FrameType.PONG, FrameType.PONG, FrameType.PONG, FrameType.PONG, FrameType.GOAWAY])
  })

  it('pings a stall held back and delivered together are no strike: the peer pinged on time', async () => {
    vi.useFakeTimers()
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { interval: 0, timeout: 10_000, minPingInterval: 1000, maxPingStrikes: 1 })
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) {
        peer.send(f(FrameType.PING))
        await vi.advanceTimersByTimeAsync(1000)
      }
      // 5 s in which the network (or our event loop) held the peer's pings back, then all five at once
      await vi.advanceTimersByTimeAsync(5_000)
      peer.send(f(FrameType.PING), f(FrameType.PING), f(FrameType.PING), f(FrameType.PING), f(FrameType.PING))
      await vi.advanceTimersByTimeAsync(1000)
    }
    expect(peer.aborted).toBeUndefined()
    expect(hb.stats().pongsSent).toBe(30)
    // a burst no silence before it accounts for is a flood: past the 10 s allowance, strikes
    peer.send(f(FrameType.PING), f(FrameType.PING), f(FrameType.PING), f(FrameType.PING), f(FrameType.PING), f(FrameType.PING), f(FrameType.PING), f(FrameType.PING), f(FrameType.PING), f(FrameType.PING), f(FrameType.PING), f(FrameType.PING), f(FrameType.PING), f(FrameType.PING))
    const r = await settle((async () => { for await (const _ of hb.source) { /* drain */ } })())
    expect(r.error?.name).toBe('TooManyPingsError')
  })

  it('tolerates pings at the minimum interval with scheduling jitter', async () => {
    vi.useFakeTimers()
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { interval: 60_000, timeout: 120_000, minPingInterval: 1000 })
    for (let i = 0; i < 20; i++) {
      peer.send(f(FrameType.PING))
      await vi.advanceTimersByTimeAsync(i % 2 === 0 ? 950 : 1050) // ±5 % around the minimum
    }
    expect(peer.aborted).toBeUndefined()
    expect(hb.stats().pongsSent).toBe(20)
    hb.abort(new Error('done'))
  })

  it('forgives strikes while we send data', async () => {
    vi.useFakeTimers()
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { interval: 60_000, timeout: 120_000, minPingInterval: 1000, maxPingStrikes: 1 })
    let wake: (() => void) | undefined
    void hb.sink((async function * () {
      for (;;) {
        await new Promise<void>((resolve) => { wake = resolve })
        yield f(FrameType.DATA)
      }
    })()).catch(() => {})
    for (let i = 0; i < 10; i++) {
      peer.send(f(FrameType.PING))
      await vi.advanceTimersByTimeAsync(200)
      wake?.()
      await vi.advanceTimersByTimeAsync(0)
    }
    expect(peer.aborted).toBeUndefined()
    hb.abort(new Error('done'))
  })
})

describe('errors through the stage', () => {
  it('a failing lower source fails the upper source after the queued frames', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower)
    peer.send(f(FrameType.DATA, 'a'), f(FrameType.DATA, 'b'))
    await new Promise(resolve => setImmediate(resolve))
    const boom = new Error('socket reset')
    peer.fail(boom)
    const got: string[] = []
    const r = await settle((async () => { for await (const x of hb.source) got.push(new TextDecoder().decode(x.body)) })())
    expect(got).toEqual(['a', 'b'])
    expect(r.error).toBe(boom)
    expect(peer.aborted).toBe(boom)
  })

  it('a user source that throws rejects sink with that error and tears the connection down', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower)
    const boom = new Error('producer failed')
    const r = await settle(hb.sink((async function * () {
      yield f(FrameType.DATA)
      throw boom
    })()))
    expect(r.error).toBe(boom)
    expect(peer.aborted).toBe(boom)
  })

  it('abort(err) fails a pending read and a pending write with err', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower)
    const reading = settle(hb.source.next())
    const writing = settle(hb.sink(forever()))
    const reason = new Error('torn down')
    hb.abort(reason)
    hb.abort(new Error('second'))
    expect((await reading).error).toBe(reason)
    expect((await writing).error).toBe(reason)
    expect(peer.aborted).toBe(reason)
  })

  it('a listener that throws does not break the stage; its error surfaces as an uncaught exception', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower)
    on(hb, 'closed', () => { throw new Error('bad listener') })
    let closed = 0
    on(hb, 'closed', () => { closed++ })
    const uncaught = new Promise<Error>((resolve) => { process.once('uncaughtException', resolve) })
    const listeners = process.listeners('uncaughtException')
    // Vitest installs its own handler; keep ours alone for this one error
    for (const l of listeners.slice(0, -1)) process.off('uncaughtException', l)
    try {
      hb.abort(new Error('x'))
      expect(closed).toBe(1)
      expect(peer.aborted?.message).toBe('x')
      expect((await uncaught).message).toBe('bad listener')
    } finally {
      for (const l of listeners.slice(0, -1)) process.on('uncaughtException', l)
    }
  })

  it('a consumer that stops reading leaves pings answered and data dropped', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { maxQueuedFrames: 2 })
    peer.send(f(FrameType.DATA, '1'))
    for await (const _ of hb.source) break
    for (let i = 0; i < 10; i++) peer.send(f(FrameType.DATA, 'x'))
    peer.send(f(FrameType.PING, 'still here'))
    await peer.waitWritten(1)
    expect(peer.written[0].type).toBe(FrameType.PONG)
    expect(hb.stats().queuedFrames).toBe(0)
    hb.abort(new Error('done'))
  })
})

describe('outbound batches', () => {
  it('hands a batching lower sink everything ready at once, control frames first', async () => {
    const peer = rawPeer({ batchedSink: true })
    const hb = heartbeat(peer.lower)
    peer.holdWrites()
    const data = Array.from({ length: 3000 }, (_, i) => f(FrameType.DATA, new Uint8Array([i & 0xff, i >> 8])))
    const writing = hb.sink(data)
    peer.send(f(FrameType.PING, 'first'))
    await new Promise(resolve => setImmediate(resolve))
    peer.releaseWrites()
    await writing
    // the first batch was handed down before the ping arrived; the pong leads the next one
    expect(peer.written.findIndex(x => x.type === FrameType.PONG)).toBe(1024)
    const got = peer.written.filter(x => x.type === FrameType.DATA)
    expect(got).toHaveLength(3000)
    got.forEach((frame, i) => { expect([frame.body[0], frame.body[1]]).toEqual([i & 0xff, i >> 8]) })
    expect(peer.batches).toBeLessThanOrEqual(5) // 1024 frames per batch at most
    expect(peer.sinkEnded).toBe(true)
    hb.abort(new Error('done'))
  })

  it('waits in nextBatch() until something can be sent', async () => {
    vi.useFakeTimers()
    try {
      const peer = rawPeer({ batchedSink: true })
      const hb = heartbeat(peer.lower, { interval: 1000, timeout: 3000 })
      await vi.advanceTimersByTimeAsync(999)
      expect(peer.batches).toBe(0)
      await vi.advanceTimersByTimeAsync(1)
      expect(peer.batches).toBe(1)
      expect(peer.written.map(x => x.type)).toEqual([FrameType.PING])
      hb.abort(new Error('done'))
    } finally {
      vi.useRealTimers()
    }
  })

  /** An upper stage's source: serves its queue through `nextBatch()`; `next()` must not be used. */
  function batchingSource (batches: Frame[][], fail?: Error): AsyncIterable<Frame> & { calls: number } {
    const it = {
      calls: 0,
      [Symbol.asyncIterator]: () => it,
      next: async (): Promise<IteratorResult<Frame>> => { throw new Error('next() called on a batching source') },
      nextBatch: async (): Promise<Frame[] | undefined> => {
        it.calls++
        const b = batches.shift()
        if (b === undefined && fail !== undefined) throw fail
        return b
      }
    }
    return it
  }

  it('pulls a user source that offers nextBatch() a batch at a time and hands each down whole', async () => {
    const peer = rawPeer({ batchedSink: true })
    const hb = heartbeat(peer.lower)
    const batches = [0, 1, 2].map(b => Array.from({ length: 100 }, (_, i) => f(FrameType.DATA, new Uint8Array([b, i]))))
    const source = batchingSource(batches)
    await hb.sink(source)
    const got = peer.written.filter(x => x.type === FrameType.DATA)
    expect(got.map(x => [x.body[0], x.body[1]])).toEqual([0, 1, 2].flatMap(b => Array.from({ length: 100 }, (_, i) => [b, i])))
    expect(source.calls).toBe(4) // three batches and the end
    expect(peer.batches).toBeLessThanOrEqual(4)
    expect(hb.stats().lastSentAt).toBeGreaterThan(0)
    hb.abort(new Error('done'))
  })

  it('rejects sink() when the user source\'s nextBatch() fails', async () => {
    const peer = rawPeer({ batchedSink: true })
    const hb = heartbeat(peer.lower)
    const boom = Object.assign(new Error('boom'), { name: 'BoomError' })
    await expect(hb.sink(batchingSource([[f(FrameType.DATA, 'a')]], boom))).rejects.toHaveProperty('name', 'BoomError')
    expect(peer.written.filter(x => x.type === FrameType.DATA)).toHaveLength(1)
  })

  it('reads an async source ahead by at most one batch while the lower sink is busy, and hands those down at once', async () => {
    const peer = rawPeer({ batchedSink: true })
    const hb = heartbeat(peer.lower)
    let produced = 0
    const total = 5000
    peer.holdWrites()
    const writing = hb.sink((async function * () {
      for (let i = 0; i < total; i++) {
        produced++
        yield f(FrameType.DATA, new Uint8Array([i & 0xff, i >> 8]))
      }
    })())
    for (let i = 0; i < 50; i++) await new Promise(resolve => setImmediate(resolve))
    // one frame taken by the waiting writer, one batch read ahead, one request pending
    expect(produced).toBeGreaterThan(2)
    expect(produced).toBeLessThanOrEqual(1024 + 2)
    const readAhead = produced - 2
    peer.releaseWrites()
    await peer.waitWritten(readAhead + 1)
    expect(peer.batches).toBeLessThanOrEqual(2) // the first frame, then everything read ahead in one batch
    await writing
    const got = peer.written.filter(x => x.type === FrameType.DATA)
    expect(got).toHaveLength(total)
    got.forEach((frame, i) => { expect([frame.body[0], frame.body[1]]).toEqual([i & 0xff, i >> 8]) })
    hb.abort(new Error('done'))
  })

  it('hands a waiting lower sink what a busy async source has ready as one batch', async () => {
    const peer = rawPeer({ batchedSink: true })
    const hb = heartbeat(peer.lower)
    await new Promise(resolve => setImmediate(resolve)) // the lower sink waits for frames
    const r = await settle(hb.sink((async function * () {
      for (let i = 0; i < 50; i++) yield f(FrameType.DATA, new Uint8Array([i]))
    })()))
    expect(r.ok).toBe(true)
    expect(peer.written.filter(x => x.type === FrameType.DATA).map(x => x.body[0])).toEqual(Array.from({ length: 50 }, (_, i) => i))
    // handed over as each frame came, that would be 50 batches of one
    expect(peer.batches).toBeLessThanOrEqual(2)
    hb.abort(new Error('test over'))
  })

  it('hands down the frames read ahead before an async source\'s error, then rejects sink()', async () => {
    const peer = rawPeer({ batchedSink: true })
    const hb = heartbeat(peer.lower)
    peer.holdWrites()
    const boom = Object.assign(new Error('boom'), { name: 'BoomError' })
    const writing = settle(hb.sink((async function * () {
      for (let i = 0; i < 10; i++) yield f(FrameType.DATA, new Uint8Array([i]))
      throw boom
    })()))
    for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve))
    expect(peer.aborted).toBeUndefined()
    peer.releaseWrites()
    const r = await writing
    expect(r.ok).toBe(false)
    expect(r.error.name).toBe('BoomError')
    expect(peer.written.filter(x => x.type === FrameType.DATA).map(x => x.body[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })
})

describe('shared configuration', () => {
  it('stages made with equal options behave alike, and changing an options object later affects later stages only', async () => {
    vi.useFakeTimers()
    try {
      const init: HeartbeatInit = { interval: 1000, timeout: 3000 }
      const a = heartbeat(rawPeer().lower, init)
      const b = heartbeat(rawPeer().lower, { timeout: 3000, interval: 1000 })
      init.interval = 2000
      const c = heartbeat(rawPeer().lower, init)
      expect([a, b, c].map(x => x.stats().interval)).toEqual([1000, 1000, 2000])
      // a bad value is still refused after an equal valid one was cached
      init.timeout = 1000
      expect(() => heartbeat(rawPeer().lower, init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
      for (const x of [a, b, c]) x.abort(new Error('done'))
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('the public object', () => {
  it('is an EventTarget that exposes the duplex, close, abort and stats, and none of the stage', () => {
    const hb = heartbeat(rawPeer().lower)
    expect(hb).toBeInstanceOf(EventTarget)
    expect(Object.keys(hb)).toEqual([])
    for (const name of ['fail', 'evaluate', 'lastReceivedAt', 'cfg', 'peer', 'outbound', 'start']) expect(name in hb, name).toBe(false)
    for (const name of ['push', 'pushMany', 'pushAll', 'fail', 'end', 'waitForSpace']) expect(name in hb.source, name).toBe(false)
    expect(typeof hb.sink).toBe('function')
    expect(hb.sink).toBe(hb.sink) // bound once
    hb.abort(new Error('done'))
  })
})
