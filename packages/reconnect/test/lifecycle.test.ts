import { describe, expect, it, vi } from 'vitest'
import type { DialContext, DurableDuplex, ReconnectInit } from '../src/index.js'
import { backoff, reconnect } from '../src/index.js'
import { nextEvent, record, settle } from './helpers/events.js'
import type { ItemConnection } from './helpers/item-pair.js'
import { itemConnection } from './helpers/item-pair.js'
import { durablesUnderFakeTimers } from './helpers/open.js'
import { seededRandom } from './helpers/random.js'

const clock = { now: () => Date.now() }
const open = durablesUnderFakeTimers<number>()

function make (dial: (ctx: DialContext) => Promise<any>, init: ReconnectInit<number> = {}): DurableDuplex<number> {
  const d = reconnect<number>(dial, { clock, ...init })
  open.push(d)
  return d
}

/** A dial function handing out fresh in-memory connections, remembering each. */
function dialer (): { dial: (ctx: DialContext) => Promise<any>, conns: Array<ItemConnection<number>>, contexts: DialContext[] } {
  const conns: Array<ItemConnection<number>> = []
  const contexts: DialContext[] = []
  return {
    conns,
    contexts,
    dial: async (ctx) => {
      contexts.push(ctx)
      const c = itemConnection<number>()
      conns.push(c)
      return c.near
    }
  }
}

describe('reconnect schedule under fake time', () => {
  it('redials with the exact backoff schedule and reports each step', async () => {
    const { dial, conns } = dialer()
    const d = make(dial, { random: seededRandom(9), minStableTime: 10_000 })
    const seen = record(d)
    await vi.advanceTimersByTimeAsync(0)
    expect(d.status).toBe('connected')
    const expected = backoff({ random: seededRandom(9) })
    let prev = 0
    for (let attempt = 2; attempt <= 8; attempt++) {
      conns[conns.length - 1].reset(new Error(`kick ${attempt}`))
      const ev = await nextEvent(d, 'reconnecting')
      prev = expected(attempt, prev, undefined)
      expect(ev).toMatchObject({ attempt, delay: prev })
      expect(ev.error?.message).toBe(`kick ${attempt}`)
      await vi.advanceTimersByTimeAsync(prev)
      expect(d.status).toBe('connected')
    }
    expect(seen.slice(0, 6).map(e => e.type)).toEqual(['connecting', 'connected', 'disconnected', 'reconnecting', 'connecting', 'connected'])
    expect(d.stats()).toMatchObject({ attempts: 8, reconnects: 7, attempt: 8 })
  })

  it('counts a connection kicked at once as a failure, and resets only after minStableTime', async () => {
    const { dial, conns } = dialer()
    const d = make(dial, { jitter: 'none', minStableTime: 10_000 })
    await vi.advanceTimersByTimeAsync(0)
    const delays: number[] = []
    for (let i = 0; i < 4; i++) {
      conns[conns.length - 1].reset(new Error('kicked'))
      const ev = await nextEvent(d, 'reconnecting')
      delays.push(ev.delay)
      await vi.advanceTimersByTimeAsync(ev.delay)
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000])
    // Stays up 9.999 s: still a flap.
    await vi.advanceTimersByTimeAsync(9_999)
    conns[conns.length - 1].reset(new Error('kicked'))
    expect((await nextEvent(d, 'reconnecting')).delay).toBe(16_000)
    await vi.advanceTimersByTimeAsync(16_000)
    // Stays up 10 s: stable, so the next outage starts over.
    await vi.advanceTimersByTimeAsync(10_000)
    conns[conns.length - 1].reset(new Error('lost after a stable period'))
    const ev = await nextEvent(d, 'reconnecting')
    expect(ev).toMatchObject({ attempt: 1, delay: 500 })
  })

  it('aborts a slow dial after connectTimeout with DialTimeoutError and counts it as an attempt', async () => {
    const signals: AbortSignal[] = []
    const d = make(async ({ signal }) => {
      signals.push(signal)
      return await new Promise((_resolve, reject) => { signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true }) })
    }, { connectTimeout: 1_000, jitter: 'none' })
    const ev = nextEvent(d, 'reconnecting')
    await vi.advanceTimersByTimeAsync(999)
    expect(signals[0].aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(signals[0].aborted).toBe(true)
    expect(signals[0].reason.name).toBe('DialTimeoutError')
    expect((await ev).error?.name).toBe('DialTimeoutError')
    expect(d.stats().lastError?.name).toBe('DialTimeoutError')
  })

  it('releases a connection that an abandoned dial makes late, and never uses it', async () => {
    const late = itemConnection<number>()
    let release: (() => void) | undefined
    const { dial: fresh, conns } = dialer()
    let n = 0
    const d = make(async (ctx) => {
      if (n++ === 0) {
        // Ignores its signal and resolves long after the timeout.
        await new Promise<void>((resolve) => { release = resolve })
        return late.near
      }
      return await fresh(ctx)
    }, { connectTimeout: 100, jitter: 'none', initialDelay: 50 })
    await vi.advanceTimersByTimeAsync(100 + 100)
    expect(d.status).toBe('connected')
    release?.()
    await vi.advanceTimersByTimeAsync(0)
    expect(late.aborted).toBe(true)
    const writing = d.sink([1, 2, 3])
    await vi.advanceTimersByTimeAsync(0)
    expect(late.toFar).toEqual([])
    expect(conns[0].toFar).toEqual([1, 2, 3])
    void writing.catch(() => {})
  })

  it('fails source and sink with ReconnectFailedError once maxAttempts is used up', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    let dials = 0
    const d = make(async () => { dials++; throw refused }, { maxAttempts: 3, initialDelay: 10, maxDelay: 10 })
    const seen = record(d)
    const reading = settle((async () => { for await (const _ of d.source) { /* discard */ } })())
    const writing = settle(d.sink([1, 2, 3]))
    await vi.advanceTimersByTimeAsync(100)
    const [r, w] = await Promise.all([reading, writing])
    expect(dials).toBe(3)
    for (const outcome of [r, w]) {
      expect(outcome.ok).toBe(false)
      if (outcome.ok) continue
      expect(outcome.error.name).toBe('ReconnectFailedError')
      expect(outcome.error.kind).toBe('attempts')
      expect(outcome.error.attempts).toBe(3)
      expect(outcome.error.cause).toBe(refused)
    }
    expect(d.status).toBe('failed')
    expect(seen.slice(-2).map(e => e.type)).toEqual(['failed', 'closed'])
    expect(d.stats()).toMatchObject({ attempt: 3, attempts: 3 }) // the dials made, none counted that never happened
    expect(d.stats().unsent).toBe(3)
    expect((await settle(d.sink([4]))).ok).toBe(false)
  })

  it('gives up when the outage would outlast maxRetryTime', async () => {
    const d = make(async () => { throw new Error('refused') }, { maxRetryTime: 5_000, jitter: 'none' })
    const failed = nextEvent(d, 'failed')
    await vi.advanceTimersByTimeAsync(5_000)
    const { error } = await failed
    expect(error.name).toBe('ReconnectFailedError')
    expect((error as any).kind).toBe('deadline')
    // 0 + 1000 + 2000 = 3000 ms in; the next delay (4000) would end past 5000 ms.
    expect((error as any).attempts).toBe(3)
    expect(d.stats()).toMatchObject({ attempt: 3, attempts: 3 })
  })

  it('stops at once on an error that shouldRetry calls fatal (from a dial or a live connection)', async () => {
    const { dial, conns } = dialer()
    const d = make(dial, { shouldRetry: err => err.name !== 'GoAwayError' })
    await vi.advanceTimersByTimeAsync(0)
    const goAway = Object.assign(new Error('server said: do not retry'), { name: 'GoAwayError' })
    const reading = settle((async () => { for await (const _ of d.source) { /* discard */ } })())
    conns[0].reset(goAway)
    const r = await reading
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.name).toBe('ReconnectFailedError')
      expect(r.error.kind).toBe('fatal')
      expect(r.error.cause).toBe(goAway)
    }
    expect(conns.length).toBe(1)
  })

  it('close() during a backoff wait returns at once, cancels the timer and aborts nothing twice', async () => {
    const signals: AbortSignal[] = []
    const d = make(async ({ signal }) => { signals.push(signal); throw new Error('refused') }, { initialDelay: 60_000, maxDelay: 60_000, jitter: 'none' })
    await nextEvent(d, 'reconnecting')
    const writing = settle(d.sink([1, 2]))
    await vi.advanceTimersByTimeAsync(0)
    expect(vi.getTimerCount()).toBe(1)
    await d.close()
    expect(d.status).toBe('closed')
    expect(vi.getTimerCount()).toBe(0)
    expect(signals.every(s => s.aborted)).toBe(true)
    const w = await writing
    expect(w.ok).toBe(false)
    if (!w.ok) expect(w.error.name).toBe('ClosedError')
    expect(d.stats()).toMatchObject({ unsent: 2, buffered: 0 })
    await vi.advanceTimersByTimeAsync(120_000)
    expect(signals.length).toBe(1)
  })

  it('close() during a dial aborts the dial\'s signal and returns at once', async () => {
    let dialSignal: AbortSignal | undefined
    const d = make(async ({ signal }) => {
      dialSignal = signal
      return await new Promise(() => {})
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(d.status).toBe('connecting')
    await d.close()
    expect(dialSignal?.aborted).toBe(true)
    expect(d.status).toBe('closed')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('close() with a signal that aborted already is an abort with its reason: the live connection is aborted and the source fails with it', async () => {
    const { dial, conns } = dialer()
    const d = make(dial)
    await vi.advanceTimersByTimeAsync(0)
    expect(d.status).toBe('connected')
    const reading = (async () => { for await (const _ of d.source) { /* none */ } })().then(() => undefined, (err: unknown) => err)
    const reason = new Error('gone')
    await expect(d.close({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
    expect(d.status).toBe('closed')
    expect(conns[0].aborted).toBe(true)
    expect(await reading).toBe(reason)
  })

  it('rejects bad options at once with InvalidParametersError', () => {
    const dial = async (): Promise<any> => await new Promise(() => {})
    const bad: Array<ReconnectInit<number>> = [
      { maxAttempts: 0 }, { maxAttempts: 1.5 }, { connectTimeout: 0 }, { minStableTime: -1 }, { closeTimeout: Infinity },
      { buffer: { maxMessages: 0 } }, { buffer: { maxBytes: Infinity } }, { buffer: { overflow: 'block' as any } },
      { peerEnd: 'maybe' as any }, { shouldRetry: 1 as any }, { initialDelay: 0 }, { jitter: 'x' as any }
    ]
    for (const init of bad) {
      expect(() => reconnect(dial, init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    }
    expect(() => reconnect(undefined as any)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })
})
