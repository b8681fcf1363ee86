import { ADAPTIVE_FLAG, decodeHello, encodeGoAway, encodeHello, FrameType, GoAwayCode } from '@proto/codec'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { HeartbeatDuplex, HeartbeatEvents, HeartbeatInit } from '../src/index.js'
import { heartbeat, intervalMemory } from '../src/index.js'
import { on } from './helpers/events.js'
import { f, rawPeer } from './helpers/raw-peer.js'

const ADAPTIVE: HeartbeatInit = { interval: 1000, timeout: 3000, adaptiveInterval: { min: 250, max: 8000 } }

/** Answers every ping the stage wrote with a pong after `rtt` ms (fake timers), until stopped. */
function answer (peer: ReturnType<typeof rawPeer>, rtt = () => 10): () => void {
  let answered = 0
  let stopped = false
  const tick = (): void => {
    if (stopped) return
    for (; answered < peer.written.length; answered++) {
      const frame = peer.written[answered]
      if (frame.type === FrameType.PING) setTimeout(() => { if (!stopped) peer.send(f(FrameType.PONG, frame.body)) }, rtt())
    }
    setTimeout(tick, 1)
  }
  tick()
  return () => { stopped = true }
}

describe('adaptive interval: HELLO, memory and stalls (fake timers)', () => {
  const stages: HeartbeatDuplex[] = []
  const stage = (lower: Parameters<typeof heartbeat>[0], init: HeartbeatInit): HeartbeatDuplex => {
    const hb = heartbeat(lower, init)
    stages.push(hb)
    return hb
  }
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(async () => {
    for (const s of stages.splice(0)) s.abort(new Error('test over'))
    await vi.advanceTimersByTimeAsync(100)
    expect(vi.getTimerCount()).toBe(0)
    vi.useRealTimers()
  })

  it('says in its HELLO its shortest interval, its longest timeout and the extension', async () => {
    const peer = rawPeer()
    stage(peer.lower, { ...ADAPTIVE, hello: true, minPingInterval: 200 })
    await peer.waitWritten(1)
    expect(decodeHello(peer.written[0].body)).toEqual({
      version: 1, flags: ADAPTIVE_FLAG, interval: 250, timeout: 8000 + 500, minPingInterval: 200, adaptive: { interval: 1000, max: 8000, grace: 500 }
    })
  })

  it('against a version 1 HELLO: 8-byte pings, its interval respected as the longest it may stay silent', async () => {
    const peer = rawPeer()
    const hb = stage(peer.lower, { ...ADAPTIVE, hello: true })
    peer.send(f(FrameType.HELLO, encodeHello({ interval: 2000, timeout: 6000 })))
    const stop = answer(peer)
    await vi.advanceTimersByTimeAsync(30_000)
    stop()
    const pings = peer.written.filter(x => x.type === FrameType.PING)
    expect(pings.length).toBeGreaterThan(3)
    expect(pings.every(p => p.body.byteLength === 8)).toBe(true)
    expect(hb.stats()).toMatchObject({ interval: 8000, intervalBounds: { min: 250, max: 8000 }, timeout: 8000 + 500 })
  })

  it('a fixed stage raises its interval to the peer\'s minimum and says so with an interval event', async () => {
    const peer = rawPeer()
    const hb = stage(peer.lower, { hello: true, interval: 1000, timeout: 3000 })
    const changes: Array<HeartbeatEvents['interval']> = []
    on(hb, 'interval', d => changes.push(d))
    peer.send(f(FrameType.HELLO, encodeHello({ interval: 500, timeout: 6000, minPingInterval: 1500 })))
    await vi.advanceTimersByTimeAsync(0)
    expect(changes).toEqual([{ interval: 1500, previous: 1000, reason: 'hello', timeout: 6000 }])
    expect(hb.stats()).toMatchObject({ interval: 1500, intervalReason: 'hello', intervalBounds: { min: 1500, max: 1500 } })
  })

  it('starts at min after a lost connection, where the last one was after a clean end, above a peer\'s TOO_MANY_PINGS', async () => {
    const memory = intervalMemory()
    // a connection that grows its interval, then ends cleanly
    let peer = rawPeer()
    let hb = stage(peer.lower, { ...ADAPTIVE, adaptiveInterval: { min: 250, max: 8000, memory } })
    expect(hb.stats().intervalReason).toBe('configured')
    const stop = answer(peer)
    await vi.advanceTimersByTimeAsync(20_000)
    stop()
    const grown = hb.stats().interval
    expect(grown).toBeGreaterThan(1000)
    peer.end()
    await hb.close()
    // the next starts there
    peer = rawPeer()
    hb = stage(peer.lower, { ...ADAPTIVE, adaptiveInterval: { min: 250, max: 8000, memory } })
    expect(hb.stats()).toMatchObject({ interval: grown, intervalReason: 'remembered' })
    // it is lost (nothing answers)
    await vi.advanceTimersByTimeAsync(30_000)
    expect(peer.aborted?.name).toBe('HeartbeatTimeoutError')
    expect(memory.snapshot().lostAt).toBeDefined()
    // the next, soon after, starts at min
    peer = rawPeer()
    hb = stage(peer.lower, { ...ADAPTIVE, adaptiveInterval: { min: 250, max: 8000, memory } })
    expect(hb.stats()).toMatchObject({ interval: 250, intervalReason: 'reconnect' })
    // its peer says TOO_MANY_PINGS: the next never goes below twice the floor
    peer.send(f(FrameType.GOAWAY, encodeGoAway({ code: GoAwayCode.TOO_MANY_PINGS, reason: 'too_many_pings' })))
    peer.end()
    await vi.advanceTimersByTimeAsync(0)
    expect(memory.snapshot().minInterval).toBe(500)
    hb = stage(rawPeer().lower, { ...ADAPTIVE, adaptiveInterval: { min: 250, max: 8000, memory } })
    expect(hb.stats().intervalBounds.min).toBe(500)
  })

  it('treats a ping stuck behind stalled writes for min as a poor link', async () => {
    const peer = rawPeer()
    const hb = stage(peer.lower, ADAPTIVE)
    const stop = answer(peer)
    await vi.advanceTimersByTimeAsync(20_000)
    expect(hb.stats().interval).toBeGreaterThan(1000)
    const changes: Array<HeartbeatEvents['interval'] & { at: number }> = []
    on(hb, 'interval', d => changes.push({ ...d, at: performance.now() }))
    // the lower sink takes one more frame (the next ping) and then stops: the ping after it (due min later,
    // its previous one being unanswered) waits in the queue, and min after that the link counts as poor
    peer.holdWrites()
    stop()
    const due = hb.stats().lastSentAt + hb.stats().interval
    await vi.advanceTimersByTimeAsync(hb.stats().interval + 2 * 250)
    expect(changes).toHaveLength(1)
    expect(changes[0]).toMatchObject({ interval: 250, reason: 'write-stall' })
    expect(changes[0].at - due).toBe(250 + 250)
    peer.releaseWrites()
  })

  it('does not count a pong our own backpressure kept unread against the link', async () => {
    const peer = rawPeer()
    const hb = stage(peer.lower, { ...ADAPTIVE, maxQueuedFrames: 1 })
    const stop = answer(peer)
    await vi.advanceTimersByTimeAsync(20_000)
    const before = hb.stats().interval
    const changes: Array<HeartbeatEvents['interval']> = []
    on(hb, 'interval', d => changes.push(d))
    // the consumer does not read: two data frames fill the queue and reading stops, pongs wait behind them
    peer.send(f(FrameType.DATA, 'a'), f(FrameType.DATA, 'b'))
    await vi.advanceTimersByTimeAsync(3 * before)
    expect(hb.stats().paused).toBe(true)
    expect(changes).toEqual([])
    // the consumer catches up: the pongs read now are old, and say nothing about the link
    for (let i = 0; i < 2; i++) await hb.source.next()
    await vi.advanceTimersByTimeAsync(10)
    expect(changes.filter(c => c.reason === 'late-pong' || c.reason === 'missed-pong')).toEqual([])
    expect(hb.stats().interval).toBe(before)
    stop()
  })

  const bad: Array<[string, HeartbeatInit]> = [
    ['adaptiveInterval with adaptive', { adaptive: true, adaptiveInterval: true }],
    ['min above interval', { interval: 1000, adaptiveInterval: { min: 1001 } }],
    ['min 0', { interval: 1000, adaptiveInterval: { min: 0 } }],
    ['max below interval', { interval: 1000, adaptiveInterval: { max: 999 } }],
    ['growFactor 1', { adaptiveInterval: { growFactor: 1 } }],
    ['growAfter 0', { adaptiveInterval: { growAfter: 0 } }],
    ['grace 0', { adaptiveInterval: { grace: 0 } }],
    ['negative jitter', { adaptiveInterval: { jitter: -1 } }],
    ['probeIdleLimit without memory', { adaptiveInterval: { probeIdleLimit: true } }],
    ['random not a function', { adaptiveInterval: { random: 0.5 as unknown as () => number } }],
    ['interval 0', { interval: 0, adaptiveInterval: true }],
    ['timeout 0', { timeout: 0, adaptiveInterval: true }],
    ['mode keepalive', { mode: 'keepalive', adaptiveInterval: true }],
    ['helloFlags with the ADAPTIVE bit', { hello: true, helloFlags: ADAPTIVE_FLAG }],
    ['a fixed ping body with hello', { hello: true, pingBody: new Uint8Array(0), adaptiveInterval: true }],
    ['maxPingBody below an announced ping', { hello: true, maxPingBody: 8, adaptiveInterval: true }]
  ]
  for (const [name, init] of bad) {
    it(`rejects ${name} at once`, () => {
      expect(() => heartbeat(rawPeer().lower, init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    })
  }

  it('has the documented defaults: [interval / 3, 3 × interval], grace (timeout / interval − 1) × min', () => {
    const hb = stage(rawPeer().lower, { adaptiveInterval: true })
    expect(hb.stats()).toMatchObject({ interval: 15_000, intervalReason: 'configured', intervalBounds: { min: 5000, max: 45_000 } })
    // without HELLO the peer may stay silent for max
    expect(hb.stats().timeout).toBe(45_000 + 10_000)
  })
})
