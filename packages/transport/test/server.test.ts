import net from 'node:net'
import type { AbortOptions, PushSource } from '@proto/interface'
import { resourceSnapshot, waitForResources } from '@proto/stage-compliance'
import { pipe } from 'it-pipe'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Connection, DisconnectInfo, DropEvent, Server, ServerErrorEvent } from '../src/index.js'
import { connect, listen } from '../src/index.js'
import { nextConnection, portOf, readAll, settle } from './helpers.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function server (init: Parameters<typeof listen>[0], handler?: Parameters<typeof listen>[1]): Promise<Server> {
  const s = await listen({ host: '127.0.0.1', port: 0, ...init }, handler)
  cleanups.push(async () => { await s.close({ deadline: 200 }) })
  return s
}

async function client (s: Server): Promise<Connection> {
  const c = await connect({ host: '127.0.0.1', port: portOf(s) })
  cleanups.push(() => { c.abort(new Error('test over')) })
  return c
}

/** Connects and reads to the end; a reset may surface from connect() itself or from the first read. */
async function connectAndRead (s: Server): Promise<Buffer> {
  const c = await client(s)
  return await readAll(c)
}

function nextDisconnect (s: Server): Promise<{ connection: Connection, info: DisconnectInfo }> {
  return new Promise((resolve) => { s.addEventListener('disconnect', ({ detail }) => { resolve(detail) }, { once: true }) })
}

describe('listen(): registry and events', () => {
  it('tracks live connections with id, address, stats; emits connection and disconnect', async () => {
    const s = await server({}, async (conn) => { await pipe(conn, conn) })
    const accepted = nextConnection(s)
    const c = await client(s)
    const sc = await accepted
    expect(s.connections.size).toBe(1)
    expect(s.connections.get(sc.id)).toBe(sc)
    expect(s.connections.has('nope')).toBe(false)
    expect([...s.connections].map(x => x.id)).toEqual([sc.id])
    expect(sc.remoteAddress).toEqual({ family: 'IPv4', address: '127.0.0.1', port: (c.localAddress as { port: number }).port })
    const gone = nextDisconnect(s)
    const [, echoed] = await Promise.all([c.sink([Buffer.from('abc')]), readAll(c)])
    expect(echoed.toString()).toBe('abc')
    const { connection, info } = await gone
    expect(connection).toBe(sc)
    expect(info.reason).toBe('closed')
    expect(info.stats).toMatchObject({ bytesIn: 3, bytesOut: 3 })
    expect(s.connections.size).toBe(0)
  })

  it('a handler that throws or rejects closes only its connection, with a HandlerError event', async () => {
    let n = 0
    const boom = new Error('handler bug')
    const errors: ServerErrorEvent[] = []
    const s = await server({}, async (conn) => {
      n++
      if (n === 1) throw boom
      if (n === 2) { await Promise.resolve(); throw boom }
      await pipe(conn, conn)
    })
    s.addEventListener('error', ({ detail }) => { errors.push(detail) })
    const infos: DisconnectInfo[] = []
    s.addEventListener('disconnect', ({ detail }) => { infos.push(detail.info) })
    const r1 = await settle(connectAndRead(s))
    const r2 = await settle(connectAndRead(s))
    const c3 = await client(s)
    expect(r1.ok ? undefined : r1.error.name).toBe('ConnectionResetError')
    expect(r2.ok ? undefined : r2.error.name).toBe('ConnectionResetError')
    expect(errors.map(e => e.error.name)).toEqual(['HandlerError', 'HandlerError'])
    expect(errors[0]?.error.cause).toBe(boom)
    expect(infos.map(i => i.reason)).toEqual(['handler-error', 'handler-error'])
    const [, echoed] = await Promise.all([c3.sink([Buffer.from('still here')]), readAll(c3)])
    expect(echoed.toString()).toBe('still here')
  })

  it('a handler that rejects with its connection\'s own failure (a reset, the close deadline) is no HandlerError: the disconnect says why', async () => {
    const errors: ServerErrorEvent[] = []
    const handled: unknown[] = []
    const s = await server({}, async (conn) => {
      try {
        await pipe(conn, conn)
      } catch (err) {
        handled.push(err)
        throw err
      }
    })
    s.addEventListener('error', ({ detail }) => { errors.push(detail) })
    const infos: DisconnectInfo[] = []
    s.addEventListener('disconnect', ({ detail }) => { infos.push(detail.info) })
    // the peer resets while the handler's pipe writes to it and reads from it
    const raw = net.connect(portOf(s), '127.0.0.1')
    raw.on('error', () => {})
    await new Promise<void>((resolve) => { raw.on('connect', () => { resolve() }) })
    raw.write('ping')
    await vi.waitFor(() => { expect(s.connections.size).toBe(1) })
    raw.resetAndDestroy()
    await vi.waitFor(() => { expect(infos).toHaveLength(1) })
    // a client that stays until the server's close deadline
    const idle = net.connect(portOf(s), '127.0.0.1')
    idle.on('error', () => {})
    await vi.waitFor(() => { expect(s.connections.size).toBe(1) })
    idle.pause()
    await s.close({ deadline: 50 })
    await vi.waitFor(() => { expect(infos).toHaveLength(2) })
    expect(handled.length).toBeGreaterThanOrEqual(1) // the handlers did reject
    expect(errors).toEqual([])
    expect(infos.map(i => i.reason)).not.toContain('handler-error')
    idle.destroy()
  })

  it('drops connections beyond maxConnections without disturbing the others', async () => {
    const s = await server({ maxConnections: 2 }, async (conn) => { await pipe(conn, conn) })
    const drops: DropEvent[] = []
    s.addEventListener('drop', ({ detail }) => { drops.push(detail) })
    const accepted = [nextConnection(s)]
    const c1 = await client(s)
    await accepted[0]
    accepted.push(nextConnection(s))
    const c2 = await client(s)
    await accepted[1]
    const dropped = new Promise<DropEvent>((resolve) => { s.addEventListener('drop', ({ detail }) => { resolve(detail) }, { once: true }) })
    const r3 = await settle(connectAndRead(s))
    const drop = await dropped
    expect(drop.reason).toBe('max-connections')
    expect(drop.error.name).toBe('TooManyConnectionsError')
    expect(drop.remoteAddress).toMatchObject({ family: 'IPv4', address: '127.0.0.1' })
    expect(r3.ok ? undefined : r3.error.name).toBe('ConnectionResetError')
    expect(s.connections.size).toBe(2)
    const [, e1] = await Promise.all([c1.sink([Buffer.from('one')]), readAll(c1)])
    const [, e2] = await Promise.all([c2.sink([Buffer.from('two')]), readAll(c2)])
    expect([e1.toString(), e2.toString()]).toEqual(['one', 'two'])
    expect(drops.length).toBe(1)
  })

  it('rejects bad options with InvalidParametersError and a busy port with ListenError', async () => {
    for (const init of [{ maxConnections: 0 }, { idleTimeout: -1 }, { backlog: 1.5 }, { keepAlive: 0.25 }, { port: -1 }, { host: '[::1]' }, { tls: { cert: 'not a PEM', key: 'not a PEM' } }]) {
      const r = await settle(listen({ host: '127.0.0.1', ...init }))
      expect(r.ok ? undefined : r.error.name, JSON.stringify(init)).toBe('InvalidParametersError')
    }
    const r0 = await settle(listen({ host: '127.0.0.1', port: 0 }, undefined, null as unknown as AbortOptions))
    expect(r0.ok ? undefined : r0.error.name).toBe('InvalidParametersError')
    const s = await server({})
    const r = await settle(listen({ host: '127.0.0.1', port: portOf(s) }))
    expect(r.ok ? undefined : r.error.name).toBe('ListenError')
    expect(r.ok ? undefined : r.error.cause.code).toBe('EADDRINUSE')
  })
})

describe('listen(): idle timeout', () => {
  it('closes a silent connection after idleTimeout, re-armed by traffic (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] })
    cleanups.push(() => { vi.useRealTimers() })
    const received: number[] = []
    const s = await server({ idleTimeout: 1_000 }, async (conn) => {
      for await (const chunk of conn.source) received.push(chunk.byteLength)
    })
    const accepted = nextConnection(s)
    const c = await client(s)
    const sc = await accepted
    await vi.advanceTimersByTimeAsync(600)
    let wake: () => void = () => {}
    const more = new Promise<void>((resolve) => { wake = resolve })
    const writing = c.sink((async function * () {
      yield new Uint8Array(1)
      await more
    })())
    await vi.waitFor(() => { expect(received).toEqual([1]) })
    await vi.advanceTimersByTimeAsync(600)
    expect(s.connections.has(sc.id)).toBe(true)
    const gone = nextDisconnect(s)
    await vi.advanceTimersByTimeAsync(400)
    const { info } = await gone
    expect(info.reason).toBe('idle-timeout')
    expect(info.error?.name).toBe('IdleTimeoutError')
    wake()
    await settle(writing)
  })

  it('closes a silent connection after idleTimeout (real time)', async () => {
    const s = await server({ idleTimeout: 100 })
    const started = Date.now()
    const gone = nextDisconnect(s)
    const c = await client(s)
    const { info } = await gone
    expect(info.reason).toBe('idle-timeout')
    expect(Date.now() - started).toBeGreaterThanOrEqual(90)
    expect(Date.now() - started).toBeLessThan(5_000)
    // The peer sees an orderly end, not a reset.
    expect((await readAll(c)).byteLength).toBe(0)
  })

  it('stays an orderly end when the stage above aborts the connection as it learns of the failure (a heartbeat does)', async () => {
    const s = await server({ idleTimeout: 100 }, (conn) => {
      // push mode: told of the failure within the close itself, and aborting then, as a stage over it does
      const it = conn.source[Symbol.asyncIterator]() as unknown as PushSource<Uint8Array>
      it.subscribe({ push: () => true, end: (err?: Error) => { if (err !== undefined) conn.abort(err) } })
    })
    const gone = nextDisconnect(s)
    const c = await client(s)
    const { info } = await gone
    expect(info.reason).toBe('idle-timeout')
    // the peer reads to an orderly end (a reset would fail the read with ConnectionResetError)
    expect(await settle(readAll(c))).toMatchObject({ ok: true })
  })
})

describe('server.close()', () => {
  it('lets cooperating connections finish: FIN to each client, resolves when all are gone', async () => {
    const before = resourceSnapshot()
    const s = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await readAll(conn) })
    const clients = await Promise.all([0, 1, 2].map(async () => await connect({ host: '127.0.0.1', port: portOf(s) })))
    await vi.waitFor(() => { expect(s.connections.size).toBe(3) })
    const reasons: string[] = []
    s.addEventListener('disconnect', ({ detail }) => { reasons.push(detail.info.reason) })
    // Each client reads until the server's FIN, then finishes its own side.
    const cooperating = clients.map(async (c) => { await readAll(c); await c.close() })
    await s.close({ deadline: 5_000 })
    await Promise.all(cooperating)
    expect(reasons).toEqual(['closed', 'closed', 'closed'])
    expect(s.connections.size).toBe(0)
    expect(await waitForResources(before, 2_000)).toEqual([])
    // Closing again is a no-op.
    await s.close()
  })

  it('aborts connections still open at the deadline with ServerClosedError; clients see a reset', async () => {
    const before = resourceSnapshot()
    const s = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await pipe(conn, conn) })
    const clients = await Promise.all([0, 1].map(async () => await connect({ host: '127.0.0.1', port: portOf(s) })))
    await vi.waitFor(() => { expect(s.connections.size).toBe(2) })
    const infos: DisconnectInfo[] = []
    s.addEventListener('disconnect', ({ detail }) => { infos.push(detail.info) })
    const reads = clients.map(async c => await settle(readAll(c)))
    const started = Date.now()
    await s.close({ deadline: 150 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    expect(infos.map(i => [i.reason, i.error?.name])).toEqual([['server-closed', 'ServerClosedError'], ['server-closed', 'ServerClosedError']])
    for (const r of await Promise.all(reads)) expect(r.ok ? undefined : r.error.name).toBe('ConnectionResetError')
    expect(await waitForResources(before, 2_000)).toEqual([])
  })

  it('close({ signal }) with a signal aborted already closes the server at once, aborting its connections, and rejects with the reason', async () => {
    const s = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await pipe(conn, conn) })
    const c = await connect({ host: '127.0.0.1', port: portOf(s) })
    await vi.waitFor(() => { expect(s.connections.size).toBe(1) })
    const infos: DisconnectInfo[] = []
    s.addEventListener('disconnect', ({ detail }) => { infos.push(detail.info) })
    const reason = new Error('shutting down now')
    const r = await settle(s.close({ deadline: 60_000, signal: AbortSignal.abort(reason) }))
    expect(r.ok ? undefined : r.error).toBe(reason)
    expect(infos.map(i => [i.reason, i.error?.name])).toEqual([['server-closed', 'ServerClosedError']])
    expect(s.connections.size).toBe(0)
    expect((await settle(readAll(c))).ok).toBe(false)
  })

  it('drops raw sockets that arrive while closing and does not hang on them', async () => {
    const s = await listen({ host: '127.0.0.1', port: 0 })
    const port = portOf(s)
    const closing = s.close({ deadline: 100 })
    const r = await settle(new Promise<void>((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port })
      sock.on('error', reject)
      sock.on('close', () => { resolve() })
      sock.resume()
    }))
    await closing
    expect(r.ok ? 'closed' : r.error.code).toMatch(/closed|ECONNREFUSED|ECONNRESET/)
  })
})
