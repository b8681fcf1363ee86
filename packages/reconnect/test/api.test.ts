import { getEventListeners, once } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import type { DialContext, DurableSourceIterator } from '../src/index.js'
import { reconnect } from '../src/index.js'
import { nextEvent, record, settle } from './helpers/events.js'
import { gated } from './helpers/gated.js'
import { ledger } from './helpers/ledger.js'
import { durablesUnderFakeTimers } from './helpers/open.js'
import { pushable } from './helpers/pushable.js'

const open = durablesUnderFakeTimers()

/** A gated durable duplex (no jitter, 10 ms backoff) whose first dial has been let through and taken into use. */
async function connectedGate (): Promise<ReturnType<typeof gated<number>>> {
  const g = gated<number>(open, { jitter: 'none', initialDelay: 10, minStableTime: 0 })
  g.up()
  await vi.advanceTimersByTimeAsync(0)
  return g
}

describe('reconnect(): a forced redial', () => {
  it('drops the live connection and dials again at once, reporting reason forced', async () => {
    const { d, up, conns } = gated<number>(open, { jitter: 'none', initialDelay: 60_000, maxDelay: 60_000, minStableTime: 0 })
    const seen = record(d)
    up()
    await vi.advanceTimersByTimeAsync(0)
    d.reconnect()
    expect(conns[0].aborted).toBe(true)
    up()
    await vi.advanceTimersByTimeAsync(0)
    expect(d.status).toBe('connected')
    expect(seen.map(e => e.type)).toEqual(['connecting', 'connected', 'disconnected', 'connecting', 'connected'])
    expect(seen[2]).toMatchObject({ reason: 'forced', error: { name: 'ForcedReconnectError' } })
    const why = new Error('moving to another server')
    d.reconnect(why)
    expect(seen.slice(-2)).toMatchObject([{ type: 'disconnected', reason: 'forced', error: why }, { type: 'connecting' }])
  })

  it('cuts a backoff wait short, and does nothing once closing', async () => {
    let dials = 0
    const d = reconnect<number>(async () => { dials++; throw new Error('refused') }, { jitter: 'none', initialDelay: 60_000, maxDelay: 60_000 })
    open.push(d)
    await nextEvent(d, 'reconnecting')
    expect(dials).toBe(1)
    d.reconnect()
    await vi.advanceTimersByTimeAsync(0)
    expect(dials).toBe(2)
    await d.close()
    d.reconnect()
    await vi.advanceTimersByTimeAsync(120_000)
    expect(dials).toBe(2)
  })
})

describe('DialContext.lost()', () => {
  it('a stage that finds its connection dead has it redialled at once, even while nothing reads or writes', async () => {
    const { d, up, contexts } = await connectedGate()
    const dead = new Error('the stage saw its peer go')
    const lost = nextEvent(d, 'disconnected')
    contexts[0].lost(dead)
    expect(await lost).toMatchObject({ reason: 'reported', error: dead })
    expect(d.stats().lastError).toBe(dead)
    up()
    await vi.advanceTimersByTimeAsync(10)
    expect(d.status).toBe('connected')
    // stale: the first attempt's context no longer acts
    contexts[0].lost(new Error('late'))
    expect(d.status).toBe('connected')
  })
})

describe('DialContext: aborted, onAbort() and the signal made on demand', () => {
  it('tells a watcher once when the connection is lost, without making the signal; a signal read later is already aborted with the same reason', async () => {
    let made = 0
    const Real = globalThis.AbortController
    vi.stubGlobal('AbortController', class extends Real { constructor () { super(); made++ } })
    try {
      const { d, contexts } = await connectedGate()
      const ctx = contexts[0]
      expect(ctx.aborted).toBe(false)
      const told: Error[] = []
      ctx.onAbort?.((reason) => { told.push(reason) })
      ctx.onAbort?.((reason) => { told.push(reason) })
      const dead = new Error('the stage saw its peer go')
      ctx.lost(dead)
      expect(told).toEqual([dead, dead])
      expect(ctx.aborted).toBe(true)
      expect(made).toBe(0)
      // once over: a new watcher is told at once, and the signal, made now, has aborted with the same reason
      ctx.onAbort?.((reason) => { told.push(reason) })
      expect(told).toEqual([dead, dead, dead])
      expect(ctx.signal.aborted).toBe(true)
      expect(ctx.signal.reason).toBe(dead)
      expect(made).toBe(1)
      await d.close()
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('takes a watcher object as well as a function: told once through dialAborted(), at once when the attempt is over', async () => {
    const { d, contexts } = await connectedGate()
    const ctx = contexts[0]
    const told: Error[] = []
    const watcher = { dialAborted (reason: Error) { told.push(reason) } }
    ctx.onAbort?.(watcher)
    ctx.onAbort?.((reason) => { told.push(reason) })
    const dead = new Error('gone')
    ctx.lost(dead)
    ctx.lost(new Error('again'))
    expect(told).toEqual([dead, dead])
    ctx.onAbort?.(watcher)
    expect(told).toEqual([dead, dead, dead])
    await d.close()
  })

  it('confirm() and lost() work when taken apart from the context, and act only for their own attempt', async () => {
    const { d, up, conns, contexts } = gated<number>(open, { retention: true, jitter: 'none', initialDelay: 10, minStableTime: 0 })
    up()
    await vi.advanceTimersByTimeAsync(0)
    void d.sink([1, 2, 3])
    await vi.advanceTimersByTimeAsync(0)
    expect(conns[0].toFar).toEqual([1, 2, 3])
    expect(d.stats()).toMatchObject({ retained: 3 })
    // a stage that destructures its context, as `async ({ signal, confirm }) => …` does
    const { confirm, lost } = contexts[0]
    confirm(2)
    expect(d.stats()).toMatchObject({ retained: 1, confirmed: 2 })
    lost(new Error('seen dead'))
    expect(d.status).toBe('reconnecting')
    up()
    await vi.advanceTimersByTimeAsync(10)
    expect(d.status).toBe('connected')
    // stale now: the first attempt's functions change nothing
    confirm(1)
    lost(new Error('late'))
    expect(d.stats()).toMatchObject({ status: 'connected', confirmed: 2 })
  })

  it('a signal read while the attempt goes on aborts when it ends, and watchers are told before its listeners', async () => {
    const { d, contexts } = await connectedGate()
    const ctx = contexts[0]
    const order: string[] = []
    ctx.signal.addEventListener('abort', () => { order.push('signal') })
    ctx.onAbort?.(() => { order.push('watcher') })
    await d.close()
    expect(order).toEqual(['watcher', 'signal'])
    expect(ctx.aborted).toBe(true)
  })

  it('a dial that hangs is failed by the connect timeout through the attempt, and its late duplex released', async () => {
    let release: ((duplex: any) => void) | undefined
    let seen: DialContext | undefined
    const d = reconnect<number>(async (ctx) => {
      seen = ctx
      return await new Promise((resolve) => { release = resolve })
    }, { connectTimeout: 100, jitter: 'none', initialDelay: 60_000, maxDelay: 60_000 })
    open.push(d)
    const reconnecting = nextEvent(d, 'reconnecting')
    await vi.advanceTimersByTimeAsync(100)
    expect(await reconnecting).toMatchObject({ error: { name: 'DialTimeoutError' } })
    expect(seen?.aborted).toBe(true)
    let aborted: Error | undefined
    release?.({ source: (async function * () {})(), sink: async () => {}, abort: (err: Error) => { aborted = err } })
    await vi.advanceTimersByTimeAsync(0)
    expect(aborted?.name).toBe('ClosedError')
  })
})

describe('the lifetime signal', () => {
  it('aborts the duplex with its reason, and its listener is removed when the duplex ends', async () => {
    const lifetime = new AbortController()
    const { d, up } = gated<number>(open, { signal: lifetime.signal })
    up()
    await vi.advanceTimersByTimeAsync(0)
    expect(getEventListeners(lifetime.signal, 'abort').length).toBe(1)
    const reading = settle((async () => { for await (const _ of d.source) { /* none */ } })())
    const reason = new Error('application shutting down')
    lifetime.abort(reason)
    const r = await reading
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error).toBe(reason)
    expect(d.status).toBe('closed')
    expect(getEventListeners(lifetime.signal, 'abort').length).toBe(0)

    const other = new AbortController()
    const { d: d2 } = gated<number>(open, { signal: other.signal })
    await d2.close()
    expect(getEventListeners(other.signal, 'abort').length).toBe(0)
  })

  it('one signal shared by many durable duplexes raises no leak warning; each removes its listener when it ends', async () => {
    const shutdown = new AbortController()
    const warn = vi.spyOn(process, 'emitWarning')
    try {
      const links = Array.from({ length: 20 }, () => gated<number>(open, { signal: shutdown.signal }))
      for (const { up } of links) up()
      await vi.advanceTimersByTimeAsync(0)
      const statuses = links.map(({ d }) => d.statusIterator({ signal: shutdown.signal }))
      expect(getEventListeners(shutdown.signal, 'abort').length).toBe(40)
      expect(warn.mock.calls.map(([w]) => (w as Error).name)).not.toContain('MaxListenersExceededWarning')
      for (const s of statuses) await s.return?.()
      for (const { d } of links.slice(5)) await d.close()
      expect(getEventListeners(shutdown.signal, 'abort').length).toBe(5)
      shutdown.abort(new Error('application shutting down'))
      await vi.advanceTimersByTimeAsync(0)
      expect(links.map(({ d }) => d.status)).toEqual(Array(20).fill('closed'))
      expect(getEventListeners(shutdown.signal, 'abort').length).toBe(0)
    } finally {
      warn.mockRestore()
    }
  })

  it('an already aborted signal closes the duplex before any dial', async () => {
    let dials = 0
    const d = reconnect<number>(async () => { dials++; return await new Promise(() => {}) }, { signal: AbortSignal.abort(new Error('never mind')) })
    open.push(d)
    await vi.advanceTimersByTimeAsync(0)
    expect(dials).toBe(0)
    expect(d.status).toBe('closed')
    expect((await settle(d.sink([1]))).ok).toBe(false)
  })

  it('an already aborted signal: closed at once, and told to listeners added right after reconnect(), with the reason', async () => {
    const why = new Error('never mind')
    const d = reconnect<number>(async () => await new Promise(() => {}), { signal: AbortSignal.abort(why) })
    open.push(d)
    expect(d.status).toBe('closed')
    const seen = record(d)
    const status = d.statusIterator()
    await vi.advanceTimersByTimeAsync(0)
    expect(seen).toEqual([{ type: 'closed', error: why }])
    expect(await status.next()).toMatchObject({ done: false, value: { type: 'closed', error: why } })
    expect((await status.next()).done).toBe(true)
    const r = await settle(d.sink([1]))
    expect(r).toMatchObject({ ok: false, error: why })
  })
})

describe('statusIterator({ signal })', () => {
  it('ends when the signal aborts, and leaves no listener behind', async () => {
    const { d, up } = gated<number>(open)
    const stop = new AbortController()
    const seen: string[] = []
    const reading = (async () => { for await (const s of d.statusIterator({ signal: stop.signal })) seen.push(s.type) })()
    up()
    await vi.advanceTimersByTimeAsync(0)
    stop.abort()
    await reading
    expect(seen).toEqual(['connecting', 'connected'])
    expect(getEventListeners(stop.signal, 'abort').length).toBe(0)
    const late = d.statusIterator({ signal: stop.signal })
    expect((await late.next()).done).toBe(true)
  })
})

describe('statusIterator() made late', () => {
  it('made by a listener of the failure still sees closed; made after closed, it ends at once', async () => {
    const d = reconnect<number>(async () => { throw new Error('refused') }, { maxAttempts: 1 })
    open.push(d)
    let late: AsyncIterableIterator<{ type: string }> | undefined
    d.addEventListener('failed', () => { late = d.statusIterator() })
    await nextEvent(d, 'closed')
    expect(late).toBeDefined()
    expect(await late?.next()).toMatchObject({ done: false, value: { type: 'closed' } })
    expect((await late?.next())?.done).toBe(true)
    expect((await d.statusIterator().next()).done).toBe(true)
  })
})

describe('clearBuffer()', () => {
  it('discards what is buffered, counted as cleared, and makes room for a waiting producer', async () => {
    const { d, up, conns } = gated<number>(open, { buffer: { maxMessages: 3 } })
    let pulled = 0
    void d.sink((function * () { for (let i = 0; i < 5; i++) { pulled++; yield i } })()).catch(() => {})
    await vi.advanceTimersByTimeAsync(0)
    expect(ledger(d.stats())).toMatchObject({ accepted: 4, buffered: 3, waiting: 1 })
    expect(d.clearBuffer()).toBe(3)
    await vi.advanceTimersByTimeAsync(0)
    expect(pulled).toBe(5)
    expect(ledger(d.stats())).toMatchObject({ accepted: 5, sum: 5, cleared: 3, buffered: 2 })
    up()
    await vi.advanceTimersByTimeAsync(0)
    expect(conns[0].toFar).toEqual([3, 4])
  })
})

describe('failFast', () => {
  it('refuses writes while disconnected, and drops what is buffered when the connection is lost', async () => {
    const { d, up, conns } = gated<number>(open, { failFast: true, jitter: 'none', initialDelay: 10, minStableTime: 0 }, 2)
    const offline = await settle(d.sink([1]))
    expect(offline.ok).toBe(false)
    if (!offline.ok) expect(offline.error.name).toBe('NotConnectedError')
    expect(ledger(d.stats())).toMatchObject({ accepted: 1, rejected: 1, sum: 1 })
    up()
    await vi.advanceTimersByTimeAsync(0)
    const source = pushable<number>()
    const writing = settle(d.sink(source))
    source.push(...Array.from({ length: 2_000 }, (_, i) => i))
    await vi.advanceTimersByTimeAsync(0)
    const before = d.stats()
    expect(before.buffered).toBeGreaterThan(0)
    conns[0].reset(new Error('cut'))
    await nextEvent(d, 'disconnected')
    const w = await writing
    expect(w.ok).toBe(false)
    if (!w.ok) expect(w.error.name).toBe('NotConnectedError')
    const s = d.stats()
    expect(s.dropped).toBe(before.buffered)
    expect(s.buffered).toBe(0)
    expect(ledger(s)).toMatchObject({ sum: s.accepted })
  })
})

describe('validate', () => {
  it('refuses an item before it is buffered: the sink rejects with the error, the item is counted rejected', async () => {
    const { d, up, conns } = gated<number>(open, { validate: (n) => { if (n < 0) throw new RangeError(`${n} is negative`) } })
    up()
    await vi.advanceTimersByTimeAsync(0)
    const w = await settle(d.sink([1, 2, -3, 4]))
    expect(w.ok).toBe(false)
    if (!w.ok) expect(w.error.name).toBe('RangeError')
    expect(conns[0].toFar).toEqual([1, 2])
    expect(ledger(d.stats())).toMatchObject({ accepted: 3, rejected: 1, sum: 3 })
  })
})

describe('sink() refusals', () => {
  it('rejects, never throws: a second sink while one runs, a sink after the write side ended, and one after abort', async () => {
    const { d, up } = gated<number>(open)
    up()
    await vi.advanceTimersByTimeAsync(0)
    const source = pushable<number>()
    const first = settle(d.sink(source))
    let second: Promise<void> | undefined
    expect(() => { second = d.sink([1]) }).not.toThrow()
    expect(await settle(second as Promise<void>)).toMatchObject({ ok: false, error: { name: 'InvalidParametersError' } })
    source.end()
    expect(await first).toEqual({ ok: true })
    expect(await settle(d.sink([2]))).toMatchObject({ ok: false, error: { name: 'ClosedError' } })

    const other = gated<number>(open)
    other.d.abort(new Error('gone'))
    let late: Promise<void> | undefined
    expect(() => { late = other.d.sink([3]) }).not.toThrow()
    expect(await settle(late as Promise<void>)).toMatchObject({ ok: false })
  })
})

describe('events', () => {
  it('the durable duplex is an EventTarget: events.once() and listenerCount() work on it', async () => {
    const { d, up } = gated<number>(open)
    expect(d).toBeInstanceOf(EventTarget)
    const connected = once(d, 'connected')
    expect(d.listenerCount('connected')).toBe(1)
    up()
    const [event] = await connected
    expect((event as CustomEvent).detail).toMatchObject({ type: 'connected', attempt: 1, retained: 0 })
    expect(d.listenerCount('connected')).toBe(0)
  })

  it('onStatus is called with every status event, just before the listeners; a throw from it disturbs nothing', async () => {
    const order: string[] = []
    const thrown: unknown[] = []
    const onUncaught = (err: unknown): void => { thrown.push(err) }
    process.on('uncaughtException', onUncaught)
    try {
      const boom = new Error('from onStatus')
      const { d, up } = gated<number>(open, {
        jitter: 'none',
        initialDelay: 60_000,
        maxDelay: 60_000,
        onStatus: (event) => {
          order.push(`onStatus ${event.type}`)
          if (event.type === 'connected') throw boom
        }
      })
      const seen = record(d)
      d.addEventListener('connected', () => { order.push('listener connected') })
      d.addEventListener('disconnected', () => { order.push('listener disconnected') })
      up()
      await vi.advanceTimersByTimeAsync(0)
      d.reconnect()
      up()
      await vi.advanceTimersByTimeAsync(0)
      await d.close()
      expect(order).toEqual([
        'onStatus connecting', 'onStatus connected', 'listener connected',
        'onStatus disconnected', 'listener disconnected', 'onStatus connecting', 'onStatus connected', 'listener connected',
        'onStatus closed'
      ])
      // the same events, the same objects, as the listeners got
      expect(seen.map(e => e.type)).toEqual(['connecting', 'connected', 'disconnected', 'connecting', 'connected', 'closed'])
      await vi.waitFor(() => { expect(thrown).toEqual([boom, boom]) })
    } finally {
      process.off('uncaughtException', onUncaught)
    }
  })

  it.each([
    ['onStatus', 'abort()'],
    ['onStatus', 'reconnect()'],
    ['a listener', 'abort()'],
    ['a listener', 'reconnect()']
  ])('%s that calls %s while an event is dispatched: every observer still sees the events in the order they happened', async (who, call) => {
    const order: string[] = []
    const link: { d?: ReturnType<typeof gated<number>>['d'] } = {}
    const act = (event: { type: string }): void => {
      if (event.type !== 'connected' || order.filter(o => o === 'onStatus connected').length > 1) return
      if (call === 'abort()') link.d?.abort(new Error('the application gave up'))
      else link.d?.reconnect()
    }
    const g = gated<number>(open, {
      jitter: 'none',
      initialDelay: 60_000,
      maxDelay: 60_000,
      minStableTime: 0,
      onStatus: (event) => {
        order.push(`onStatus ${event.type}`)
        if (who === 'onStatus') act(event)
      }
    })
    const d = link.d = g.d
    const status = d.statusIterator()
    for (const type of ['connecting', 'connected', 'disconnected', 'closed'] as const) {
      d.addEventListener(type, (evt) => {
        order.push(`listener ${type}`)
        if (who === 'a listener') act(evt.detail)
      })
      d.addEventListener(type, () => { order.push(`second listener ${type}`) })
    }
    g.up()
    await vi.advanceTimersByTimeAsync(0)
    if (call === 'reconnect()') await d.close()
    const expected = call === 'abort()'
      ? ['connecting', 'connected', 'closed']
      : ['connecting', 'connected', 'disconnected', 'connecting', 'closed']
    const types: string[] = []
    for await (const e of status) types.push(e.type)
    expect(types).toEqual(expected)
    expect(order).toEqual(expected.flatMap(t => [`onStatus ${t}`, `listener ${t}`, `second listener ${t}`]))
  })

  it('rejects bad new options at once', () => {
    const dial = async (): Promise<any> => await new Promise(() => {})
    for (const init of [{ retention: { maxMessages: 0 } }, { retention: 'yes' as any }, { failFast: 1 as any }, { validate: 3 as any }, { signal: {} as any }, { onStatus: 'log' as any }]) {
      expect(() => reconnect(dial, init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    }
  })

  it('rejects a clock without now() and timers without setTimeout() at once, not at the first dial', () => {
    const dial = async (): Promise<any> => await new Promise(() => {})
    for (const init of [{ clock: {} as any }, { timers: {} as any }, { clock: null as any }, { timers: { setTimeout: 1 } as any }]) {
      expect(() => reconnect(dial, init), JSON.stringify(init)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    }
  })

  it.each([
    ['delay', { delay: () => { throw new Error('boom') } }],
    ['random', { random: () => { throw new Error('boom') } }]
  ])('a backoff %s that throws fails the duplex (fatal, typed) instead of throwing from a dial\'s callback', async (_name, init) => {
    vi.useRealTimers() // the failure surfaces from a dial's callback, as in an application
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }
    process.on('unhandledRejection', onUnhandled)
    try {
      let dials = 0
      const d = reconnect(async () => { dials++; throw new Error('refused') }, init)
      const r = await settle((async () => { for await (const _ of d.source) { /* none */ } })())
      expect(r).toMatchObject({ ok: false, error: { name: 'ReconnectFailedError', kind: 'fatal', cause: { name: 'InvalidParametersError', cause: { message: 'boom' } } } })
      expect(dials).toBe(1)
      expect(d.status).toBe('failed')
      await new Promise(resolve => setImmediate(resolve))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})

describe('shouldRetry', () => {
  it('one that throws fails the duplex (fatal, typed), with what it threw as the cause, not taken for a no', async () => {
    const bug = new Error('a bug inside shouldRetry')
    const d = reconnect<number>(async () => { throw new Error('refused') }, { shouldRetry: () => { throw bug } })
    open.push(d)
    const r = settle((async () => { for await (const _ of d.source) { /* none */ } })())
    await vi.advanceTimersByTimeAsync(0)
    expect(await r).toMatchObject({ ok: false, error: { name: 'ReconnectFailedError', kind: 'fatal', cause: { name: 'InvalidParametersError', cause: bug } } })
    expect(d.status).toBe('failed')
  })
})

describe('the durable source has one consumer', () => {
  it('a second read while one waits is refused with InvalidParametersError; the first still gets the next item', async () => {
    const { d, up, conns } = gated<number>(open)
    up()
    await vi.advanceTimersByTimeAsync(0)
    const source = d.source[Symbol.asyncIterator]() as DurableSourceIterator<number>
    const first = source.next()
    const second = settle(source.nextBatch())
    const third = settle(source.next())
    const refused = [await second, await third]
    expect(refused.map(r => r.ok ? undefined : r.error.name)).toEqual(['InvalidParametersError', 'InvalidParametersError'])
    const writing = conns[0].far.sink([42, 43])
    expect(await first).toEqual({ done: false, value: 42 })
    expect(await source.nextBatch()).toEqual([43])
    await writing
  })
})
