import { describe, expect, it, vi } from 'vitest'
import type { DialContext, DurableDuplex, ReconnectInit } from '../src/index.js'
import { reconnect } from '../src/index.js'
import { nextEvent, settle } from './helpers/events.js'
import { gated } from './helpers/gated.js'
import type { ItemConnection } from './helpers/item-pair.js'
import { itemConnection } from './helpers/item-pair.js'
import { ledger, ledgerSum } from './helpers/ledger.js'
import { durablesUnderFakeTimers, RETAIN } from './helpers/open.js'
import { pushable } from './helpers/pushable.js'

const open = durablesUnderFakeTimers()

function expectLedger (d: DurableDuplex<number>): void {
  const s = d.stats()
  expect(ledger(s)).toMatchObject({ sum: s.accepted })
}

describe('retention', () => {
  it('hands unconfirmed items again, first and in order, to the next connection, then new ones', async () => {
    const { d, up, conns } = gated<number>(open, RETAIN)
    up()
    await vi.advanceTimersByTimeAsync(0)
    const source = pushable<number>()
    const writing = d.sink(source)
    source.push(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
    await vi.advanceTimersByTimeAsync(0)
    expect(conns[0].toFar).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(d.stats()).toMatchObject({ accepted: 10, handed: 10, retained: 10, inFlight: 0, confirmed: 0 })
    d.confirm(4)
    expect(d.stats()).toMatchObject({ retained: 6, confirmed: 4 })
    expectLedger(d)
    conns[0].reset(new Error('cut'))
    expect(await nextEvent(d, 'disconnected')).toMatchObject({ reason: 'read-error', handed: 10, retained: 6 })
    source.push(10, 11)
    await vi.advanceTimersByTimeAsync(0)
    expect(d.stats()).toMatchObject({ buffered: 2, retained: 6, unconfirmed: 0 })
    expectLedger(d)
    up()
    const connected = nextEvent(d, 'connected')
    await vi.advanceTimersByTimeAsync(10)
    expect(await connected).toMatchObject({ retained: 6 })
    expect(conns[1].toFar).toEqual([4, 5, 6, 7, 8, 9, 10, 11])
    expect(d.stats()).toMatchObject({ handed: 12, replayed: 6, retained: 8, buffered: 0 })
    expectLedger(d)
    source.end()
    // the sink resolves once everything was handed down (as a socket's end()): confirmations come later
    await writing
    expect(d.stats()).toMatchObject({ retained: 8, confirmed: 4 })
    d.confirm(8)
    expect(d.stats()).toMatchObject({ accepted: 12, confirmed: 12, retained: 0, unconfirmed: 0 })
    expectLedger(d)
  })

  it('limitUnconfirmed: no more unconfirmed items than the connection\'s peer queues go to it; confirmations make room; the next connection starts without the limit', async () => {
    const { d, up, conns, contexts } = gated<number>(open, RETAIN)
    up()
    await vi.advanceTimersByTimeAsync(0)
    contexts[0].limitUnconfirmed?.(3, 1_000)
    void d.sink(Array.from({ length: 10 }, (_, i) => i)).catch(() => {})
    await vi.advanceTimersByTimeAsync(0)
    expect(conns[0].toFar).toEqual([0, 1, 2])
    expect(d.stats()).toMatchObject({ retained: 3, buffered: 7 })
    contexts[0].confirm(2)
    await vi.advanceTimersByTimeAsync(0)
    expect(conns[0].toFar).toEqual([0, 1, 2, 3, 4])
    conns[0].reset(new Error('cut'))
    await nextEvent(d, 'disconnected')
    up()
    await vi.advanceTimersByTimeAsync(10)
    // the new connection has no limit: the three retained go again, then everything else
    expect(conns[1].toFar).toEqual([2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('limitUnconfirmed on a connection that replays: no more retained items go again than its peer takes unconfirmed, in items and bytes; confirmations release the rest, in order', async () => {
    // the second connection's peer announces a lower limit (in its handshake) than the first's: 3 items, 10 bytes
    const conns: Array<ItemConnection<Uint8Array>> = []
    const d = reconnect<Uint8Array>(async (ctx) => {
      if (conns.length === 1) ctx.limitUnconfirmed?.(3, 10)
      const c = itemConnection<Uint8Array>(1_000)
      conns.push(c)
      return c.near
    }, { clock: { now: () => Date.now() }, connectTimeout: Infinity, retention: true, jitter: 'none', initialDelay: 10, minStableTime: 0 })
    open.push(d)
    const sizes = [4, 4, 1, 1, 1, 1, 8, 2]
    void d.sink(sizes.map((n, i) => new Uint8Array(n).fill(i))).catch(() => {})
    await vi.advanceTimersByTimeAsync(0)
    expect(conns[0].toFar).toHaveLength(8)
    conns[0].reset(new Error('cut'))
    await vi.advanceTimersByTimeAsync(10)
    const seen = (): number[] => conns[1].toFar.map(b => b[0])
    // 4 + 4 + 1 bytes; a fourth item would be one more than the peer takes
    expect(seen()).toEqual([0, 1, 2])
    expect(d.stats()).toMatchObject({ retained: 8, replayed: 3, confirmed: 0 })
    d.confirm(1) // 4 + 1 bytes in flight: one more fits (the third item)
    await vi.advanceTimersByTimeAsync(0)
    expect(seen()).toEqual([0, 1, 2, 3])
    d.confirm(3) // none in flight: 1 + 1 + 8 bytes fit, the next 2 would make 12
    await vi.advanceTimersByTimeAsync(0)
    expect(seen()).toEqual([0, 1, 2, 3, 4, 5, 6])
    d.confirm(3)
    await vi.advanceTimersByTimeAsync(0)
    expect(seen()).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(d.stats()).toMatchObject({ replayed: 8, retained: 1, confirmed: 7 })
    expectLedger(d as unknown as DurableDuplex<number>)
  })

  it('connected.retained counts what was retained before this connection: items buffered before the first dial are not among them', async () => {
    const { d, up } = gated<number>(open, RETAIN)
    void d.sink([1, 2, 3]).catch(() => {})
    await vi.advanceTimersByTimeAsync(0)
    expect(d.stats()).toMatchObject({ buffered: 3, retained: 0 })
    const connected = nextEvent(d, 'connected')
    up()
    await vi.advanceTimersByTimeAsync(0)
    expect(await connected).toMatchObject({ retained: 0 })
    expect(d.stats()).toMatchObject({ handed: 3, retained: 3 })
  })

  it('a full retention hands nothing new until a confirmation makes room: the producer is held back', async () => {
    const { d, up, conns } = gated<number>(open, { ...RETAIN, retention: { maxMessages: 3 }, buffer: { maxMessages: 2 } })
    up()
    await vi.advanceTimersByTimeAsync(0)
    let pulled = 0
    void d.sink((function * () { for (let i = 0; i < 10; i++) { pulled++; yield i } })()).catch(() => {})
    await vi.advanceTimersByTimeAsync(100)
    expect(conns[0].toFar).toEqual([0, 1, 2])
    expect(d.stats()).toMatchObject({ retained: 3, buffered: 2, waiting: 1 })
    expect(pulled).toBe(6)
    expectLedger(d)
    d.confirm(2)
    await vi.advanceTimersByTimeAsync(0)
    expect(conns[0].toFar).toEqual([0, 1, 2, 3, 4])
    expect(pulled).toBe(8)
    expectLedger(d)
  })

  it('bounds retention in bytes too, and takes one oversized item into an empty retention', async () => {
    const { d, up, conns } = gated<Uint8Array>(open as any, { retention: { maxBytes: 10 } })
    up()
    await vi.advanceTimersByTimeAsync(0)
    void d.sink([new Uint8Array(64), new Uint8Array(4), new Uint8Array(4)]).catch(() => {})
    await vi.advanceTimersByTimeAsync(0)
    expect(conns[0].toFar.map(b => b.byteLength)).toEqual([64])
    expect(d.stats()).toMatchObject({ retained: 1, retainedBytes: 64, buffered: 2 })
    d.confirm(1)
    await vi.advanceTimersByTimeAsync(0)
    expect(conns[0].toFar.map(b => b.byteLength)).toEqual([64, 4, 4])
    expect(d.stats()).toMatchObject({ retained: 2, retainedBytes: 8 })
  })

  it('a confirmation from a replaced connection changes nothing; one from the live connection releases', async () => {
    const { d, up, conns, contexts } = gated<number>(open, RETAIN)
    up()
    await vi.advanceTimersByTimeAsync(0)
    const items = pushable<number>()
    void d.sink(items).catch(() => {})
    items.push(1, 2, 3, 4)
    await vi.advanceTimersByTimeAsync(0)
    contexts[0].confirm(1)
    expect(d.stats()).toMatchObject({ confirmed: 1, retained: 3 })
    conns[0].reset(new Error('cut'))
    await nextEvent(d, 'disconnected')
    // a late acknowledgement read from the old connection, after it was declared lost
    contexts[0].confirm(3)
    expect(d.stats()).toMatchObject({ confirmed: 1, retained: 3 })
    up()
    await vi.advanceTimersByTimeAsync(10)
    contexts[0].confirm(3)
    expect(d.stats()).toMatchObject({ confirmed: 1, retained: 3 })
    expect(conns[1].toFar).toEqual([2, 3, 4])
    expect(() => { contexts[1].confirm(4) }).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    contexts[1].confirm(3)
    expect(d.stats()).toMatchObject({ confirmed: 4, retained: 0 })
  })

  it('confirming items the next connection has not had yet means they are not handed again', async () => {
    const { d, up, conns } = gated<number>(open, RETAIN)
    up()
    await vi.advanceTimersByTimeAsync(0)
    const items = pushable<number>()
    void d.sink(items).catch(() => {})
    items.push(1, 2, 3, 4, 5)
    await vi.advanceTimersByTimeAsync(0)
    conns[0].reset(new Error('cut'))
    await nextEvent(d, 'disconnected')
    d.confirm(3) // e.g. their echoes were read from the old connection before it was lost
    up()
    await vi.advanceTimersByTimeAsync(10)
    expect(conns[1].toFar).toEqual([4, 5])
    expect(d.stats()).toMatchObject({ confirmed: 3, replayed: 2, retained: 2 })
    expectLedger(d)
  })

  it('a peer that ends after our FIN while items are unconfirmed is an outage: they go again', async () => {
    const { d, up, conns } = gated<number>(open, RETAIN)
    up()
    await vi.advanceTimersByTimeAsync(0)
    const writing = d.sink([1, 2, 3])
    await vi.advanceTimersByTimeAsync(0)
    conns[0].endFromFar()
    expect(await nextEvent(d, 'disconnected')).toMatchObject({ reason: 'peer-ended', retained: 3 })
    up()
    await vi.advanceTimersByTimeAsync(10)
    expect(conns[1].toFar).toEqual([1, 2, 3])
    d.confirm(3)
    await writing
    conns[1].endFromFar()
    // the exchange completes once the reader has taken the end too
    for await (const _ of d.source) { /* the peer sent nothing */ }
    await nextEvent(d, 'closed')
    expect(d.stats()).toMatchObject({ status: 'closed', confirmed: 3, replayed: 3, unconfirmed: 0, flushed: 0 })
    expectLedger(d)
  })

  it('a stage that lingers (EndConfirming.lingering): the exchange complete, the link closes only once it stops (confirm(0)); a connection lost meanwhile is an outage, and the next one lingers too', async () => {
    let lingering = true
    const conns: Array<ItemConnection<number>> = []
    const contexts: DialContext[] = []
    const d = reconnect<number>(async (ctx) => {
      const c = itemConnection<number>(100)
      conns.push(c)
      contexts.push(ctx)
      return Object.defineProperty(c.near, 'lingering', { get: () => lingering })
    }, { ...RETAIN, peerEnd: 'end' })
    open.push(d)
    await vi.advanceTimersByTimeAsync(0)
    const writing = d.sink([1, 2])
    await vi.advanceTimersByTimeAsync(0)
    contexts[0].confirm(2)
    await writing
    conns[0].endFromFar()
    for await (const _ of d.source) { /* the peer sent nothing */ }
    await vi.advanceTimersByTimeAsync(1_000)
    expect(d.status).toBe('connected') // complete, but the stage lingers
    // the stage finds its connection gone (its source had ended already)
    const disconnected = nextEvent(d, 'disconnected')
    contexts[0].lost(new Error('cut'))
    expect(await disconnected).toMatchObject({ reason: 'reported', retained: 0 })
    await vi.advanceTimersByTimeAsync(1_000)
    expect(conns).toHaveLength(2)
    expect(d.status).toBe('connected')
    lingering = false
    const closed = nextEvent(d, 'closed')
    contexts[1].confirm(0)
    await vi.advanceTimersByTimeAsync(0)
    await closed
    expect(d.stats()).toMatchObject({ status: 'closed', confirmed: 2, replayed: 0, unconfirmed: 0 })
    expectLedger(d)
  })

  /** A link whose stage always lingers, its exchange complete (one item confirmed, the peer's end taken), then its connection lost. */
  async function completeThenLost (init: ReconnectInit<number>): Promise<{ d: DurableDuplex<number>, events: string[] }> {
    const contexts: DialContext[] = []
    const conns: Array<ItemConnection<number>> = []
    const d = reconnect<number>(async (ctx) => {
      const c = itemConnection<number>(100)
      conns.push(c)
      contexts.push(ctx)
      return Object.defineProperty(c.near, 'lingering', { get: () => true })
    }, { ...RETAIN, peerEnd: 'end', ...init })
    open.push(d)
    const events: string[] = []
    for (const type of ['failed', 'closed'] as const) d.addEventListener(type, () => { events.push(type) })
    await vi.advanceTimersByTimeAsync(0)
    await d.sink([1])
    contexts[0].confirm(1)
    conns[0].endFromFar()
    for await (const _ of d.source) { /* the peer sent nothing */ }
    await vi.advanceTimersByTimeAsync(100)
    expect(d.status).toBe('connected')
    contexts[0].lost(new Error('cut'))
    await vi.advanceTimersByTimeAsync(1_000)
    return { d, events }
  }

  it('a lingering link whose redial the retry policy refuses ends closed, not failed: the exchange was complete', async () => {
    const { d, events } = await completeThenLost({ shouldRetry: () => false })
    expect(events).toEqual(['closed'])
    expect(d.stats()).toMatchObject({ status: 'closed', confirmed: 1, unconfirmed: 0 })
  })

  it('a lingering link whose backoff throws ends closed too, the reason kept in lastError', async () => {
    const { d, events } = await completeThenLost({ delay: () => { throw new Error('no schedule') } })
    expect(events).toEqual(['closed'])
    expect(d.stats().lastError?.message).toMatch(/the backoff \(delay or random\) to give a delay, but it threw: no schedule/)
  })

  it('a peer end is judged after the reader took what came before it (its confirmations count)', async () => {
    const { d, up, conns } = gated<number>(open, RETAIN)
    up()
    await vi.advanceTimersByTimeAsync(0)
    const writing = d.sink([1, 2, 3])
    await vi.advanceTimersByTimeAsync(0)
    // the peer echoes all three, then ends; the reader has not read the echoes yet
    await conns[0].far.sink([1, 2, 3])
    await vi.advanceTimersByTimeAsync(0)
    const echoes: number[] = []
    for await (const n of d.source) {
      echoes.push(n)
      d.confirm(1)
    }
    expect(echoes).toEqual([1, 2, 3])
    await writing
    await vi.advanceTimersByTimeAsync(0)
    expect(d.stats()).toMatchObject({ status: 'closed', reconnects: 0, confirmed: 3, replayed: 0 })
  })

  it('close() waits for confirmations up to closeTimeout, then counts what is left unconfirmed', async () => {
    const { d, up } = gated<number>(open, { ...RETAIN, closeTimeout: 1_000 })
    up()
    await vi.advanceTimersByTimeAsync(0)
    const writing = settle(d.sink([1, 2, 3, 4]))
    await vi.advanceTimersByTimeAsync(0)
    let closed = false
    const closing = d.close().then(() => { closed = true })
    await vi.advanceTimersByTimeAsync(999)
    expect(closed).toBe(false)
    d.confirm(1)
    await vi.advanceTimersByTimeAsync(1)
    await closing
    expect((await writing).ok).toBe(true)
    expect(d.stats()).toMatchObject({ confirmed: 1, unconfirmed: 3, retained: 0 })
    expectLedger(d)
  })

  it('close() ends cleanly as soon as the last item is confirmed', async () => {
    const { d, up } = gated<number>(open, { ...RETAIN, closeTimeout: 1_000 })
    up()
    await vi.advanceTimersByTimeAsync(0)
    const writing = d.sink([1, 2])
    await vi.advanceTimersByTimeAsync(0)
    const closing = d.close()
    await vi.advanceTimersByTimeAsync(100)
    d.confirm(2)
    await closing
    await writing
    expect(d.stats()).toMatchObject({ status: 'closed', confirmed: 2, unconfirmed: 0 })
  })

  it('close() rides out a lost connection: it stays closing, dials again, hands what is unconfirmed to the next connection and completes there', async () => {
    const { d, up, conns } = gated<number>(open, { ...RETAIN, closeTimeout: 10_000 })
    const seen: string[] = []
    for (const type of ['connecting', 'connected', 'disconnected', 'reconnecting', 'closed'] as const) d.addEventListener(type, () => { seen.push(`${type} ${d.status}`) })
    up()
    await vi.advanceTimersByTimeAsync(0)
    const writing = d.sink([1, 2, 3, 4])
    await vi.advanceTimersByTimeAsync(0)
    d.confirm(1)
    let closed = false
    const closing = d.close().then(() => { closed = true })
    conns[0].reset(new Error('cut'))
    await vi.advanceTimersByTimeAsync(0)
    expect(d.status).toBe('closing')
    up()
    await vi.advanceTimersByTimeAsync(10)
    expect(conns[1].toFar).toEqual([2, 3, 4])
    expect(closed).toBe(false)
    d.confirm(3)
    await closing
    await writing
    expect(d.stats()).toMatchObject({ status: 'closed', accepted: 4, confirmed: 4, unconfirmed: 0, replayed: 3, reconnects: 1 })
    expectLedger(d)
    // every status event told, the status itself closing until the end
    expect(seen).toEqual(['connecting connecting', 'connected connected', 'disconnected closing', 'reconnecting closing', 'connecting closing', 'connected closing', 'closed closed'])
  })

  /** A link with retention that handed items 1 and 2, neither confirmed, then lost its connection; its next dial waits a minute of backoff and for `up()`. */
  async function twoHandedThenCut (): Promise<ReturnType<typeof gated<number>>> {
    const made = gated<number>(open, { ...RETAIN, initialDelay: 60_000, maxDelay: 60_000, closeTimeout: 10_000 })
    made.up()
    await vi.advanceTimersByTimeAsync(0)
    void made.d.sink([1, 2]).catch(() => {})
    await vi.advanceTimersByTimeAsync(0)
    made.conns[0].reset(new Error('cut'))
    await nextEvent(made.d, 'reconnecting')
    return made
  }

  it('close() during an outage with unconfirmed items cuts the backoff short, and completes on the connection it dials', async () => {
    const { d, up, conns } = await twoHandedThenCut()
    up()
    const closing = d.close()
    await vi.advanceTimersByTimeAsync(0)
    expect(conns).toHaveLength(2) // dialled at once, not after the minute of backoff
    expect(conns[1].toFar).toEqual([1, 2])
    d.confirm(2)
    await closing
    expect(d.stats()).toMatchObject({ status: 'closed', confirmed: 2, unconfirmed: 0 })
  })

  it('close() riding out an outage for unconfirmed items ends at once when they are abandoned: nothing is left to wait for', async () => {
    const { d, conns } = await twoHandedThenCut()
    let closed = false
    const closing = d.close().then(() => { closed = true })
    await vi.advanceTimersByTimeAsync(100)
    expect(d.status).toBe('closing') // its dial waits for a server that is not there
    expect(closed).toBe(false)
    expect(d.abandon()).toBe(2)
    await vi.advanceTimersByTimeAsync(0)
    expect(closed).toBe(true)
    await closing
    expect(d.stats()).toMatchObject({ status: 'closed', accepted: 2, confirmed: 0, unconfirmed: 2 })
    expect(conns).toHaveLength(1)
    expectLedger(d)
  })

  it('close() during an outage with nothing to hand or confirm ends at once, without dialling', async () => {
    const { d, up, conns } = gated<number>(open, { ...RETAIN, initialDelay: 60_000, maxDelay: 60_000, closeTimeout: 10_000 })
    up()
    await vi.advanceTimersByTimeAsync(0)
    await d.sink([1])
    d.confirm(1)
    conns[0].reset(new Error('cut'))
    await nextEvent(d, 'reconnecting')
    await d.close()
    expect(conns).toHaveLength(1)
    expect(d.stats()).toMatchObject({ status: 'closed', confirmed: 1, unconfirmed: 0 })
  })

  it('close() riding out a lost connection: no connection within closeTimeout, it ends then (closed) and counts; the retry policy giving up ends it closed, not failed, at once', async () => {
    for (const policy of ['deadline', 'maxAttempts'] as const) {
      let dials = 0
      let first: ItemConnection<number> | undefined
      const d = reconnect<number>(async () => {
        if (++dials > 1) throw new Error('refused')
        first = itemConnection<number>(1_000)
        return first.near
      }, { ...RETAIN, closeTimeout: 1_000, initialDelay: 100, maxDelay: 100, connectTimeout: Infinity, ...(policy === 'maxAttempts' ? { maxAttempts: 3 } : {}) })
      open.push(d)
      await vi.advanceTimersByTimeAsync(0)
      void d.sink([1, 2, 3]).catch(() => {})
      await vi.advanceTimersByTimeAsync(0)
      d.confirm(1)
      let closed = false
      const closing = d.close().then(() => { closed = true })
      first?.reset(new Error('cut'))
      if (policy === 'deadline') {
        await vi.advanceTimersByTimeAsync(999)
        expect(closed).toBe(false)
        expect(dials).toBeGreaterThan(2)
        await vi.advanceTimersByTimeAsync(1)
      } else {
        // three attempts after the loss (the first dial's stable connection reset the count), then it gives up
        await vi.advanceTimersByTimeAsync(350)
        expect(dials).toBe(4)
        expect(closed).toBe(true)
      }
      await closing
      expect(d.stats()).toMatchObject({ status: 'closed', confirmed: 1, unconfirmed: 2 })
      expect(d.stats().lastError?.message).toBe('refused')
      expectLedger(d)
      const after = dials
      await vi.advanceTimersByTimeAsync(5_000)
      expect(dials).toBe(after)
    }
  })

  it('without retention close() does not ride out a lost connection: it ends at once and counts, dialling nothing', async () => {
    const { d, up, conns } = gated<number>(open, { jitter: 'none', initialDelay: 10, minStableTime: 0, closeTimeout: 10_000 })
    up()
    await vi.advanceTimersByTimeAsync(0)
    void d.sink([1, 2]).catch(() => {})
    await vi.advanceTimersByTimeAsync(0)
    const closing = d.close()
    conns[0].reset(new Error('cut'))
    await closing
    expect(conns).toHaveLength(1)
    expect(d.status).toBe('closed')
    expectLedger(d)
  })

  it('abandon() gives up on unconfirmed items: counted, never handed again', async () => {
    const { d, up, conns } = gated<number>(open, RETAIN)
    up()
    await vi.advanceTimersByTimeAsync(0)
    const items = pushable<number>()
    void d.sink(items).catch(() => {})
    items.push(1, 2, 3, 4)
    await vi.advanceTimersByTimeAsync(0)
    conns[0].reset(new Error('cut'))
    await nextEvent(d, 'disconnected')
    expect(d.abandon(1)).toBe(1)
    expect(d.abandon()).toBe(3)
    up()
    await vi.advanceTimersByTimeAsync(10)
    expect(conns[1].toFar).toEqual([])
    expect(d.stats()).toMatchObject({ unconfirmed: 4, retained: 0, replayed: 0 })
    expectLedger(d)
  })

  it('confirm() and abandon() need retention, and refuse counts beyond what is unconfirmed', async () => {
    const { d } = gated<number>(open)
    expect(() => { d.confirm(1) }).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => d.abandon(1)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    const r = gated<number>(open, RETAIN)
    expect(() => { r.d.confirm(1) }).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => { r.d.confirm(-1) }).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => { r.d.confirm(0.5) }).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    r.d.confirm(0)
  })

  it('an aborted link counts its retained items unconfirmed and its buffered ones unsent', async () => {
    const { d, up, conns } = gated<number>(open, { ...RETAIN, retention: { maxMessages: 2 } })
    up()
    await vi.advanceTimersByTimeAsync(0)
    const writing = settle(d.sink([1, 2, 3, 4, 5]))
    await vi.advanceTimersByTimeAsync(0)
    expect(conns[0].toFar).toEqual([1, 2])
    d.abort(new Error('stop'))
    expect((await writing).ok).toBe(false)
    expect(d.stats()).toMatchObject({ accepted: 5, unconfirmed: 2, unsent: 3 })
    expectLedger(d)
  })
})

describe('ledger sums', () => {
  it('is exact at every step of a seeded random run, with and without retention', async () => {
    for (const retention of [false, true]) {
      for (const overflow of ['wait', 'drop-oldest', 'drop-newest'] as const) {
        let seed = retention ? 7 : 3
        const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
        const { d, up, conns } = gated<number>(open, { retention, jitter: 'none', initialDelay: 1, minStableTime: 0, buffer: { maxMessages: 5, overflow } }, 8)
        const items = pushable<number>()
        void d.sink(items).catch(() => {})
        let next = 0
        for (let step = 0; step < 300; step++) {
          const op = rand(6)
          if (op === 0) items.push(next++, next++)
          else if (op === 1) up()
          else if (op === 2) conns[conns.length - 1]?.reset(new Error('cut'))
          else if (op === 3 && retention) d.confirm(rand(d.stats().retained + 1))
          else if (op === 4 && conns.length > 0) {
            const far = conns[conns.length - 1]
            far.toFar.splice(0, rand(far.toFar.length + 1))
          } else if (op === 5 && rand(4) === 0) d.clearBuffer()
          await vi.advanceTimersByTimeAsync(rand(3))
          const s = d.stats()
          if (ledgerSum(s) !== s.accepted) throw new Error(`step ${step}: ${JSON.stringify(ledger(s))}`)
        }
        d.abort(new Error('end of run'))
        const s = d.stats()
        expect(ledger(s)).toMatchObject({ sum: s.accepted, waiting: 0, buffered: 0, retained: 0, inFlight: 0 })
        expect(s.accepted).toBeGreaterThan(0)
      }
    }
  })
})
