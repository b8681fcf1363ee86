import type net from 'node:net'
import { Worker } from 'node:worker_threads'
import { codec, encode, FrameType } from '@proto/codec'
import { startFaultProxy } from '@proto/fault-proxy'
import { cleanupsWithLeakCheck, countOver, resourceSnapshot } from '@proto/stage-compliance'
import { describe, expect, it } from 'vitest'
import type { HeartbeatDuplex, HeartbeatInit } from '../src/index.js'
import { heartbeat } from '../src/index.js'
import { on } from './helpers/events.js'
import { blackHoleProxy, closed, dial, listen, socketDuplex } from './helpers/net.js'
import { f, settle } from './helpers/raw-peer.js'

resourceSnapshot() // start tracking timers before Vitest's hooks create theirs

const INTERVAL = 100
const TIMEOUT = 400
const init: HeartbeatInit = { interval: INTERVAL, timeout: TIMEOUT }

/** Resolves on the `n`-th event of `type`. */
async function events (hb: HeartbeatDuplex, type: 'rtt' | 'ping', n: number): Promise<void> {
  let seen = 0
  await new Promise<void>((resolve) => {
    const off = on(hb, type, () => { if (++seen === n) { off(); resolve() } })
  })
}

async function drain (hb: HeartbeatDuplex): Promise<{ ok: boolean, error?: any, frames: number }> {
  let frames = 0
  const r = await settle((async () => { for await (const _ of hb.source) frames++ })())
  return { ...r, frames }
}

describe('heartbeat over real loopback sockets', () => {
  const cleanups = cleanupsWithLeakCheck(3000)

  it('detects a black-holed peer within the bounds and destroys the connection', async () => {
    const server = await listen()
    cleanups.push(async () => { await server.close() })
    const proxy = await blackHoleProxy(server.port)
    cleanups.push(async () => { await proxy.close() })
    const clientSocket = await dial(proxy.port)
    const client = heartbeat(codec(socketDuplex(clientSocket)), init)
    const serverSocket = await server.next()
    const srv = heartbeat(codec(socketDuplex(serverSocket)), init)
    const reads = [drain(client), drain(srv)]
    await Promise.all([events(client, 'rtt', 3), events(srv, 'rtt', 1)])

    const cut = performance.now()
    proxy.blackHole()
    const dead = await new Promise<Error & { lastReceivedAge: number }>(resolve => on(client, 'timeout', resolve as any))
    const elapsed = performance.now() - cut
    expect(dead.name).toBe('HeartbeatTimeoutError')
    expect(dead.lastReceivedAge).toBeGreaterThanOrEqual(TIMEOUT)
    // generous upper bounds: the machine may be busy; the exact timing is asserted under fake timers
    const SLACK = 1000
    expect(dead.lastReceivedAge).toBeLessThan(TIMEOUT + SLACK)
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT - INTERVAL - 5)
    expect(elapsed).toBeLessThan(TIMEOUT + SLACK)
    await closed(clientSocket)
    expect(clientSocket.destroyed).toBe(true)
    const [c, s] = await Promise.all(reads)
    expect(c.error?.name).toBe('HeartbeatTimeoutError')
    expect(s.error?.name).toBe('HeartbeatTimeoutError') // the server side judged it too
    expect((await settle(client.sink([f(FrameType.DATA)]))).error?.name).toBe('HeartbeatTimeoutError')
  })

  it('keeps a peer that sends data but never answers pings', async () => {
    const server = await listen()
    cleanups.push(async () => { await server.close() })
    const clientSocket = await dial(server.port)
    const client = heartbeat(codec(socketDuplex(clientSocket)), init)
    const peer = await server.next()
    peer.on('error', () => {})
    peer.resume() // reads and ignores our pings
    const timer = setInterval(() => {
      for (const chunk of encode([f(FrameType.DATA, 'tick')])) peer.write(chunk as Uint8Array)
    }, 30)
    cleanups.push(() => { clearInterval(timer) })
    const reading = drain(client)
    await new Promise(resolve => setTimeout(resolve, 5 * TIMEOUT))
    const stats = client.stats()
    expect(clientSocket.destroyed).toBe(false)
    expect(stats.pingsSent).toBeGreaterThanOrEqual(10)
    expect(stats.pongsReceived).toBe(0)
    expect(stats.missed).toBe(stats.pingsSent - 1)
    clearInterval(timer)
    peer.end()
    await client.close()
    const r = await reading
    expect(r.ok).toBe(true)
    expect(r.frames).toBeGreaterThan(20)
  })

  it('does not kill a consumer that pauses longer than the timeout while data streams in', async () => {
    const server = await listen()
    cleanups.push(async () => { await server.close() })
    const clientSocket = await dial(server.port)
    const client = heartbeat(codec(socketDuplex(clientSocket)), init)
    const srv = heartbeat(codec(socketDuplex(await server.next())), init)
    const total = 400
    const body = new Uint8Array(64 * 1024)
    const sending = srv.sink((function * () { for (let i = 0; i < total; i++) yield f(FrameType.DATA, body) })())
    void drain(srv)
    await new Promise(resolve => setTimeout(resolve, 5 * TIMEOUT)) // the consumer sleeps
    expect(client.stats().paused).toBe(true)
    expect(clientSocket.destroyed).toBe(false)
    const r = await drain(client)
    expect(r).toEqual({ ok: true, frames: total })
    await sending
    expect(srv.stats().pingsReceived).toBeGreaterThan(0) // the client's pings went through meanwhile
    await client.close()
    await srv.close()
  })

  for (const stallThreshold of [50, 1e9]) {
    it(`survives an event-loop block longer than the timeout while pongs sit in the socket (stall ${stallThreshold === 50 ? 'reported' : 'not even detected'})`, async () => {
      const server = await listen()
      cleanups.push(async () => { await server.close() })
      const worker = pongWorker(server.port, 60)
      cleanups.push(async () => { await worker.terminate() })
      const hb = heartbeat(codec(socketDuplex(await server.next())), { ...init, stallThreshold })
      const reading = drain(hb)
      const stalls: number[] = []
      on(hb, 'stall', ({ lag }) => stalls.push(lag))
      await events(hb, 'rtt', 3)
      await events(hb, 'ping', 1)
      // the pong to this ping arrives while the loop is blocked for 2.5 × timeout; the block runs in the check
      // phase, so when it ends Node runs the (now overdue) timers before it polls the socket: the stage reads
      // that input before it judges, whether or not it noticed the stall
      await new Promise<void>(resolve => setImmediate(() => {
        const until = performance.now() + 2.5 * TIMEOUT
        while (performance.now() < until) { /* busy */ }
        resolve()
      }))
      const after = await Promise.race([reading, events(hb, 'rtt', 3).then(() => 'alive' as const)])
      expect(after).toBe('alive')
      expect(hb.stats().maxEventLoopLag).toBeGreaterThan(TIMEOUT)
      expect(stalls.length > 0).toBe(stallThreshold === 50)
      hb.abort(new Error('test over'))
      expect((await reading).error?.message).toBe('test over')
    })
  }

  it('leaves nothing behind after close, abort or death', async () => {
    const server = await listen()
    cleanups.push(async () => { await server.close() })
    for (const end of ['close', 'abort', 'death'] as const) {
      const clientSocket = await dial(server.port)
      const client = heartbeat(codec(socketDuplex(clientSocket)), init)
      const serverSocket: net.Socket = await server.next()
      serverSocket.on('error', () => {})
      if (end === 'death') {
        // the server never reads nor answers: the client must judge it dead and destroy the socket
        const r = await drain(client)
        expect(r.error?.name).toBe('HeartbeatTimeoutError')
        await closed(clientSocket)
        serverSocket.destroy()
      } else {
        const srv = heartbeat(codec(socketDuplex(serverSocket)), init)
        const reads = [drain(client), drain(srv)]
        await events(client, 'rtt', 1)
        if (end === 'close') await Promise.all([client.close(), srv.close()])
        else client.abort(new Error('stop'))
        const [c] = await Promise.all(reads)
        expect(c.ok).toBe(end === 'close')
        await Promise.all([closed(clientSocket), closed(serverSocket)])
        expect(srv.listenerCount('rtt')).toBe(0)
      }
      await closed(serverSocket)
    }
  })

  it('a peer sending one large frame over a slow link is busy, not dead: its bytes arriving count as life', async () => {
    const server = await listen()
    cleanups.push(async () => { await server.close() })
    // about 2.7 s for 1 MiB: the receiver sees no whole frame for seven of its timeouts
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: server.port }, seed: 3, faults: { throttle: 384 * 1024 } })
    cleanups.push(async () => { await proxy.close() })
    const sender = heartbeat(codec(socketDuplex(await dial(proxy.port))), init)
    const receiver = heartbeat(codec(socketDuplex(await server.next())), init)
    cleanups.push(() => { sender.abort(new Error('test over')); receiver.abort(new Error('test over')) })
    const timeouts: Error[] = []
    on(receiver, 'timeout', (err) => { timeouts.push(err) })
    on(sender, 'timeout', (err) => { timeouts.push(err) })
    const body = new Uint8Array(1024 * 1024).map((_, i) => i % 251)
    void sender.sink((async function * () { yield { type: FrameType.DATA, body }; await new Promise(() => {}) })()).catch(() => {})
    const started = performance.now()
    const r = await receiver.source.next()
    expect(performance.now() - started).toBeGreaterThan(3 * TIMEOUT)
    expect(timeouts).toEqual([])
    expect(r.done).toBe(false)
    expect(r.value.body).toEqual(body)
  })

  it('with HELLO, two idle stages ping about once per interval between them, not once each (crossing pings settled)', async () => {
    const server = await listen()
    cleanups.push(async () => { await server.close() })
    const clientSocket = await dial(server.port)
    const both: HeartbeatInit = { interval: INTERVAL, timeout: 10 * INTERVAL, hello: true }
    const client = heartbeat(codec(socketDuplex(clientSocket)), both)
    const srv = heartbeat(codec(socketDuplex(await server.next())), both)
    cleanups.push(() => { client.abort(new Error('test over')); srv.abort(new Error('test over')) })
    const reads = [drain(client), drain(srv)]
    // in one process both wait on the same timer grid: their pings go out in one callback and cross
    const pings = (): number => client.stats().pingsSent + srv.stats().pingsSent
    const { count, elapsed } = await countOver(pings, 10 * INTERVAL, 20 * INTERVAL)
    // two timers that keep crossing send two pings per interval; settled, one (bounds generous: timers fire late on a busy machine)
    expect(count).toBeGreaterThanOrEqual(Math.floor(elapsed / INTERVAL / 2))
    expect(count).toBeLessThanOrEqual(Math.ceil(elapsed / INTERVAL * 1.3))
    expect(client.stats().pongsReceived + srv.stats().pongsReceived).toBeGreaterThanOrEqual(pings() - 2)
    await Promise.all([client.close(), srv.close()])
    const [c, s] = await Promise.all(reads)
    expect(c.ok && s.ok).toBe(true)
  })
})

/** A peer on its own event loop (a worker thread) that answers @proto PINGs with PONGs after `delay` ms, and sends nothing else. */
function pongWorker (port: number, delay: number): Worker {
  const code = `
    const net = require('node:net')
    const { workerData } = require('node:worker_threads')
    const sock = net.connect(workerData.port, '127.0.0.1')
    sock.setNoDelay(true)
    sock.on('error', () => {})
    let buf = Buffer.alloc(0)
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 5) {
        const len = buf.readUInt32BE(0)
        if (buf.length < 5 + len) break
        const type = buf[4]
        const pong = Buffer.alloc(5 + len)
        pong.writeUInt32BE(len, 0)
        pong[4] = 3
        buf.copy(pong, 5, 5, 5 + len)
        buf = buf.subarray(5 + len)
        if (type === 2) setTimeout(() => { if (!sock.destroyed) sock.write(pong) }, workerData.delay)
      }
    })
  `
  return new Worker(code, { eval: true, workerData: { port, delay } })
}
