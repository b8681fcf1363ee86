import { getEventListeners } from 'node:events'
import net from 'node:net'
import { Uint8ArrayList } from 'uint8arraylist'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Connection, Server } from '../src/index.js'
import { connect, fromCarrier, fromSocket, listen } from '../src/index.js'
import { fakeCarrier, nextConnection, portOf, readAll, settle } from './helpers.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function pair (): Promise<{ server: Server, client: Connection, peer: Connection, socket: net.Socket }> {
  const server = await listen({ host: '127.0.0.1', port: 0 })
  cleanups.push(async () => { await server.close({ deadline: 200 }) })
  const accepted = nextConnection(server)
  let socket: net.Socket | undefined
  const client = await connect({ host: '127.0.0.1', port: portOf(server), createSocket: (o) => { socket = net.connect(o); return socket } })
  cleanups.push(() => { client.abort(new Error('test over')) })
  return { server, client, peer: await accepted, socket: socket as net.Socket }
}

function endless (): AsyncGenerator<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024)
  return (async function * () { for (;;) yield chunk })()
}

describe('faults', () => {
  it('a peer reset mid-transfer fails our sink and source with ConnectionResetError', async () => {
    const { client, peer } = await pair()
    const writing = settle(client.sink(endless()))
    const reading = settle(readAll(client))
    let got = 0
    for await (const piece of peer.source) {
      got += piece.byteLength
      if (got > 4 * 1024 * 1024) break
    }
    peer.abort(new Error('peer gives up'))
    const [w, r] = await Promise.all([writing, reading])
    expect(w.ok ? undefined : w.error.name).toBe('ConnectionResetError')
    expect(r.ok ? undefined : r.error.name).toBe('ConnectionResetError')
    const info = await client.closed
    expect(info.reason).toBe('reset')
    expect(info.initiator).toBe('remote')
    expect(info.error?.name).toBe('ConnectionResetError')
    expect((info.error?.cause as { code?: string })?.code).toMatch(/ECONNRESET|EPIPE/)
    expect(client.signal.aborted).toBe(true)
    expect((await peer.closed).reason).toBe('aborted')
  })

  it('a raw peer socket reset (resetAndDestroy) is a ConnectionResetError', async () => {
    const raw = net.createServer((s) => {
      s.once('data', () => { s.resetAndDestroy() })
    })
    await new Promise<void>(resolve => raw.listen(0, '127.0.0.1', resolve))
    cleanups.push(async () => { await new Promise(resolve => raw.close(resolve)) })
    const conn = await connect({ host: '127.0.0.1', port: (raw.address() as net.AddressInfo).port })
    const [w, r] = await Promise.all([settle(conn.sink(endless())), settle(readAll(conn))])
    expect(w.ok ? undefined : w.error.name).toBe('ConnectionResetError')
    expect(r.ok ? undefined : r.error.name).toBe('ConnectionResetError')
    expect((await conn.closed).reason).toBe('reset')
  })

  it('a socket destroyed underneath without an error still ends as a reset, never as a clean close', async () => {
    const { client, socket } = await pair()
    const reading = settle(readAll(client))
    socket.destroy()
    const r = await reading
    expect(r.ok ? undefined : r.error.name).toBe('ConnectionResetError')
    expect((await client.closed).reason).toBe('reset')
  })

  it('abort(err): source and sink fail with err, closed says aborted, signal carries err; peer sees a reset', async () => {
    const { client, peer } = await pair()
    const err = new Error('local teardown')
    const reading = settle(readAll(client))
    const writing = settle(client.sink(endless()))
    const peerReading = settle(readAll(peer))
    client.abort(err)
    client.abort(new Error('second abort is ignored'))
    const [r, w, p] = await Promise.all([reading, writing, peerReading])
    expect(r.ok ? undefined : r.error).toBe(err)
    expect(w.ok ? undefined : w.error).toBe(err)
    expect(p.ok ? undefined : p.error.name).toBe('ConnectionResetError')
    expect(await client.closed).toMatchObject({ reason: 'aborted', error: err, initiator: 'local' })
    expect(client.signal.reason).toBe(err)
    await client.close()
  })

  it('peer FIN ends our source while our sink keeps writing (half-close)', async () => {
    const { client, peer } = await pair()
    await peer.sink([Buffer.from('bye')])
    expect((await readAll(client)).toString()).toBe('bye')
    const [, got] = await Promise.all([client.sink([Buffer.from('still '), Buffer.from('talking')]), readAll(peer)])
    expect(got.toString()).toBe('still talking')
    expect((await client.closed).reason).toBe('closed')
    expect((await client.closed).initiator).toBe('remote')
  })

  it('breaking out of the source keeps the write side working', async () => {
    const { client, peer } = await pair()
    const peerWriting = peer.sink((async function * () {
      for (let i = 0; i < 100; i++) yield new Uint8Array(32 * 1024)
    })())
    for await (const piece of client.source) {
      expect(piece.byteLength).toBeGreaterThan(0)
      break
    }
    const [, got] = await Promise.all([client.sink([Buffer.from('after break')]), readAll(peer)])
    expect(got.toString()).toBe('after break')
    await peerWriting
    expect((await client.closed).reason).toBe('closed')
  })

  it('write after close and a second sink() are ConnectionClosedError', async () => {
    const { client, peer } = await pair()
    const peerDone = (async () => { await readAll(peer); await peer.close() })()
    const closing = client.close()
    const late = await settle(client.sink([Buffer.from('too late')]))
    expect(late.ok ? undefined : late.error.name).toBe('ConnectionClosedError')
    const again = await settle(client.sink([]))
    expect(again.ok ? undefined : again.error.name).toBe('ConnectionClosedError')
    await Promise.all([closing, client.close(), peerDone])
    expect((await client.closed).reason).toBe('closed')
  })

  it('close() waits for a running sink, then FIN; bounded by closeTimeout when the peer never finishes', async () => {
    const server = await listen({ host: '127.0.0.1', port: 0 })
    cleanups.push(async () => { await server.close({ deadline: 100 }) })
    const accepted = nextConnection(server)
    const client = await connect({ host: '127.0.0.1', port: portOf(server), closeTimeout: 150 })
    const peer = await accepted
    const received = readAll(peer)
    const writing = client.sink([Buffer.from('a'), Buffer.from('b')])
    const started = Date.now()
    await client.close()
    expect((await received).toString()).toBe('ab')
    await writing
    // The peer read our FIN but never finished its own side: the deadline destroyed the socket.
    const info = await client.closed
    expect(info.reason).toBe('close-timeout')
    expect(info.error?.name).toBe('ConnectionClosedError')
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('close({ signal }) aborts the connection with the signal reason and removes its listener', async () => {
    const { client } = await pair()
    const controller = new AbortController()
    const closing = settle(client.close({ signal: controller.signal }))
    const reason = new Error('stop waiting')
    controller.abort(reason)
    const r = await closing
    expect(r.ok ? undefined : r.error).toBe(reason)
    expect((await client.closed).reason).toBe('aborted')
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })

  it('close({ signal }) with a signal aborted already aborts the connection with its reason and rejects with it', async () => {
    const { client, peer } = await pair()
    const reason = new Error('stop at once')
    const r = await settle(client.close({ signal: AbortSignal.abort(reason) }))
    expect(r.ok ? undefined : r.error).toBe(reason)
    // bounded: without the abort the connection would stay open for good
    const info = await Promise.race([client.closed, new Promise<string>(resolve => setTimeout(() => { resolve('still open') }, 5_000))])
    expect(info).toMatchObject({ reason: 'aborted', error: reason, initiator: 'local' })
    expect(client.signal.aborted).toBe(true)
    expect((await peer.closed).reason).not.toBe('closed')
  })

  it('a carrier that throws from a write fails its own connection (reason error, the throw as cause), never the process', async () => {
    const boom = new Error('carrier broke')
    const { carrier, calls } = fakeCarrier(() => ({ write () { throw boom }, writev () { throw boom } }))
    const conn = fromCarrier(carrier)
    // written from the writers' shared tick: the throw must not escape it
    const r = await settle(conn.sink((async function * () { yield new Uint8Array([1]) })()))
    expect(r.ok ? undefined : r.error.name).toBe('ConnectionClosedError')
    expect(r.ok ? undefined : r.error.cause).toBe(boom)
    expect(await conn.closed).toMatchObject({ reason: 'error', initiator: 'local' })
    expect(calls).toEqual(['reset'])
  })

  it('a producer that throws aborts the connection with its error and rejects the sink with it', async () => {
    const { client, peer } = await pair()
    const boom = new Error('producer failed')
    const r = await settle(client.sink((async function * () {
      yield Buffer.from('partial')
      throw boom
    })()))
    expect(r.ok ? undefined : r.error).toBe(boom)
    expect(await client.closed).toMatchObject({ reason: 'aborted', error: boom })
    const p = await settle(readAll(peer))
    expect(p.ok ? undefined : p.error.name).toBe('ConnectionResetError')
  })
})

describe('write batching', () => {
  async function countingPair (): Promise<{ client: Connection, peer: Connection, writes: () => number }> {
    const server = await listen({ host: '127.0.0.1', port: 0 })
    cleanups.push(async () => { await server.close({ deadline: 200 }) })
    const accepted = nextConnection(server)
    let calls = 0
    const client = await connect({
      host: '127.0.0.1',
      port: portOf(server),
      createSocket: (o) => {
        const s = net.connect(o)
        const write = s.write.bind(s) as (...args: unknown[]) => boolean
        s.write = ((...args: unknown[]) => { calls++; return write(...args) }) as typeof s.write
        return s
      }
    })
    return { client, peer: await accepted, writes: () => calls }
  }

  it('10 000 small chunks from a synchronous source go out in a handful of writes', async () => {
    const { client, peer, writes } = await countingPair()
    const chunks = Array.from({ length: 10_000 }, (_, i) => new Uint8Array(16).fill(i & 0xff))
    const [, got] = await Promise.all([client.sink(chunks), readAll(peer)])
    expect(got.byteLength).toBe(160_000)
    expect(got[16 * 9_999]).toBe(9_999 & 0xff)
    expect(writes()).toBeLessThanOrEqual(5)
    expect(client.stats()).toMatchObject({ chunksOut: 10_000, bytesOut: 160_000 })
  })

  it('small chunks yielded by an async generator without waiting are batched too', async () => {
    const { client, peer, writes } = await countingPair()
    const [, got] = await Promise.all([client.sink((async function * () {
      for (let i = 0; i < 1_000; i++) yield new Uint8Array(8)
    })()), readAll(peer)])
    expect(got.byteLength).toBe(8_000)
    expect(writes()).toBeLessThanOrEqual(3)
  })

  it('a Uint8ArrayList (header + body) goes out as one write, never split', async () => {
    const { client, peer, writes } = await countingPair()
    const header = new Uint8Array([0, 0, 0, 3, 0x40])
    const message = new Uint8ArrayList(header, Buffer.from('abc'))
    const [, got] = await Promise.all([client.sink([message]), readAll(peer)])
    expect([...got]).toEqual([0, 0, 0, 3, 0x40, 97, 98, 99])
    expect(writes()).toBe(1)
    expect(client.stats().writes).toBe(1)
  })

  it('a large Uint8ArrayList is one corked writev batch (one kernel write, no copy of the body)', async () => {
    const { client, peer } = await countingPair()
    const body = new Uint8Array(256 * 1024).fill(9)
    const message = new Uint8ArrayList(new Uint8Array([1, 2, 3, 4, 5]), body)
    const [, got] = await Promise.all([client.sink([message]), readAll(peer)])
    expect(got.byteLength).toBe(5 + body.byteLength)
    expect(client.stats().writes).toBe(1)
  })

  it('fromSocket adopts a paused, connected socket without losing bytes already buffered', async () => {
    const server = net.createServer((s) => { s.end('early bytes') })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(async () => { await new Promise(resolve => server.close(resolve)) })
    const socket = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port })
    socket.pause()
    await new Promise(resolve => socket.once('connect', resolve))
    // Pull the peer's bytes into Node's buffer before handing the socket over.
    socket.read(0)
    await vi.waitFor(() => { expect(socket.readableLength).toBeGreaterThan(0) })
    const conn = fromSocket(socket)
    expect((await readAll(conn)).toString()).toBe('early bytes')
    // The socket is not half-open (Node's default): the peer's FIN was answered and the socket released.
    expect(await conn.closed).toMatchObject({ reason: 'closed', initiator: 'remote' })
  })
})
