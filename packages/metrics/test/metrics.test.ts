import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { metrics as otel } from '@opentelemetry/api'
import type { Frame } from '@proto/codec'
import { codec, FrameType } from '@proto/codec'
import { heartbeat } from '@proto/heartbeat'
import { reconnect } from '@proto/reconnect'
import type { SessionDuplex } from '@proto/session'
import { sessionClient, sessionServer } from '@proto/session'
import type { Server } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import { pipe } from 'it-pipe'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { LinkCounters } from '../src/index.js'
// the package's own export: the one class @proto/interface defines, so instanceof holds across packages
import { Instrument, InvalidParametersError, MetricsClosedError, protoMetrics, RTT_BUCKETS } from '../src/index.js'
import type { Sdk } from './helpers.js'
import { sdk, series, until, value } from './helpers.js'

const data = (n: number): Frame => ({ type: FrameType.DATA, body: new Uint8Array(16).fill(n) })
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function withSdk (): Sdk {
  const s = sdk()
  cleanups.push(async () => { await s.shutdown() })
  return s
}

async function echoServer (init: { maxConnections?: number } = {}, onFrames?: (frames: ReturnType<typeof heartbeat>) => void): Promise<{ server: Server, port: number }> {
  const server = await listen({ host: '127.0.0.1', port: 0, ...init }, async (conn) => {
    const frames = heartbeat(codec(conn), { interval: 20, timeout: 2_000 })
    onFrames?.(frames)
    await pipe(frames, frames)
  })
  cleanups.push(async () => { await server.close({ deadline: 200 }) })
  return { server, port: (server.address as { port: number }).port }
}

describe('protoMetrics over real TCP and a real OpenTelemetry SDK', () => {
  it('a server: connections open, accepted, closed by reason, bytes both ways equal to the connections\' own counts, kept after they close', async () => {
    const otelSdk = withSdk()
    const m = protoMetrics({ meterProvider: otelSdk.provider })
    cleanups.push(() => { m.close() })
    const { server, port } = await echoServer()
    m.server(server)

    const conn = await connect({ host: '127.0.0.1', port })
    const frames = heartbeat(codec(conn), { interval: 20, timeout: 2_000 }) // answers the server's pings
    const got: Frame[] = []
    const reading = (async () => { for await (const f of frames.source) got.push(f) })()
    const writing = frames.sink((async function * () {
      for (let i = 0; i < 10; i++) yield data(i)
      await until(() => got.length === 10)
    })())
    await until(async () => value(await otelSdk.scrape(), Instrument.bytes, { 'proto.direction': 'in' }) >= 10 * 21)
    let points = await otelSdk.scrape()
    expect(value(points, Instrument.connectionsAccepted)).toBe(1)
    expect(value(points, Instrument.connectionsOpen)).toBe(1)
    await writing
    await reading
    await conn.close()
    await until(() => server.connections.size === 0)

    points = await otelSdk.scrape()
    const client = conn.stats()
    expect(value(points, Instrument.connectionsOpen)).toBe(0)
    expect(value(points, Instrument.connectionsClosed)).toBe(1)
    expect(series(points, Instrument.connectionsClosed)[0].attributes['proto.reason']).toBeTypeOf('string')
    // what the server read is what the client wrote, and the other way round (the server also sent its pings)
    expect(value(points, Instrument.bytes, { 'proto.direction': 'in' })).toBe(client.bytesOut)
    expect(value(points, Instrument.bytes, { 'proto.direction': 'out' })).toBe(client.bytesIn)
    expect(series(points, Instrument.bytes)[0].unit).toBe('By')
  })

  it('a server refusing over maxConnections counts each refusal with its reason', async () => {
    const otelSdk = withSdk()
    const m = protoMetrics({ meterProvider: otelSdk.provider })
    cleanups.push(() => { m.close() })
    const { server, port } = await echoServer({ maxConnections: 1 })
    m.server(server)
    const first = await connect({ host: '127.0.0.1', port })
    cleanups.push(() => { first.abort(new Error('test over')) })
    await until(() => server.connections.size === 1)
    // refused with a reset: the connect itself may see it
    await connect({ host: '127.0.0.1', port }).then((c) => { cleanups.push(() => { c.abort(new Error('test over')) }) }, () => {})
    await until(async () => value(await otelSdk.scrape(), Instrument.connectionsRejected) === 1)
    const points = await otelSdk.scrape()
    expect(value(points, Instrument.connectionsRejected, { 'proto.reason': 'max-connections' })).toBe(1)
    expect(value(points, Instrument.connectionsAccepted)).toBe(1)
  })

  it('a heartbeat: every matched pong in the RTT histogram (seconds, the documented buckets), pings both ways', async () => {
    const otelSdk = withSdk()
    const m = protoMetrics({ meterProvider: otelSdk.provider })
    cleanups.push(() => { m.close() })
    const { port } = await echoServer()
    const hb = heartbeat(codec(await connect({ host: '127.0.0.1', port })), { interval: 20, timeout: 2_000 })
    cleanups.push(() => { hb.abort(new Error('test over')) })
    let pongs = 0
    hb.addEventListener('rtt', () => { pongs++ })
    m.heartbeat(hb, { attributes: { 'proto.link': 'a' } })
    void (async () => { for await (const _ of hb.source); })().catch(() => {})
    await until(() => pongs >= 5)
    const points = await otelSdk.scrape()
    const [rtt] = series(points, Instrument.rtt)
    expect(rtt.unit).toBe('s')
    expect(rtt.attributes).toEqual({ 'proto.link': 'a' })
    expect(rtt.value).toBe(pongs)
    expect(rtt.histogram?.buckets.boundaries).toEqual(RTT_BUCKETS)
    expect(rtt.histogram?.sum).toBeGreaterThan(0)
    expect(rtt.histogram?.sum).toBeLessThan(pongs * 2) // seconds, not milliseconds
    expect(value(points, Instrument.pings, { 'proto.direction': 'out' })).toBe(hb.stats().pingsSent)
    expect(value(points, Instrument.pings, { 'proto.direction': 'in' })).toBe(hb.stats().pingsReceived)
    expect(hb.stats().pingsReceived).toBeGreaterThan(0)
  })

  it('a heartbeat whose peer never answers: one timeout counted', async () => {
    const otelSdk = withSdk()
    const m = protoMetrics({ meterProvider: otelSdk.provider })
    cleanups.push(() => { m.close() })
    const silent = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { for await (const _ of conn.source); })
    cleanups.push(async () => { await silent.close({ deadline: 100 }) })
    const hb = heartbeat(codec(await connect({ host: '127.0.0.1', port: (silent.address as { port: number }).port })), { interval: 20, timeout: 150 })
    m.heartbeat(hb)
    await expect((async () => { for await (const _ of hb.source); })()).rejects.toThrow(/HeartbeatTimeout|dead|timeout/i)
    const points = await otelSdk.scrape()
    expect(value(points, Instrument.heartbeatTimeouts)).toBe(1)
    expect(m.tracked).toBe(0) // the stage closed: untracked by itself
  })

  it('a durable link: reconnects and items by outcome, per link or summed over links with the same attributes', async () => {
    const otelSdk = withSdk()
    const m = protoMetrics({ meterProvider: otelSdk.provider })
    cleanups.push(() => { m.close() })
    const { port } = await echoServer()
    const dial = async ({ signal }: { signal: AbortSignal }): Promise<ReturnType<typeof heartbeat>> => heartbeat(codec(await connect({ host: '127.0.0.1', port }, { signal })))
    const links = [reconnect<Frame>(dial, { initialDelay: 5, maxDelay: 20 }), reconnect<Frame>(dial, { initialDelay: 5, maxDelay: 20 }), reconnect<Frame>(dial, { initialDelay: 5, maxDelay: 20 })]
    for (const link of links) cleanups.push(() => { link.abort(new Error('test over')) })
    m.link(links[0], { attributes: { 'proto.link': 'orders' } })
    m.link(links[1])
    m.link(links[2])
    const counts = [0, 0, 0]
    links.forEach((link, i) => { void (async () => { for await (const _ of link.source) counts[i]++ })().catch(() => {}) })
    let release = (): void => {}
    const hold = new Promise<void>((resolve) => { release = resolve })
    cleanups.push(release)
    links.forEach((link, i) => {
      void link.sink((async function * () {
        for (let n = 0; n < 5 * (i + 1); n++) yield data(n)
        await hold // the links stay open
      })()).catch(() => {})
    })
    await until(() => counts[0] === 5 && counts[1] === 10 && counts[2] === 15)
    links[0].reconnect()
    await until(() => links[0].stats().reconnects === 1 && links[0].status === 'connected')

    const points = await otelSdk.scrape()
    expect(value(points, Instrument.reconnects, { 'proto.link': 'orders' })).toBe(1)
    expect(value(points, Instrument.linkItems, { 'proto.link': 'orders', 'proto.outcome': 'handed' })).toBe(5)
    const unnamed = series(points, Instrument.linkItems).filter(p => p.attributes['proto.link'] === undefined && p.attributes['proto.outcome'] === 'handed')
    expect(unnamed).toHaveLength(1) // two links, one series
    expect(unnamed[0].value).toBe(25)
    expect(value(points, Instrument.linkPending)).toBe(links.reduce((n, l) => { const s = l.stats(); return n + s.buffered + s.inFlight + s.retained + s.waiting }, 0))
  })

  it('a link that closes keeps what it counted (cumulative series never go down) and leaves the gauges', async () => {
    const otelSdk = withSdk()
    const m = protoMetrics({ meterProvider: otelSdk.provider })
    cleanups.push(() => { m.close() })
    const { port } = await echoServer()
    const link = reconnect<Frame>(async ({ signal }) => heartbeat(codec(await connect({ host: '127.0.0.1', port }, { signal }))))
    m.link(link)
    expect(m.tracked).toBe(1)
    let n = 0
    const reading = (async () => { for await (const _ of link.source) n++ })()
    void link.sink([data(1), data(2), data(3)]).catch(() => {})
    await until(() => n === 3)
    await link.close()
    await reading
    expect(m.tracked).toBe(0)
    const points = await otelSdk.scrape()
    expect(value(points, Instrument.linkItems, { 'proto.outcome': 'handed' })).toBe(3)
    expect(value(points, Instrument.linkPending)).toBe(0)
  })

  it('sessions: frames both ways, a resume after a cut on both ends, the session server\'s sessions', async () => {
    const otelSdk = withSdk()
    const m = protoMetrics({ meterProvider: otelSdk.provider })
    cleanups.push(() => { m.close() })
    const sessions = sessionServer()
    m.sessionServer(sessions)
    sessions.addEventListener('session', ({ detail: session }) => {
      m.session(session)
      void session.sink(session.source).catch(() => {})
    })
    const tcp = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await sessions.handle(conn) })
    cleanups.push(async () => { sessions.abort(new Error('test over')); await tcp.close({ deadline: 100 }) })
    const port = (tcp.address as { port: number }).port
    const client: SessionDuplex = sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port }, { signal }), { initialDelay: 5, maxDelay: 20 })
    cleanups.push(() => { client.abort(new Error('test over')) })
    m.session(client)
    const got: Frame[] = []
    void (async () => { for await (const f of client.source) got.push(f) })().catch(() => {})
    let release = (): void => {}
    const more = new Promise<void>((resolve) => { release = resolve })
    let end = (): void => {}
    const hold = new Promise<void>((resolve) => { end = resolve })
    cleanups.push(end)
    void client.sink((async function * () {
      for (let i = 0; i < 20; i++) yield data(i)
      await more
      for (let i = 20; i < 40; i++) yield data(i)
      await hold // the session stays open
    })()).catch(() => {})
    await until(() => got.length === 20)
    for (const conn of tcp.connections) conn.abort(new Error('cut'))
    release()
    await until(() => got.length === 40 && client.stats().resumes === 1 && client.stats().link.reconnects === 1 && sessions.stats().detached === 0)

    const points = await otelSdk.scrape()
    expect(value(points, Instrument.sessionFrames, { 'proto.role': 'client', 'proto.direction': 'in' })).toBe(40)
    expect(value(points, Instrument.sessionFrames, { 'proto.role': 'server', 'proto.direction': 'in' })).toBe(40)
    expect(value(points, Instrument.sessionResumes, { 'proto.role': 'client' })).toBe(1)
    expect(value(points, Instrument.sessionServerOutcomes, { 'proto.outcome': 'created' })).toBe(1)
    expect(value(points, Instrument.sessionServerOutcomes, { 'proto.outcome': 'resumed' })).toBe(1)
    expect(value(points, Instrument.sessionsActive, { 'proto.state': 'connected' })).toBe(1)
    expect(value(points, Instrument.reconnects, { 'proto.role': 'client' })).toBe(1)
    expect(value(points, Instrument.sessionsLost)).toBe(0)
  })

  it('a session is read after its closed event while the application still holds it: what its source delivers after close() is counted', async () => {
    const otelSdk = withSdk()
    const m = protoMetrics({ meterProvider: otelSdk.provider })
    cleanups.push(() => { m.close() })
    const sessions = sessionServer()
    let serverSide: SessionDuplex | undefined
    sessions.addEventListener('session', ({ detail: session }) => {
      serverSide = session
      void session.sink((function * () { for (let i = 0; i < 200; i++) yield data(i) })()).catch(() => {})
      void (async () => { for await (const _ of session.source) { /* reads everything */ } })().catch(() => {})
    })
    const tcp = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await sessions.handle(conn) })
    cleanups.push(async () => { sessions.abort(new Error('test over')); await tcp.close({ deadline: 100 }) })
    const port = (tcp.address as { port: number }).port
    const client: SessionDuplex = sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port }, { signal }))
    cleanups.push(() => { client.abort(new Error('test over')) })
    m.session(client)
    const it = client.source[Symbol.asyncIterator]()
    for (let i = 0; i < 10; i++) await it.next()
    await until(() => serverSide?.stats().sent === 200) // the rest is on its way, not read yet
    await client.close()
    expect(m.tracked).toBe(0) // closed: no longer tracked as a live object
    let read = 10
    while ((await it.next()).done !== true) read++
    expect(read).toBe(200)
    expect(client.stats().delivered).toBe(200)
    const points = await otelSdk.scrape()
    expect(value(points, Instrument.sessionFrames, { 'proto.role': 'client', 'proto.direction': 'in' })).toBe(200)
  })
})

describe('a closed session or link, once the application let go of it', () => {
  it('is not kept alive by its tracking, and what it counted stays in the totals', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const otelSdk = withSdk()
    const m = protoMetrics({ meterProvider: otelSdk.provider })
    cleanups.push(() => { m.close() })
    const counters = { reconnects: 0, handed: 5, replayed: 0, confirmed: 5, flushed: 0, unconfirmed: 0, dropped: 0, cleared: 0, rejected: 0, unsent: 0, waiting: 0, buffered: 0, inFlight: 0, retained: 0 }
    const track = (): WeakRef<EventTarget> => {
      const link = Object.assign(new EventTarget(), { stats: (): LinkCounters => ({ ...counters }) })
      m.link(link)
      link.dispatchEvent(new Event('closed'))
      counters.handed = 7 // counted after closed, read while it lives
      return new WeakRef(link)
    }
    const gone = track()
    expect(m.tracked).toBe(0)
    expect(value(await otelSdk.scrape(), Instrument.linkItems, { 'proto.outcome': 'handed' })).toBe(7)
    for (let i = 0; i < 5 && gone.deref() !== undefined; i++) {
      await new Promise(resolve => setImmediate(resolve))
      gc()
    }
    expect(gone.deref()).toBeUndefined()
    counters.handed = 1_000 // nothing reads this any more
    await new Promise(resolve => setImmediate(resolve)) // the registry's callback retires its last reading
    expect(value(await otelSdk.scrape(), Instrument.linkItems, { 'proto.outcome': 'handed' })).toBe(7)
  })
})

describe('protoMetrics without an SDK', () => {
  it('costs nothing: with the global no-op provider no object is ever read', async () => {
    expect(otel.getMeterProvider().getMeter('x').createCounter('y').constructor.name).toMatch(/Noop/)
    const m = protoMetrics()
    const { server, port } = await echoServer()
    const link = reconnect<Frame>(async ({ signal }) => heartbeat(codec(await connect({ host: '127.0.0.1', port }, { signal }))))
    cleanups.push(() => { link.abort(new Error('test over')) })
    // what the instruments would read, counted: the link's own stats() is called by the link itself too
    const read = vi.fn(() => link.stats())
    m.link(Object.assign(new EventTarget(), { stats: read }))
    m.server(server)
    let n = 0
    void (async () => { for await (const _ of link.source) n++ })().catch(() => {})
    void link.sink([data(1), data(2)]).catch(() => {})
    await until(() => n === 2)
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(read).not.toHaveBeenCalled()
    expect(m.tracked).toBe(2)
    m.close()
  })
})

describe('protoMetrics lifecycle and options', () => {
  it('untracking keeps the totals; close() untracks everything and refuses new objects with a typed error', async () => {
    const otelSdk = withSdk()
    const m = protoMetrics({ meterProvider: otelSdk.provider, attributes: { 'proto.node': 'n1' } })
    let handed = 7
    let reads = 0
    const stats = (): LinkCounters => {
      reads++
      return { reconnects: 0, waiting: 0, buffered: 2, inFlight: 0, retained: 0, handed, replayed: 0, confirmed: 0, unconfirmed: 0, flushed: 0, dropped: 0, cleared: 0, rejected: 0, unsent: 0 }
    }
    const fake = Object.assign(new EventTarget(), { stats })
    const untrack = m.link(fake)
    let points = await otelSdk.scrape()
    expect(value(points, Instrument.linkItems, { 'proto.node': 'n1', 'proto.outcome': 'handed' })).toBe(7)
    expect(value(points, Instrument.linkPending, { 'proto.state': 'buffered' })).toBe(2)
    untrack()
    untrack()
    handed = 100 // no longer read
    points = await otelSdk.scrape()
    expect(value(points, Instrument.linkItems, { 'proto.outcome': 'handed' })).toBe(7)
    expect(value(points, Instrument.linkPending, { 'proto.state': 'buffered' })).toBe(0)
    m.link(fake)
    expect(m.tracked).toBe(1)
    m.close()
    m.close()
    expect(m.tracked).toBe(0)
    expect(() => m.link(fake)).toThrow(MetricsClosedError)
    reads = 0
    await otelSdk.scrape()
    expect(reads).toBe(0) // the callback is gone
  })

  it('rejects options that are not objects', () => {
    expect(() => protoMetrics('x' as never)).toThrow(InvalidParametersError)
    const m = protoMetrics()
    expect(() => m.link(new EventTarget() as never, 3 as never)).toThrow(InvalidParametersError)
    expect(() => m.link(new EventTarget() as never, { attributes: 5 } as never)).toThrow(InvalidParametersError)
    m.close()
  })

  it('refuses a target that lacks what tracking reads, typed, and tracks nothing of it: the other objects\' series stay', async () => {
    const otelSdk = withSdk()
    const m = protoMetrics({ meterProvider: otelSdk.provider })
    cleanups.push(() => { m.close() })
    const counters = { reconnects: 0, handed: 5, replayed: 0, confirmed: 0, flushed: 5, unconfirmed: 0, dropped: 0, cleared: 0, rejected: 0, unsent: 0, waiting: 0, buffered: 0, inFlight: 0, retained: 0 }
    const good = Object.assign(new EventTarget(), { stats: (): LinkCounters => counters })
    m.link(good)
    const bad: Array<[string, unknown]> = [
      ['link', null], ['link', {}], ['link', { stats: () => counters }], ['connection', {}], ['connection', { stats: () => counters }],
      ['heartbeat', new EventTarget()], ['session', 5], ['server', new EventTarget()], ['sessionServer', null], ['sessionServer', {}]
    ]
    for (const [method, target] of bad) {
      expect(() => { (m as unknown as Record<string, (t: unknown) => void>)[method](target) }, `${method}(${String(target)})`).toThrow(InvalidParametersError)
    }
    expect(m.tracked).toBe(1)
    expect(value(await otelSdk.scrape(), Instrument.linkItems, { 'proto.outcome': 'handed' })).toBe(5)

    // an object whose stats() starts throwing is left out; the collection and the others go on
    let broken = false
    const flaky = Object.assign(new EventTarget(), { stats: (): LinkCounters => { if (broken) throw new Error('gone wrong'); return { ...counters, handed: 7 } } })
    m.link(flaky)
    expect(value(await otelSdk.scrape(), Instrument.linkItems, { 'proto.outcome': 'handed' })).toBe(12)
    broken = true
    expect(value(await otelSdk.scrape(), Instrument.linkItems, { 'proto.outcome': 'handed' })).toBe(5)
  })

  it('rejects a meter provider without getMeter(), a meter name that is not a string and attributes that are not an object', () => {
    for (const init of [{ meterProvider: {} }, { meterName: 5 }, { meterName: '' }, { attributes: 'x' }, { attributes: null }]) {
      expect(() => protoMetrics(init as never), JSON.stringify(init)).toThrow(InvalidParametersError)
    }
  })
})
