import { codec, encodeHello, FrameType } from '@proto/codec'
import { memoryBytePair, resourceSnapshot, waitForResources } from '@proto/stage-compliance'
import { describe, expect, it, vi } from 'vitest'
import { heartbeat } from '../src/index.js'
import { on } from './helpers/events.js'
import { f, rawPeer, settle } from './helpers/raw-peer.js'

resourceSnapshot() // start tracking timers before Vitest's hooks create theirs

/** Real-time companions of the fake-timer tests: same features, real timers, generous bounds. */
describe('heartbeat in real time', () => {
  it('pings about every interval on an idle link and measures the RTT', async () => {
    const before = resourceSnapshot()
    const pair = memoryBytePair()
    const a = heartbeat(codec(pair.a), { interval: 50, timeout: 1000 })
    const b = heartbeat(codec(pair.b), { interval: 10_000, timeout: 20_000 })
    const started = performance.now()
    await new Promise<void>((resolve) => { on(a, 'ping', () => { if (a.stats().pingsSent === 10) resolve() }) })
    const elapsed = performance.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(10 * 50 - 5)
    expect(elapsed).toBeLessThan(10 * 50 + 2000)
    expect(b.stats().pongsSent).toBeGreaterThanOrEqual(9)
    expect(b.stats().pingsSent).toBe(0) // its pongs count as sending: no need to ping
    expect(a.stats().rtt.samples).toBeGreaterThanOrEqual(9)
    await Promise.all([a.close(), b.close()])
    expect(await waitForResources(before)).toEqual([])
  })

  it('shrinks the adaptive timeout on a fast link', async () => {
    const pair = memoryBytePair()
    const a = heartbeat(codec(pair.a), { interval: 50, timeout: 5000, adaptive: { min: 100, max: 10_000 } })
    const b = heartbeat(codec(pair.b))
    await new Promise<void>((resolve) => { on(a, 'rtt', () => { if (a.stats().rtt.samples === 3) resolve() }) })
    expect(a.stats().timeout).toBeGreaterThanOrEqual(100)
    expect(a.stats().timeout).toBeLessThan(1000)
    a.abort(new Error('done'))
    b.abort(new Error('done'))
  })

  it('gives up closing after closeTimeout', async () => {
    const before = resourceSnapshot()
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { closeTimeout: 200 })
    const started = performance.now()
    const r = await settle(hb.close())
    const elapsed = performance.now() - started
    expect(r.error?.name).toBe('CloseTimeoutError')
    expect(elapsed).toBeGreaterThanOrEqual(195)
    expect(elapsed).toBeLessThan(2000)
    expect(await waitForResources(before)).toEqual([])
  })

  it('closes a peer that pings far too often, GOAWAY first', async () => {
    const before = resourceSnapshot()
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, { minPingInterval: 1000 })
    const flood = setInterval(() => { peer.send(f(FrameType.PING)) }, 5)
    const r = await settle((async () => { for await (const _ of hb.source) { /* drain */ } })())
    clearInterval(flood)
    expect(r.error?.name).toBe('TooManyPingsError')
    expect((await peer.waitAborted()).name).toBe('TooManyPingsError') // once the GOAWAY was flushed
    expect(peer.written.at(-1)?.type).toBe(FrameType.GOAWAY)
    expect(await waitForResources(before)).toEqual([])
  })

  it("adopts a peer's HELLO interval and timeout beyond Node's longest timer delay without its timer spinning", async () => {
    // Node fires a delay above 2^31 - 1 ms after 1 ms (with a TimeoutOverflowWarning): a timer armed that far
    // off would wake a thousand times a second, for as long as the connection lives
    const warnings: string[] = []
    const onWarning = (w: Error): void => { warnings.push(w.name) }
    process.on('warning', onWarning)
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout')
    try {
      const peer = rawPeer()
      const hb = heartbeat(peer.lower, { hello: true, interval: 100, timeout: 300, maxPeerTimeout: Infinity })
      peer.send(f(FrameType.HELLO, encodeHello({ interval: 3_000_000_000, timeout: 4_000_000_000 })))
      await vi.waitFor(() => { expect(hb.stats()).toMatchObject({ interval: 3_000_000_000, timeout: 4_000_000_000 }) })
      // past the timer armed for the interval before the HELLO (100 ms), which then arms for the peer's
      await new Promise((resolve) => { setTimeout(resolve, 250) })
      const calls = setTimeoutSpy.mock.calls.length
      await new Promise((resolve) => { setTimeout(resolve, 300) })
      expect(setTimeoutSpy.mock.calls.length - calls).toBeLessThanOrEqual(3) // the 300 ms wait's own, and a re-arm or two
      expect(warnings).not.toContain('TimeoutOverflowWarning')
      hb.abort(new Error('done'))
    } finally {
      setTimeoutSpy.mockRestore()
      process.off('warning', onWarning)
    }
  })
})
