import { getEventListeners } from 'node:events'
import net from 'node:net'
import { heapPerObject } from '@proto/stage-compliance'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Connection, DisconnectInfo, Server } from '../src/index.js'
import { fromSocket, listen, memoryPair } from '../src/index.js'
import { ReadQueue } from '../src/read-queue.js'
import { portOf, readAll } from './helpers.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  vi.unstubAllGlobals()
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** Counts the `AbortController`s made from now on. */
function countControllers (): () => number {
  let made = 0
  const Real = globalThis.AbortController
  vi.stubGlobal('AbortController', class extends Real {
    constructor () {
      super()
      made++
    }
  })
  return () => made
}

async function tcpServer (onConnection: (conn: Connection) => void): Promise<Server> {
  const server = await listen({ host: '127.0.0.1', port: 0 }, onConnection)
  cleanups.push(async () => { await server.close({ deadline: 200 }) })
  return server
}

describe('what an idle connection carries', () => {
  it('makes no AbortController until someone reads `signal`, and then one that is already aborted if the connection is gone', async () => {
    const made = countControllers()
    const [a, b] = memoryPair()
    await Promise.all([a.sink([new Uint8Array([1, 2, 3])]), b.sink([]), readAll(a), readAll(b)])
    const info = await a.closed
    expect(info.reason).toBe('closed')
    expect(made()).toBe(0)
    expect(a.signal.aborted).toBe(true)
    expect(a.signal.reason.name).toBe('ConnectionClosedError')
    expect(made()).toBe(1)
    // The same signal every time.
    expect(a.signal).toBe(a.signal)
    expect(made()).toBe(1)
  })

  it('a signal read while the connection lives aborts when it goes, with the disconnect error', async () => {
    const [a, b] = memoryPair()
    const signal = a.signal
    expect(signal.aborted).toBe(false)
    const err = new Error('stop')
    a.abort(err)
    await b.closed
    await a.closed
    expect(signal.aborted).toBe(true)
    expect(signal.reason).toBe(err)
  })

  it('`closed` read first after the connection is gone resolves with the same info as one read before', async () => {
    const [a, b] = memoryPair()
    const early = b.closed
    const gone = new Promise((resolve) => { a.signal.addEventListener('abort', resolve, { once: true }) })
    await Promise.all([a.sink([]), b.sink([]), readAll(a), readAll(b)])
    await gone
    const late = await a.closed
    expect((await early).reason).toBe('closed')
    expect(late.reason).toBe('closed')
    expect(late.initiator).toBe('local')
    expect(a.closed).toBe(a.closed)
  })

  it('the server reports the disconnect of a connection nobody asked `closed` of', async () => {
    const server = await tcpServer((conn) => { void conn.sink([]).catch(() => {}); void readAll(conn).catch(() => {}) })
    const disconnected = new Promise<DisconnectInfo>((resolve) => { server.addEventListener('disconnect', ({ detail }) => { resolve(detail.info) }) })
    const socket = net.connect({ host: '127.0.0.1', port: portOf(server) })
    socket.on('data', () => {})
    socket.once('connect', () => { socket.end() })
    expect((await disconnected).reason).toBe('closed')
    expect(server.connections.size).toBe(0)
  })

  it('every socket shares one listener function per event, and an idle one has no drain or finish listener of ours', async () => {
    const accepted: Connection[] = []
    const server = await tcpServer((conn) => { accepted.push(conn) })
    const sockets = [0, 1].map(() => net.connect({ host: '127.0.0.1', port: portOf(server) }))
    await Promise.all(sockets.map(async (s) => { await new Promise(resolve => s.once('connect', resolve)) }))
    const quiet = ['drain', 'finish'].map(event => getEventListeners(sockets[0] as net.Socket, event).length)
    const wrapped = sockets.map(s => fromSocket(s))
    cleanups.push(() => { for (const c of wrapped) c.abort(new Error('test over')) })
    for (const event of ['data', 'end', 'error', 'close']) {
      const [first, second] = sockets.map(s => getEventListeners(s, event))
      const shared = first?.filter(fn => second?.includes(fn)) ?? []
      expect(shared.length, event).toBeGreaterThanOrEqual(1)
    }
    expect(['drain', 'finish'].map(event => getEventListeners(sockets[0] as net.Socket, event).length)).toEqual(quiet)
    // Writing and ending still work: the sink resolves once FIN is handed over.
    await (wrapped[0] as Connection).sink([new Uint8Array(10)])
  })

  it('keeps one copy of the local address and Node\'s of the remote one, and both still read once the socket is gone', async () => {
    const accepted: Connection[] = []
    const server = await tcpServer((conn) => { accepted.push(conn) })
    const socket = net.connect({ host: '127.0.0.1', port: portOf(server) })
    await new Promise(resolve => socket.once('connect', resolve))
    const client = fromSocket(socket)
    await vi.waitFor(() => { expect(accepted).toHaveLength(1) })
    const served = accepted[0] as Connection
    const nodeCopy = (s: net.Socket): unknown => (s as net.Socket & { _sockname: unknown })._sockname
    // Node's copy of the local address is dropped once ours is taken (it reads it again if asked while open)
    expect(nodeCopy(socket)).toBeNull()
    expect(socket.localPort).toBeGreaterThan(0)
    const port = socket.localPort
    expect(nodeCopy(socket)).not.toBeNull()
    client.abort(new Error('test over'))
    await Promise.all([client.closed, served.closed])
    expect(socket.destroyed).toBe(true)
    expect(socket.localAddress).toBeUndefined() // what Node forgets at close
    expect(client.localAddress).toEqual({ family: 'IPv4', address: '127.0.0.1', port })
    expect(client.remoteAddress).toEqual({ family: 'IPv4', address: '127.0.0.1', port: portOf(server) })
    expect(served.remoteAddress).toEqual({ family: 'IPv4', address: '127.0.0.1', port })
    expect(served.localAddress).toEqual({ family: 'IPv4', address: '127.0.0.1', port: portOf(server) })
    // the same object every time
    expect(client.remoteAddress).toBe(client.remoteAddress)
  })

  it('the connections a listener accepts share one frozen local address; another listener\'s have their own', async () => {
    const accepted: Connection[] = []
    const servers = [await tcpServer((conn) => { accepted.push(conn) }), await tcpServer((conn) => { accepted.push(conn) })]
    const sockets: net.Socket[] = []
    try {
      for (const server of [servers[0], servers[0], servers[1]]) {
        const socket = net.connect({ host: '127.0.0.1', port: portOf(server) })
        sockets.push(socket)
        await new Promise(resolve => socket.once('connect', resolve))
        const n = sockets.length
        await vi.waitFor(() => { expect(accepted).toHaveLength(n) })
      }
      const [a, b, c] = accepted
      expect(a.localAddress).toBe(b.localAddress)
      expect(Object.isFrozen(a.localAddress)).toBe(true)
      expect(a.localAddress).toEqual({ family: 'IPv4', address: '127.0.0.1', port: portOf(servers[0]) })
      expect(c.localAddress).toEqual({ family: 'IPv4', address: '127.0.0.1', port: portOf(servers[1]) })
      expect(a.remoteAddress).not.toBe(b.remoteAddress)
    } finally {
      for (const s of sockets) s.destroy()
      for (const conn of accepted) conn.abort(new Error('test over'))
    }
  })

  it('a read queue holding no chunk keeps no array: one whose consumer keeps up never makes one', async () => {
    const flow = { pause () {}, resume () {} }
    const perQueue = heapPerObject(50_000, () => new ReadQueue(flow, 1024, 512))
    // 160 B here; an empty array of its own made it 192 B
    expect(perQueue).toBeLessThan(176)
    // chunks that queue are still handed out in order, one by one and as batches, and the end after them
    const q = new ReadQueue(flow, 1024, 512)
    q.push(Uint8Array.of(1))
    q.push(Uint8Array.of(2))
    expect((await q.next()).value).toEqual(Uint8Array.of(1))
    q.push(Uint8Array.of(3))
    expect((await q.nextBatch())?.map(c => c[0])).toEqual([2, 3])
    q.push(Uint8Array.of(4))
    q.end()
    expect((await q.nextBatch())?.map(c => c[0])).toEqual([4])
    expect(await q.nextBatch()).toBeUndefined()
  })
})
