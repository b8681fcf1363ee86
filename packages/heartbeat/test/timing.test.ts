import { getEventListeners } from 'node:events'
import { FrameType } from '@proto/codec'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { TIMER_GRID_SLOT } from '../src/constants.js'
import type { HeartbeatDuplex } from '../src/index.js'
import { heartbeat } from '../src/index.js'
import { on } from './helpers/events.js'
import { f, forever, rawPeer, settle } from './helpers/raw-peer.js'

const INTERVAL = 1000
const TIMEOUT = 3000
/**
 * At its deadline a silent peer is judged only after pending input was read: two `setImmediate` rounds,
 * each a tick (1 ms) under fake timers, a few microseconds in real time.
 */
const JUDGE = 2

const pings = (peer: ReturnType<typeof rawPeer>): number => peer.written.filter(x => x.type === FrameType.PING).length

describe('heartbeat timing (fake timers)', () => {
  let stage: HeartbeatDuplex | undefined

  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => {
    stage?.abort(new Error('test over'))
    stage = undefined
    vi.useRealTimers()
  })

  for (const batched of [true, false]) {
    it(`declares the peer dead exactly timeout after its last frame (${batched ? 'batched' : 'per-frame'} lower)`, async () => {
      const peer = rawPeer({ batched })
      const hb = stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: TIMEOUT })
      const timeouts: Error[] = []
      on(hb, 'timeout', err => timeouts.push(err))
      const reading = settle((async () => { for await (const _ of hb.source) { /* drain */ } })())

      // the peer talks for a while (data, not pongs), then goes silent
      for (let i = 0; i < 5; i++) {
        await vi.advanceTimersByTimeAsync(700)
        peer.send(f(FrameType.DATA, `d${i}`))
        await vi.advanceTimersByTimeAsync(0)
      }
      const last = performance.now()
      await vi.advanceTimersByTimeAsync(TIMEOUT)
      expect(peer.aborted).toBeUndefined() // the deadline: pending input is read first
      expect(timeouts).toHaveLength(0)
      await vi.advanceTimersByTimeAsync(JUDGE)
      expect(performance.now() - last).toBe(TIMEOUT + JUDGE)
      expect(peer.aborted?.name).toBe('HeartbeatTimeoutError')
      expect(timeouts).toHaveLength(1)
      expect(timeouts[0]).toBe(peer.aborted)
      expect((timeouts[0] as any).lastReceivedAge).toBe(TIMEOUT + JUDGE)
      const r = await reading
      expect(r.error?.name).toBe('HeartbeatTimeoutError')
      expect(vi.getTimerCount()).toBe(0)
    })
  }

  it('a frame still arriving is life (one large frame on a slow link); a peer that stops mid-frame is dead within two timeouts', async () => {
    const peer = rawPeer()
    let progress = 0
    Object.defineProperty(peer.lower, 'frameProgress', { get: () => progress }) // as the codec reports it
    const hb = stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: TIMEOUT })
    const timeouts: Error[] = []
    on(hb, 'timeout', err => timeouts.push(err))
    const reading = settle((async () => { for await (const _ of hb.source) { /* drain */ } })())
    peer.send(f(FrameType.DATA, 'd'))
    await vi.advanceTimersByTimeAsync(0)
    // a large frame's bytes keep coming for 12 s, four timeouts, with no whole frame among them
    for (let i = 0; i < 24; i++) {
      progress += 1460
      await vi.advanceTimersByTimeAsync(500)
    }
    expect(timeouts).toHaveLength(0)
    expect(peer.aborted).toBeUndefined()
    // the peer dies in the middle of it
    await vi.advanceTimersByTimeAsync(2 * TIMEOUT + TIMER_GRID_SLOT + JUDGE)
    expect(timeouts).toHaveLength(1)
    expect(peer.aborted?.name).toBe('HeartbeatTimeoutError')
    // a timeout after the last time its bytes were seen moving (read at a tick of the shared timer grid)
    expect((timeouts[0] as any).lastReceivedAge).toBeLessThanOrEqual(TIMEOUT + TIMER_GRID_SLOT + JUDGE)
    expect((await reading).error?.name).toBe('HeartbeatTimeoutError')

    // a peer silent in the middle of a frame from the start: nothing moves, dead at the timeout as ever
    const still = rawPeer()
    Object.defineProperty(still.lower, 'frameProgress', { get: () => 700 })
    const other = stage = heartbeat(still.lower, { interval: INTERVAL, timeout: TIMEOUT })
    const otherReading = settle((async () => { for await (const _ of other.source) { /* drain */ } })())
    await vi.advanceTimersByTimeAsync(TIMEOUT - TIMER_GRID_SLOT)
    expect(still.aborted).toBeUndefined()
    await vi.advanceTimersByTimeAsync(2 * TIMER_GRID_SLOT + JUDGE)
    expect(still.aborted?.name).toBe('HeartbeatTimeoutError')
    expect((await otherReading).error?.name).toBe('HeartbeatTimeoutError')
  })

  it('a HELLO that trickles in is no large frame: while it is awaited, bytes arriving are no proof of life', async () => {
    const peer = rawPeer()
    let progress = 0
    Object.defineProperty(peer.lower, 'frameProgress', { get: () => progress })
    stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: TIMEOUT, hello: true })
    const reading = settle((async () => { for await (const _ of (stage as HeartbeatDuplex).source) { /* drain */ } })())
    for (let i = 0; i < 8 && peer.aborted === undefined; i++) {
      progress++ // one byte of a HELLO every half second
      await vi.advanceTimersByTimeAsync(500)
    }
    expect(peer.aborted?.name).toBe('HeartbeatTimeoutError')
    expect((await reading).error?.name).toBe('HeartbeatTimeoutError')
  })

  it('pings when nothing was sent for interval, and again every interval', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: TIMEOUT })
    const at: number[] = []
    const start = performance.now()
    on(hb, 'ping', () => at.push(performance.now() - start))
    peer.send(f(FrameType.DATA)) // keep the peer alive: answer each ping at once
    let answered = 0
    const answer = setInterval(() => {
      for (; answered < peer.written.length; answered++) peer.send(f(FrameType.PONG, peer.written[answered].body))
    }, 10)
    await vi.advanceTimersByTimeAsync(3500)
    clearInterval(answer)
    expect(at).toEqual([1000, 2000, 3000])
    expect(peer.written.map(x => x.type)).toEqual([FrameType.PING, FrameType.PING, FrameType.PING])
    expect(peer.written[0].body).toHaveLength(8)
    expect(hb.stats().pingsSent).toBe(3)
    expect(hb.stats().pongsReceived).toBe(3)
    expect(hb.stats().missed).toBe(0)
  })

  it('sends no ping while data flows, and one exactly interval after it stops', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: TIMEOUT })
    let stopAt = 0
    const writing = hb.sink((async function * () {
      for (let i = 0; i < 20; i++) {
        await new Promise(resolve => setTimeout(resolve, 400))
        peer.send(f(FrameType.DATA)) // the peer stays alive too
        yield f(FrameType.DATA, `x${i}`)
      }
      stopAt = performance.now()
      await new Promise(() => {}) // keep the sink open, send nothing more
    })())
    void writing.catch(() => {})
    await vi.advanceTimersByTimeAsync(20 * 400 + 10)
    expect(pings(peer)).toBe(0)
    expect(peer.written).toHaveLength(20)
    let pingAt = 0
    on(hb, 'ping', () => { pingAt ||= performance.now() })
    await vi.advanceTimersByTimeAsync(2 * INTERVAL)
    expect(pings(peer)).toBeGreaterThan(0)
    expect(pingAt - stopAt).toBe(INTERVAL)
  })

  it('answers pings with pongs echoing the body, and keeps them from the source', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: TIMEOUT })
    peer.send(f(FrameType.PING, 'abc'), f(FrameType.DATA, 'one'), f(0x41, 'two'))
    const got = await hb.source.nextBatch()
    expect(got?.map(x => new TextDecoder().decode(x.body))).toEqual(['one', 'two'])
    await peer.waitWritten(1)
    expect(peer.written[0].type).toBe(FrameType.PONG)
    expect(new TextDecoder().decode(peer.written[0].body)).toBe('abc')
    expect(hb.stats().pingsReceived).toBe(1)
    expect(hb.stats().pongsSent).toBe(1)
  })

  it('sends a pong ahead of data frames already queued behind a slow write', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: TIMEOUT })
    peer.holdWrites()
    const data = Array.from({ length: 100 }, (_, i) => f(FrameType.DATA, new Uint8Array(64 * 1024).fill(i)))
    const writing = hb.sink(data)
    await vi.advanceTimersByTimeAsync(10)
    peer.send(f(FrameType.PING, 'urgent'))
    await vi.advanceTimersByTimeAsync(10)
    peer.releaseWrites()
    await peer.waitWritten(3)
    // the first data frame was already pulled by the blocked writer; the pong comes right after it
    expect(peer.written.slice(0, 3).map(x => x.type)).toEqual([FrameType.DATA, FrameType.PONG, FrameType.DATA])
    await writing
    expect(peer.written).toHaveLength(101)
    expect(peer.sinkEnded).toBe(true)
  })

  it('does not kill a slow consumer: reading pauses, and so does the dead-peer clock', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: TIMEOUT, maxQueuedFrames: 4 })
    for (let i = 0; i < 50; i++) peer.send(f(FrameType.DATA, new Uint8Array([i])))
    await vi.advanceTimersByTimeAsync(10)
    expect(hb.stats().paused).toBe(true)
    expect(hb.stats().queuedFrames).toBe(4)
    expect(peer.pulled).toBe(50) // one batch was read; the rest waits in the stage, nothing more is pulled
    peer.send(f(FrameType.DATA, new Uint8Array([50])))
    await vi.advanceTimersByTimeAsync(10 * TIMEOUT) // the consumer sleeps far longer than the timeout
    expect(peer.aborted).toBeUndefined()
    expect(peer.pulled).toBe(50)
    const seen: number[] = []
    for (;;) {
      const r = await hb.source.next()
      seen.push(r.value.body[0])
      if (seen.length === 51) break
    }
    expect(seen).toEqual(Array.from({ length: 51 }, (_, i) => i))
    expect(hb.stats().paused).toBe(false)
    // the receive clock restarted when reading resumed: silent from now on means dead one timeout later
    const resumed = performance.now()
    await vi.advanceTimersByTimeAsync(TIMEOUT - 1)
    expect(peer.aborted).toBeUndefined()
    // the verdict: at the first slot of the shared timer grid after the timeout, then the yield rounds
    let judged = Infinity
    for (let i = 0; i <= TIMER_GRID_SLOT + JUDGE && judged === Infinity; i++) {
      await vi.advanceTimersByTimeAsync(1)
      if (peer.aborted !== undefined) judged = performance.now() - resumed
    }
    expect(peer.aborted?.name).toBe('HeartbeatTimeoutError')
    expect(judged).toBeGreaterThanOrEqual(TIMEOUT + JUDGE)
    expect(judged).toBeLessThanOrEqual(TIMEOUT + TIMER_GRID_SLOT + JUDGE)
  })

  it('counts data as proof of life: a peer that never pongs but keeps sending is not killed', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: TIMEOUT })
    void settle((async () => { for await (const _ of hb.source) { /* drain */ } })())
    for (let i = 0; i < 40; i++) {
      peer.send(f(FrameType.DATA))
      await vi.advanceTimersByTimeAsync(500)
    }
    expect(peer.aborted).toBeUndefined()
    expect(hb.stats().pingsSent).toBeGreaterThanOrEqual(19)
    expect(hb.stats().missed).toBe(hb.stats().pingsSent - 1)
    expect(hb.stats().rtt.samples).toBe(0)
  })

  it('measures RTT from pongs and reports it in stats and events', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: TIMEOUT })
    const rtts: number[] = []
    on(hb, 'rtt', ({ rtt }) => rtts.push(rtt))
    const delays = [30, 10, 50, 20]
    let since = 0
    for (const d of delays) {
      await vi.advanceTimersByTimeAsync(INTERVAL - since) // pings go out every interval
      const ping = peer.written.at(-1)
      expect(ping?.type).toBe(FrameType.PING)
      await vi.advanceTimersByTimeAsync(d)
      peer.send(f(FrameType.PONG, ping?.body))
      await vi.advanceTimersByTimeAsync(0)
      since = d
    }
    expect(rtts).toEqual(delays)
    const { rtt } = hb.stats()
    expect(rtt).toEqual({ last: 20, min: 10, mean: 27.5, p99: 50, samples: 4 })
    // a pong that matches no ping is counted but not measured
    peer.send(f(FrameType.PONG, new Uint8Array(8).fill(9)))
    await vi.advanceTimersByTimeAsync(0)
    expect(hb.stats().pongsReceived).toBe(5)
    expect(hb.stats().rtt.samples).toBe(4)
  })

  it("speaks a foreign '!BI' scheme: ping 0x01, pong 0x02, empty bodies, pongs matched in order", async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, {
      interval: INTERVAL, timeout: TIMEOUT, pingType: 0x01, pongType: 0x02, pingBody: new Uint8Array(0), pongBody: new Uint8Array(0), goAwayType: null
    })
    await vi.advanceTimersByTimeAsync(INTERVAL)
    await vi.advanceTimersByTimeAsync(INTERVAL)
    expect(peer.written.map(x => [x.type, x.body.byteLength])).toEqual([[0x01, 0], [0x01, 0]])
    await vi.advanceTimersByTimeAsync(5)
    peer.send(f(0x02), f(0x01, 'ignored body'))
    await vi.advanceTimersByTimeAsync(0)
    expect(hb.stats().rtt.last).toBe(INTERVAL + 5) // matched to the oldest ping
    expect(peer.written.at(-1)).toEqual(f(0x02))
    // FrameType.PING (0x02 is pong here) is no longer special... and 0x03 is plain data
    peer.send(f(0x03, 'data'))
    const r = await hb.source.next()
    expect(r.value.type).toBe(0x03)
  })

  it('adapts the timeout to the measured RTT within bounds', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: TIMEOUT, adaptive: { min: 1500, max: 3000, multiplier: 4 } })
    expect(hb.stats().timeout).toBe(TIMEOUT)
    const alive = setInterval(() => { peer.send(f(FrameType.DATA)) }, 100)
    let since = 0
    const round = async (rtt: number): Promise<void> => {
      await vi.advanceTimersByTimeAsync(INTERVAL - since)
      const ping = peer.written.at(-1)
      expect(ping?.type).toBe(FrameType.PING)
      await vi.advanceTimersByTimeAsync(rtt)
      peer.send(f(FrameType.PONG, ping?.body))
      await vi.advanceTimersByTimeAsync(0)
      since = rtt
    }
    await round(10)
    expect(hb.stats().timeout).toBe(1500) // 1000 + 4 × 10 = 1040, raised to min
    await round(200)
    expect(hb.stats().timeout).toBe(1800) // 1000 + 4 × p99(10, 200)
    await round(900)
    expect(hb.stats().timeout).toBe(3000) // 1000 + 4 × 900, capped at max
    clearInterval(alive)
    expect(peer.aborted).toBeUndefined()
  })

  it('judges a fast link quickly once the adaptive timeout has shrunk', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: 10 * INTERVAL, adaptive: { min: 1500, max: 20_000 } })
    await vi.advanceTimersByTimeAsync(INTERVAL)
    peer.send(f(FrameType.PONG, peer.written.at(-1)?.body))
    await vi.advanceTimersByTimeAsync(0)
    expect(hb.stats().timeout).toBe(1500)
    const last = performance.now()
    await vi.advanceTimersByTimeAsync(1500)
    expect(peer.aborted).toBeUndefined()
    await vi.advanceTimersByTimeAsync(JUDGE)
    expect(peer.aborted?.name).toBe('HeartbeatTimeoutError')
    expect(performance.now() - last).toBe(1500 + JUDGE)
  })

  it('reads pending input before judging the peer when its timer fires late (stall)', async () => {
    let skew = 0
    const clock = { now: () => performance.now() + skew }
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: TIMEOUT, clock, stallThreshold: 100 })
    const stalls: number[] = []
    on(hb, 'stall', ({ lag }) => stalls.push(lag))
    await vi.advanceTimersByTimeAsync(500)
    // the loop "blocks" for 5 s: the clock jumps, the pong arrived meanwhile and sits in the socket
    skew += 5000
    const realNext = globalThis.setImmediate
    let delivered = false
    vi.spyOn(globalThis, 'setImmediate').mockImplementation(((fn: () => void) => {
      if (!delivered) { delivered = true; peer.send(f(FrameType.DATA, 'was in the socket')) }
      return realNext(fn)
    }) as any)
    await vi.advanceTimersByTimeAsync(600)
    vi.mocked(globalThis.setImmediate).mockRestore()
    expect(stalls.length).toBe(1)
    expect(stalls[0]).toBeGreaterThanOrEqual(4500)
    expect(hb.stats().stalls).toBe(1)
    expect(hb.stats().maxEventLoopLag).toBe(stalls[0])
    expect(peer.aborted).toBeUndefined()
  })

  it('still declares a silent peer dead after a stall, once pending input has been read', async () => {
    let skew = 0
    const clock = { now: () => performance.now() + skew }
    const peer = rawPeer()
    stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: TIMEOUT, clock, stallThreshold: 100 })
    await vi.advanceTimersByTimeAsync(500)
    skew += 5000
    await vi.advanceTimersByTimeAsync(600)
    expect(peer.aborted?.name).toBe('HeartbeatTimeoutError')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('leaves no timer behind after close, abort or death', async () => {
    for (const end of ['close', 'abort', 'death'] as const) {
      const peer = rawPeer({ goingAway: true })
      const signal = peer.lower.goingAway as AbortSignal
      const hb = heartbeat(peer.lower, { interval: INTERVAL, timeout: TIMEOUT })
      expect(getEventListeners(signal, 'abort')).toHaveLength(1)
      const closed: Array<Error | undefined> = []
      on(hb, 'closed', ({ error }) => closed.push(error))
      on(hb, 'rtt', () => {})
      expect(vi.getTimerCount()).toBe(1)
      if (end === 'close') {
        const closing = hb.close()
        peer.end()
        await vi.advanceTimersByTimeAsync(0)
        await closing
        expect(peer.sinkEnded).toBe(true)
      } else if (end === 'abort') {
        hb.abort(new Error('stop'))
      } else {
        await vi.advanceTimersByTimeAsync(TIMEOUT + JUDGE)
      }
      expect(vi.getTimerCount()).toBe(0)
      expect(closed).toHaveLength(1)
      expect(getEventListeners(signal, 'abort')).toHaveLength(0) // the stage stopped listening to its owner
    }
  })

  it('close() gives up after closeTimeout when the peer never finishes', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, { interval: INTERVAL, timeout: 100_000, closeTimeout: 2000 })
    const closing = settle(hb.close())
    await vi.advanceTimersByTimeAsync(2000)
    const r = await closing
    expect(r.error?.name).toBe('CloseTimeoutError')
    expect(peer.aborted?.name).toBe('CloseTimeoutError')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('sink() may be called once', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower)
    void hb.sink(forever()).catch(() => {})
    const r = await settle(hb.sink([]))
    expect(r.error?.name).toBe('InvalidParametersError')
  })
})
