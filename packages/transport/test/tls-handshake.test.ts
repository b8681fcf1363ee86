import net from 'node:net'
import tls from 'node:tls'
import { resourceSnapshot, waitForResources } from '@proto/stage-compliance'
import { pipe } from 'it-pipe'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Connection, DisconnectInfo, DropEvent, ListenInit, Server } from '../src/index.js'
import { connect, listen } from '../src/index.js'
import type { TestPKI } from './helpers.js'
import { makePKI, portOf, readAll, settle } from './helpers.js'

let pki: TestPKI
beforeAll(() => { pki = makePKI() })
afterAll(() => { pki?.remove() })

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

interface Watched { server: Server, drops: DropEvent[], gone: DisconnectInfo[] }

/** A TLS stream-echo server; every drop and disconnect is recorded. */
async function tlsServer (init: ListenInit = {}): Promise<Watched> {
  const server = await listen({ host: '127.0.0.1', port: 0, tls: { cert: pki.serverCert, key: pki.serverKey }, ...init }, async (conn) => { await pipe(conn, conn) })
  const drops: DropEvent[] = []
  const gone: DisconnectInfo[] = []
  server.addEventListener('drop', ({ detail }) => { drops.push(detail) })
  server.addEventListener('disconnect', ({ detail }) => { gone.push(detail.info) })
  cleanups.push(async () => { await server.close({ deadline: 200 }) })
  return { server, drops, gone }
}

/** A raw TCP socket to `port` that the test closes at the end; reads are discarded. */
function rawSocket (port: number): net.Socket {
  const s = net.connect({ host: '127.0.0.1', port })
  s.on('error', () => {})
  s.resume()
  cleanups.push(() => { s.destroy() })
  return s
}

async function closedSocket (s: net.Socket): Promise<void> {
  if (s.destroyed) return
  await new Promise(resolve => s.once('close', resolve))
}

/** A verified TLS client of this SDK that keeps its connection open. */
async function goodClient (port: number): Promise<Connection> {
  const conn = await connect({ host: '127.0.0.1', port, tls: { ca: pki.ca, servername: 'localhost' } })
  cleanups.push(() => { conn.abort(new Error('test over')) })
  return conn
}

/** Sends `text` through a stream-echo connection and reads the same number of bytes back. */
async function echoOnce (conn: Connection, writer: { push(b: Uint8Array): void }, text: string): Promise<string> {
  writer.push(Buffer.from(text))
  // next() rather than for await … break, which would detach the consumer for good
  const source = conn.source[Symbol.asyncIterator]()
  let got = ''
  while (got.length < text.length) {
    const r = await source.next()
    if (r.done === true) break
    got += Buffer.from(r.value.subarray()).toString()
  }
  return got
}

/** A sink source the test pushes into. */
function pushable (): AsyncIterable<Uint8Array> & { push(b: Uint8Array): void, end(): void } {
  const queue: Array<Uint8Array | undefined> = []
  let wake: (() => void) | undefined
  return {
    push (b) { queue.push(b); wake?.() },
    end () { queue.push(undefined); wake?.() },
    async* [Symbol.asyncIterator] () {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((resolve) => { wake = resolve })
        const b = queue.shift()
        if (b === undefined) return
        yield b
      }
    }
  }
}

/** Opens `n` verified clients at once, echoes through each, closes them. */
async function serveAtOnce (port: number, n: number): Promise<string[]> {
  return await Promise.all(Array.from({ length: n }, async (_, i) => {
    const conn = await goodClient(port)
    const [, reply] = await Promise.all([conn.sink([Buffer.from(`good ${i}`)]), readAll(conn)])
    return reply.toString()
  }))
}

const expected = (n: number): string[] => Array.from({ length: n }, (_, i) => `good ${i}`)

describe('TLS handshakes that never finish free their slot', () => {
  it('clients that send FIN in the middle of the handshake (scans, TCP health checks): each slot is freed at once', async () => {
    const { server, drops } = await tlsServer({ maxConnections: 5 })
    const port = portOf(server)
    for (let i = 0; i < 10; i++) {
      const s = rawSocket(port)
      // the first bytes of a ClientHello record, then FIN
      s.end(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xc8]))
      await closedSocket(s)
    }
    await vi.waitFor(() => { expect(drops).toHaveLength(10) })
    for (const d of drops) {
      expect(d.reason).toBe('tls-handshake')
      expect(d.error.name).toBe('ConnectionResetError')
    }
    // every slot is free: maxConnections clients at once
    expect(await serveAtOnce(port, 5)).toEqual(expected(5))
  })

  it('silent clients hold a slot only until handshakeTimeout; a good client on the same server carries on (real time)', async () => {
    const { server, drops } = await tlsServer({ maxConnections: 4, handshakeTimeout: 300 })
    const port = portOf(server)
    const good = await goodClient(port)
    const writer = pushable()
    const writing = good.sink(writer)
    expect(await echoOnce(good, writer, 'before')).toBe('before')
    const started = Date.now()
    const silent = [0, 1, 2].map(() => rawSocket(port))
    // the three silent sockets and the good client fill maxConnections: one more is refused
    await vi.waitFor(async () => {
      const r = await settle(connect({ host: '127.0.0.1', port, tls: { ca: pki.ca, servername: 'localhost' } }))
      expect(r.ok ? 'connected' : r.error.name).toBe('ConnectionResetError')
    })
    expect(drops.map(d => d.reason)).toContain('max-connections')
    await Promise.all(silent.map(closedSocket))
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(250)
    expect(elapsed).toBeLessThan(5_000)
    const timeouts = drops.filter(d => d.reason === 'tls-handshake-timeout')
    expect(timeouts).toHaveLength(3)
    for (const d of timeouts) {
      expect(d.error.name).toBe('HandshakeTimeoutError')
      expect(d.remoteAddress).toMatchObject({ family: 'IPv4', address: '127.0.0.1' })
    }
    // the good client never noticed, and the freed slots serve others
    expect(await echoOnce(good, writer, 'after')).toBe('after')
    expect(await serveAtOnce(port, 3)).toEqual(expected(3))
    writer.end()
    await writing
  })

  it('a client that trickles handshake bytes is still dropped at handshakeTimeout (real time)', async () => {
    const { server, drops } = await tlsServer({ handshakeTimeout: 300 })
    const s = rawSocket(portOf(server))
    const header = [0x16, 0x03, 0x01, 0x3f, 0xfc, 0x01, 0x00, 0x3f, 0xf8, 0x03, 0x03]
    let sent = 0
    const drip = setInterval(() => { if (!s.destroyed) s.write(Buffer.from([header[sent++ % header.length] as number])) }, 50)
    cleanups.push(() => { clearInterval(drip) })
    const started = Date.now()
    await closedSocket(s)
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(sent).toBeGreaterThanOrEqual(4)
    expect(drops.map(d => d.reason)).toEqual(['tls-handshake-timeout'])
  })

  it('TLS 1.3 clients that abort right after connect() resolves free their slot', async () => {
    const { server, drops, gone } = await tlsServer({ maxConnections: 3 })
    const port = portOf(server)
    for (let i = 0; i < 9; i++) {
      await new Promise<void>((resolve) => {
        const c = tls.connect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'localhost', minVersion: 'TLSv1.3' }, () => { c.destroy() })
        c.on('error', () => {})
        c.on('close', () => { resolve() })
      })
    }
    // each either never became a connection (a drop) or became one that ended at once (a disconnect)
    await vi.waitFor(() => { expect(drops.length + gone.length).toBe(9) })
    expect(server.connections.size).toBe(0)
    expect(await serveAtOnce(port, 3)).toEqual(expected(3))
  })

  it('a client that does not speak TLS gets a typed drop with the OpenSSL code', async () => {
    const { server, drops } = await tlsServer()
    const s = rawSocket(portOf(server))
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    await closedSocket(s)
    await vi.waitFor(() => { expect(drops).toHaveLength(1) })
    const [drop] = drops as [DropEvent]
    expect(drop.reason).toBe('tls-handshake')
    expect(drop.error).toMatchObject({ name: 'TLSError', code: 'ERR_SSL_HTTP_REQUEST', fatal: true })
    expect(drop.remoteAddress).toMatchObject({ family: 'IPv4', address: '127.0.0.1' })
  })

  it('server.close() with handshakes in flight: they end at the deadline, reset and reported as the close\'s doing, and the close resolves', async () => {
    const { server, drops } = await tlsServer({ handshakeTimeout: 10_000 })
    const silent = [0, 1].map(() => rawSocket(portOf(server)))
    const resets = silent.map(async s => await new Promise<string | undefined>((resolve) => {
      s.on('error', (err: NodeJS.ErrnoException) => { resolve(err.code) })
      s.on('close', () => { resolve(undefined) })
    }))
    await new Promise(resolve => setTimeout(resolve, 50))
    const started = Date.now()
    await server.close({ deadline: 300 })
    expect(Date.now() - started).toBeLessThan(2_000) // the deadline, not the 10 s handshakeTimeout
    await Promise.all(silent.map(closedSocket))
    expect(await Promise.all(resets)).toEqual(['ECONNRESET', 'ECONNRESET'])
    // not blamed on the clients (which never left): the close aborted them
    expect(drops.map(d => [d.reason, d.error.name])).toEqual([['server-closed', 'ServerClosedError'], ['server-closed', 'ServerClosedError']])
  })

  it('hostile handshakes, refusals, good connections and a close leave no socket, handle or timer behind', async () => {
    const before = resourceSnapshot()
    const server = await listen({
      host: '127.0.0.1',
      port: 0,
      tls: { cert: pki.serverCert, key: pki.serverKey },
      maxConnections: 10,
      maxConnectionsPerSource: 4,
      handshakeTimeout: 200
    }, async (conn) => { await pipe(conn, conn) })
    const drops: DropEvent[] = []
    server.addEventListener('drop', ({ detail }) => { drops.push(detail) })
    const port = portOf(server)
    const sockets: net.Socket[] = []
    const raw = (localAddress: string): net.Socket => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress })
      s.on('error', () => {})
      s.resume()
      sockets.push(s)
      return s
    }
    raw('127.0.0.1').end(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xc8])) // FIN mid-handshake
    raw('127.0.0.1') // silent: timed out
    raw('127.0.0.1').write('GET / HTTP/1.0\r\n\r\n') // not TLS
    for (let i = 0; i < 6; i++) raw('127.0.0.2') // silent flood from another source: 4 held, 2 refused
    expect(await serveAtOnce(port, 2)).toEqual(expected(2))
    await vi.waitFor(() => { expect(drops.length).toBeGreaterThanOrEqual(9) })
    expect(new Set(drops.map(d => d.reason))).toEqual(new Set(['tls-handshake', 'tls-handshake-timeout', 'max-connections-per-source']))
    await server.close({ deadline: 300 })
    for (const s of sockets) s.destroy()
    for (const c of cleanups.splice(0).reverse()) await c()
    expect(await waitForResources(before, 3_000)).toEqual([])
  })

  it('rejects a non-positive handshakeTimeout with InvalidParametersError', async () => {
    const r = await settle(listen({ host: '127.0.0.1', port: 0, tls: { cert: pki.serverCert, key: pki.serverKey }, handshakeTimeout: 0 }))
    expect(r.ok ? undefined : r.error.name).toBe('InvalidParametersError')
  })
})
