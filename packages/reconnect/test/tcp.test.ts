import { getEventListeners } from 'node:events'
import { resourceSnapshot, waitForResources } from '@proto/stage-compliance'
import { afterEach, describe, expect, it } from 'vitest'
import type { DurableDuplex, OverflowPolicy, ReconnectInit } from '../src/index.js'
import { reconnect } from '../src/index.js'
import { nextEvent, settle } from './helpers/events.js'
import { dialTcp, encodeFrame, readSeq, seq, TestServer } from './helpers/tcp.js'

let cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn()
  cleanup = []
})

async function server (onConnection?: ConstructorParameters<typeof TestServer>[0]): Promise<TestServer> {
  const s = new TestServer(onConnection)
  await s.start()
  cleanup.push(async () => { await s.stop() })
  return s
}

function client (port: number, init: ReconnectInit<Uint8Array> = {}): DurableDuplex<Uint8Array> {
  const d = reconnect<Uint8Array>(async ({ signal }) => await dialTcp(port, signal), { initialDelay: 5, maxDelay: 40, ...init })
  cleanup.push(() => { d.abort(new Error('test over')) })
  return d
}

/** Resolves on the first `reconnecting` event that follows a refused dial. */
async function refusedOnce (d: DurableDuplex<Uint8Array>): Promise<void> {
  for (;;) {
    const ev = await nextEvent(d, 'reconnecting')
    if ((ev.error as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED') return
  }
}

describe('over real TCP on 127.0.0.1', () => {
  it('carries on across a server restart: order kept, each message delivered once or counted', async () => {
    const N = 3_000
    const srv = await server((socket, index) => { socket.write(encodeFrame(seq(1_000_000 + index))) })
    const d = client(srv.port)
    const greetings: number[] = []
    const reading = (async () => { for await (const f of d.source) greetings.push(readSeq(f)) })()
    let stopped!: () => void
    let restarted!: () => void
    const stoppedP = new Promise<void>((resolve) => { stopped = resolve })
    const restartedP = new Promise<void>((resolve) => { restarted = resolve })
    const writing = d.sink((async function * () {
      for (let i = 0; i < N; i++) {
        if (i === 1_000) await stoppedP
        if (i === 1_500) await restartedP
        yield seq(i)
      }
    })())
    await srv.until(s => s.received.length >= 500)
    await srv.stop()
    stopped()
    await refusedOnce(d)
    await srv.start()
    restarted()
    await writing
    await srv.until(s => s.received.some(f => readSeq(f) === N - 1))
    // Both sides ended their writing, so the exchange completes and the durable duplex closes itself.
    await reading
    await d.close()
    expect(d.status).toBe('closed')

    const got = srv.received.map(readSeq)
    for (let i = 1; i < got.length; i++) expect(got[i]).toBeGreaterThan(got[i - 1])
    const stats = d.stats()
    expect(stats).toMatchObject({ dropped: 0, unsent: 0, handed: N })
    expect(stats.reconnects).toBeGreaterThanOrEqual(1)
    expect(N - got.length).toBeLessThanOrEqual(stats.unconfirmed)
    // Everything written after the restart arrived.
    expect(got.filter(n => n >= 1_500).length).toBe(N - 1_500)
    // The source carried on across the reconnection: greetings from both server lives.
    expect(greetings[0]).toBe(1_000_000)
    expect(greetings.length).toBeGreaterThanOrEqual(2)
  })

  it('fails source and sink with a typed error when the server stays down past maxAttempts', async () => {
    const srv = await server()
    await srv.stop()
    const d = client(srv.port, { maxAttempts: 4 })
    const [r, w] = await Promise.all([
      settle((async () => { for await (const _ of d.source) { /* discard */ } })()),
      settle(d.sink([seq(1), seq(2)]))
    ])
    for (const outcome of [r, w]) {
      expect(outcome.ok).toBe(false)
      if (outcome.ok) continue
      expect(outcome.error.name).toBe('ReconnectFailedError')
      expect(outcome.error.attempts).toBe(4)
      expect(outcome.error.cause.code).toBe('ECONNREFUSED')
    }
    expect(d.stats()).toMatchObject({ status: 'failed', attempts: 4, unsent: 2 })
  })

  it.each<[OverflowPolicy, number[], boolean]>([
    ['wait', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], true],
    ['drop-oldest', [6, 7, 8, 9], true],
    ['drop-newest', [0, 1, 2, 3], true],
    ['error', [0, 1, 2, 3], false]
  ])('offline writes under %s', async (overflow, expected, sinkOk) => {
    const srv = await server()
    await srv.stop()
    const d = client(srv.port, { buffer: { maxMessages: 4, overflow } })
    let pulled = 0
    const writing = settle(d.sink((function * () {
      for (let i = 0; i < 10; i++) { pulled++; yield seq(i) }
    })()))
    await refusedOnce(d)
    expect(pulled).toBe(overflow === 'wait' || overflow === 'error' ? 5 : 10)
    expect(d.stats().buffered).toBe(4)
    await srv.start()
    const w = await writing
    expect(w.ok).toBe(sinkOk)
    if (!w.ok) {
      expect(w.error.name).toBe('BufferOverflowError')
      await nextEvent(d, 'connected')
    }
    await d.close()
    await srv.until(s => s.connections > 0 && s.closed >= s.connections)
    expect(srv.received.map(readSeq)).toEqual(expected)
    expect(d.stats().dropped).toBe(overflow.startsWith('drop') ? 6 : 0)
  })

  it('close() during a long backoff wait returns promptly and leaves nothing behind', async () => {
    const srv = await server()
    await srv.stop()
    const before = resourceSnapshot()
    const d = client(srv.port, { initialDelay: 60_000, maxDelay: 60_000, jitter: 'none' })
    await refusedOnce(d)
    const started = performance.now()
    await d.close()
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(await waitForResources(before)).toEqual([])
  })

  it('honours the backoff delay and the connect timeout in real time', async () => {
    const srv = await server()
    await srv.stop()
    const dialAt: number[] = []
    const d = reconnect<Uint8Array>(async ({ signal }) => {
      dialAt.push(performance.now())
      return await dialTcp(srv.port, signal)
    }, { initialDelay: 100, maxDelay: 100, jitter: 'none', maxAttempts: 2 })
    cleanup.push(() => { d.abort(new Error('test over')) })
    await nextEvent(d, 'failed')
    expect(dialAt[1] - dialAt[0]).toBeGreaterThanOrEqual(95)
    expect(dialAt[1] - dialAt[0]).toBeLessThan(5_000)

    const t0 = performance.now()
    const slow = reconnect<Uint8Array>(async ({ signal }) => await new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
    }), { connectTimeout: 50, maxAttempts: 1 })
    const { error } = await nextEvent(slow, 'failed')
    expect((error.cause as Error).name).toBe('DialTimeoutError')
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45)
    expect(performance.now() - t0).toBeLessThan(5_000)
  })

  it('200 reconnect cycles leave no sockets, timers or listeners behind', async () => {
    // Each connection is greeted and then ended by the server, half of them by a reset.
    const srv = await server((socket, index) => {
      socket.write(encodeFrame(seq(index)), () => {
        if (index % 2 === 0) socket.end()
        else socket.resetAndDestroy()
      })
    })
    const before = resourceSnapshot()
    const signals: AbortSignal[] = []
    const d = reconnect<Uint8Array>(async ({ signal }) => {
      signals.push(signal)
      return await dialTcp(srv.port, signal)
    }, { initialDelay: 1, maxDelay: 2, minStableTime: 0 })
    let greetings = 0
    const reading = settle((async () => { for await (const _ of d.source) greetings++ })())
    let connected = 0
    await new Promise<void>((resolve) => {
      d.addEventListener('connected', () => { if (++connected === 200) resolve() })
    })
    await d.close()
    expect((await reading).ok).toBe(true)
    expect(d.stats().reconnects).toBeGreaterThanOrEqual(199)
    expect(greetings).toBeGreaterThanOrEqual(150)
    expect(signals.every(s => s.aborted)).toBe(true)
    expect(signals.map(s => getEventListeners(s, 'abort').length).filter(n => n > 0)).toEqual([])
    expect(await waitForResources(before)).toEqual([])
  })
})
