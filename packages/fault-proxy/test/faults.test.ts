import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { connect } from 'node:net'
import { InvalidParametersError as SharedInvalidParametersError } from '@proto/interface'
import { afterEach, describe, expect, it } from 'vitest'
import type { FaultEvent, FaultProxy, FaultProxyInit } from '../src/index.js'
import { InvalidParametersError, startFaultProxy } from '../src/index.js'
import type { TestServer } from './helpers.js'
import { dial, ManualTime, outcome, readBytes, send, startEchoServer, startServer, until } from './helpers.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

interface Rig { server: TestServer, proxy: FaultProxy, events: FaultEvent[], client: Socket, upstream: Socket }

/** An echo server behind a proxy, with one client connected through it and its server-side socket. */
async function rig (init: Partial<FaultProxyInit> = {}): Promise<Rig> {
  const server = await startEchoServer()
  cleanup.push(async () => { await server.close() })
  const events: FaultEvent[] = []
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: server.port }, seed: 1, ...init, onEvent: (e) => { events.push(e) } })
  cleanup.push(async () => { await proxy.close() })
  const client = await dial(proxy.port)
  client.on('error', () => {})
  cleanup.push(async () => { client.destroy() })
  const upstream = await server.accepted()
  return { server, proxy, events, client, upstream }
}

async function roundTrip (client: Socket, size = 1000): Promise<void> {
  const payload = randomBytes(size)
  const echoed = readBytes(client, size)
  await send(client, payload)
  expect((await echoed).data.equals(payload)).toBe(true)
}

describe('cuts', () => {
  it('a FIN cut ends both sides cleanly', async () => {
    const { proxy, events, client, upstream } = await rig()
    await roundTrip(client)
    const clientSaw = outcome(client)
    const serverSaw = outcome(upstream)
    expect(proxy.cutAll({ mode: 'fin' })).toBe(1)
    expect(await clientSaw).toBe('end')
    expect(await serverSaw).toBe('end')
    await until(() => proxy.stats().activeConnections === 0, 'the link to close')
    expect(events.find(e => e.type === 'connection-close')).toMatchObject({ reason: 'cut-fin' })
    expect(proxy.stats()).toMatchObject({ cuts: 1, connectionsCut: 1 })
  })

  it('a reset cut after a half-close still closes both sockets of the link', async () => {
    const server = await startEchoServer()
    cleanup.push(async () => { await server.close() })
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: server.port }, seed: 1 })
    cleanup.push(async () => { await proxy.close() })
    // a client that keeps its own side open after the peer's FIN
    const client = connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true })
    client.on('error', () => {})
    cleanup.push(async () => { client.destroy() })
    await new Promise(resolve => client.once('connect', resolve))
    const upstream = await server.accepted()
    const clientSaw = outcome(client)
    upstream.end() // the server half-closes; the proxy forwards the FIN, ending its own client socket
    expect(await clientSaw).toBe('end')
    expect(proxy.cutAll({ mode: 'reset' })).toBe(1)
    await until(() => proxy.stats().activeConnections === 0, 'the link to close')
  })

  it('a reset cut gives ECONNRESET on both sides', async () => {
    const { proxy, events, client, upstream } = await rig()
    await roundTrip(client)
    const clientSaw = outcome(client)
    const serverSaw = outcome(upstream)
    proxy.cutAll({ mode: 'reset' })
    expect(await clientSaw).toBe('ECONNRESET')
    expect(await serverSaw).toBe('ECONNRESET')
    await until(() => proxy.stats().activeConnections === 0, 'the link to close')
    expect(events.find(e => e.type === 'connection-close')).toMatchObject({ reason: 'cut-reset' })
  })

  it('a peer reset is passed on as a reset', async () => {
    const { proxy, events, client, upstream } = await rig()
    await roundTrip(client)
    const serverSaw = outcome(upstream)
    client.resetAndDestroy()
    expect(await serverSaw).toBe('ECONNRESET')
    await until(() => proxy.stats().activeConnections === 0, 'the link to close')
    expect(events.find(e => e.type === 'connection-close')).toMatchObject({ reason: 'reset' })
  })
})

describe('black hole', () => {
  it('keeps sockets open and delivers nothing until restore, then delivers everything in order', async () => {
    const { proxy, events, client, upstream } = await rig()
    await roundTrip(client)
    let serverGot = 0
    upstream.on('data', (c: Buffer) => { serverGot += c.byteLength })
    const before = proxy.stats()
    proxy.blackHole()
    expect(proxy.blackHoled).toBe(true)
    const payload = randomBytes(50_000)
    const echoed = readBytes(client, payload.byteLength)
    await send(client, payload)
    await until(() => proxy.stats().bytesReadUp === before.bytesReadUp + payload.byteLength, 'the proxy to read the bytes')
    // Read and held, none written on; both sockets still open.
    expect(proxy.stats().bytesUp).toBe(before.bytesUp)
    expect(proxy.stats().bufferedBytes).toBe(payload.byteLength)
    expect(serverGot).toBe(0)
    expect(client.destroyed || upstream.destroyed || client.readableEnded).toBe(false)
    proxy.restore()
    expect((await echoed).data.equals(payload)).toBe(true)
    expect(serverGot).toBe(payload.byteLength)
    expect(events.map(e => e.type)).toEqual(expect.arrayContaining(['black-hole', 'restore']))
    expect(proxy.stats().blackHoles).toBe(1)
  })

  it('holds a peer FIN until restore', async () => {
    const { proxy, client, upstream } = await rig()
    await roundTrip(client)
    let serverEnded = false
    upstream.on('end', () => { serverEnded = true })
    proxy.blackHole()
    const before = proxy.stats().bytesReadUp
    client.end('last words')
    await until(() => proxy.stats().bytesReadUp === before + 10, 'the proxy to read the last bytes')
    expect(serverEnded).toBe(false)
    const serverSaw = outcome(upstream)
    proxy.restore()
    expect(await serverSaw).toBe('end')
  })

  it('discards beyond its hold and resets the connection on restore', async () => {
    const { proxy, events, client } = await rig({ blackHoleHoldBytes: 4096 })
    await roundTrip(client)
    proxy.blackHole()
    await send(client, randomBytes(100_000))
    await until(() => proxy.stats().discardedBytes > 0 && proxy.stats().bytesReadUp >= 101_000, 'the hold to overflow')
    expect(proxy.stats().bufferedBytes).toBeLessThanOrEqual(4096)
    const clientSaw = outcome(client)
    proxy.restore()
    expect(await clientSaw).toBe('ECONNRESET')
    await until(() => proxy.stats().activeConnections === 0, 'the link to close')
    expect(events.find(e => e.type === 'connection-close')).toMatchObject({ reason: 'black-hole-overflow' })
  })

  it('restores by itself after the given time (injected clock)', async () => {
    const time = new ManualTime()
    const { proxy, client } = await rig({ clock: time, timers: time })
    proxy.blackHole(1000)
    await time.advance(999)
    expect(proxy.blackHoled).toBe(true)
    await time.advance(1)
    expect(proxy.blackHoled).toBe(false)
    await roundTrip(client)
  })

  it('restores by itself after the given time (real time, lower bound only)', async () => {
    const { proxy, client } = await rig()
    const started = performance.now()
    proxy.blackHole(100)
    await roundTrip(client)
    expect(performance.now() - started).toBeGreaterThanOrEqual(95)
    expect(proxy.blackHoled).toBe(false)
  })
})

describe('link conditions', () => {
  it('delay holds each chunk for the set time (injected clock)', async () => {
    const time = new ManualTime()
    const { proxy, client } = await rig({ clock: time, timers: time, faults: { delayMs: 200 } })
    const echoed = readBytes(client, 100)
    await send(client, randomBytes(100))
    await until(() => proxy.stats().bytesReadUp === 100, 'the proxy to read')
    await time.advance(199)
    expect(proxy.stats().bytesUp).toBe(0)
    await time.advance(1)
    await until(() => proxy.stats().bytesReadDown === 100, 'the echo to reach the proxy')
    expect(proxy.stats().bytesDown).toBe(0)
    await time.advance(200)
    expect((await echoed).data.byteLength).toBe(100)
  })

  it('delay adds latency (real time, lower bound only)', async () => {
    const { proxy, client } = await rig()
    proxy.setDelay(50)
    const started = performance.now()
    await roundTrip(client)
    expect(performance.now() - started).toBeGreaterThanOrEqual(95)
  })

  it('coalescing gathers many reads into one write (injected clock)', async () => {
    const time = new ManualTime()
    const { proxy, client, upstream } = await rig({ clock: time, timers: time, faults: { coalesceMs: 100 } })
    let serverReads = 0
    upstream.on('data', () => { serverReads++ })
    const echoed = readBytes(client, 300 * 64)
    for (let i = 0; i < 300; i++) {
      await send(client, randomBytes(64))
      await new Promise(resolve => setImmediate(resolve))
    }
    await until(() => proxy.stats().bytesReadUp === 300 * 64, 'the proxy to read')
    expect(proxy.stats().readsUp).toBeGreaterThan(10)
    await time.advance(100)
    await until(() => proxy.stats().bytesReadDown === 300 * 64, 'the echo to reach the proxy')
    expect(proxy.stats().writesUp).toBe(1)
    expect(serverReads).toBeLessThan(proxy.stats().readsUp)
    await time.advance(100)
    expect((await echoed).events).toBeLessThanOrEqual(2)
  })

  it('coalescing lowers the number of writes (real time)', async () => {
    const { proxy, client } = await rig({ faults: { coalesceMs: 30 } })
    const echoed = readBytes(client, 200 * 64)
    for (let i = 0; i < 200; i++) {
      await send(client, randomBytes(64))
      await new Promise(resolve => setImmediate(resolve))
    }
    const { events } = await echoed
    const s = proxy.stats()
    expect(s.writesUp).toBeLessThan(s.readsUp)
    expect(events).toBeLessThan(200)
  })

  it('throttle never exceeds burst + rate × time (injected clock)', async () => {
    const time = new ManualTime()
    const rate = 10_000
    const { proxy, client } = await rig({ clock: time, timers: time, faults: { throttle: rate } })
    const total = 20_000
    const echoed = readBytes(client, total)
    await send(client, randomBytes(total))
    await until(() => proxy.stats().bytesReadUp === total, 'the proxy to read')
    const burst = rate / 20
    for (let t = 0; t < 2500 && proxy.stats().bytesUp < total; t += 50) {
      expect(proxy.stats().bytesUp).toBeLessThanOrEqual(burst + rate * time.now() / 1000)
      await time.advance(50)
    }
    expect(proxy.stats().bytesUp).toBe(total)
    expect(time.now()).toBeGreaterThanOrEqual((total - burst) / rate * 1000)
    // The echo is throttled the same way on its way back.
    for (let t = 0; t < 2500 && proxy.stats().bytesDown < total; t += 50) await time.advance(50)
    expect((await echoed).data.byteLength).toBe(total)
  })

  it('throttle limits the rate (real time, lower bound only)', async () => {
    const { proxy, client } = await rig()
    proxy.setThrottle(100_000)
    const started = performance.now()
    await roundTrip(client, 30_000)
    // The echo flows back while the rest still goes up, so the bound is one direction's:
    // at least (30000 - burst 5000) / 100000 s.
    expect(performance.now() - started).toBeGreaterThanOrEqual(250 * 0.95)
  })

  it('a throttle of a few bytes a day waits without spinning (its wait is longer than a Node timer can be)', async () => {
    let armed = 0
    const timers = { setTimeout (fn: () => void, ms: number) { armed++; const t = setTimeout(fn, ms); t.unref(); return { cancel: () => { clearTimeout(t) } } } }
    const { proxy, client } = await rig({ timers })
    proxy.setThrottle(1e-7)
    await send(client, randomBytes(2_000)) // past the burst: the rest waits for ~10^10 s
    await new Promise(resolve => setTimeout(resolve, 100))
    const before = armed
    await new Promise(resolve => setTimeout(resolve, 300))
    // Node fires a delay above 2^31 - 1 ms after 1 ms: hundreds of wake-ups in 300 ms without the cap
    expect(armed - before).toBeLessThanOrEqual(2)
    expect(proxy.stats().bytesUp).toBeLessThan(2_000)
  })

  it('refuse resets new connections and leaves the live one alone', async () => {
    const { proxy, events, client, server } = await rig()
    proxy.refuse(true)
    // Accepted and reset at once: the reset may even beat the client's connect callback.
    const refused = connect({ host: '127.0.0.1', port: proxy.port })
    expect(await outcome(refused)).toBe('ECONNRESET')
    expect(proxy.stats().refused).toBe(1)
    expect(events.some(e => e.type === 'refused')).toBe(true)
    await roundTrip(client)
    proxy.refuse(false)
    const next = await dial(proxy.port)
    cleanup.push(async () => { next.destroy() })
    await roundTrip(next)
    expect(server.sockets.size).toBe(2)
  })

  it('resets the client when the target is unreachable', async () => {
    const gone = await startServer()
    const port = gone.port
    await gone.close()
    const events: FaultEvent[] = []
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port }, onEvent: (e) => { events.push(e) } })
    cleanup.push(async () => { await proxy.close() })
    const client = await dial(proxy.port)
    expect(await outcome(client)).toBe('ECONNRESET')
    await until(() => proxy.stats().activeConnections === 0, 'the link to close')
    expect(events.find(e => e.type === 'connection-close')).toMatchObject({ reason: 'target-unreachable' })
  })
})

/**
 * A rig on an injected clock, throttled to `rate` B/s, whose client has sent `bytes` the proxy has read (one
 * chunk, now being written out slowly); `got()` counts what reached the target.
 */
async function throttledChunk (rate: number, bytes: number): Promise<Rig & { time: ManualTime, got(): number }> {
  const time = new ManualTime()
  const r = await rig({ clock: time, timers: time, faults: { throttle: rate } })
  let got = 0
  r.upstream.on('data', (chunk: Buffer) => { got += chunk.byteLength })
  await send(r.client, randomBytes(bytes))
  await until(() => r.proxy.stats().bytesReadUp === bytes, 'the proxy to read the chunk')
  return { ...r, time, got: () => got }
}

describe('controls that change while a chunk is being written (injected clock)', () => {
  it('setThrottle(0) while a throttled chunk is being written lets the rest through at once', async () => {
    const { proxy, time, got } = await throttledChunk(1000, 20_000)
    await time.advance(300)
    expect(got()).toBeLessThan(2_000)
    proxy.setThrottle(0)
    // no more time passes on the proxy's clock: everything must go now
    await until(() => got() === 20_000, 'the rest of the chunk, unthrottled')
  })

  it('a black hole begun while a throttled piece waits for its turn holds that piece too; restore() sends it', async () => {
    const { proxy, time, got } = await throttledChunk(20, 100)
    await time.advance(1_000)
    const before = got()
    expect(before).toBeLessThan(100)
    proxy.blackHole()
    await time.advance(10_000)
    expect(got()).toBe(before)
    proxy.setThrottle(0)
    proxy.restore()
    await until(() => got() === 100, 'the held bytes after restore()')
  })

  it('bufferedBytes counts the part of a chunk still being written', async () => {
    const { proxy, time } = await throttledChunk(1000, 5_000)
    await time.advance(1_000)
    const { bytesUp, bufferedBytes } = proxy.stats()
    expect(bytesUp).toBeLessThan(2_000)
    // what was read and not yet handed to the target's socket is held here (the echo's bytes come on top)
    expect(bufferedBytes).toBeGreaterThanOrEqual(5_000 - bytesUp)
  })
})

describe('counts and options', () => {
  it('a connection still lingering from a FIN cut is not cut, nor counted, again', async () => {
    const { proxy, events } = await rig()
    expect(proxy.cutAll({ mode: 'fin' })).toBe(1)
    expect(proxy.cutAll({ mode: 'fin' })).toBe(0)
    expect(events.filter(e => e.type === 'cut').map(e => e.type === 'cut' ? e.connections : undefined)).toEqual([1, 0])
    expect(proxy.stats()).toMatchObject({ cuts: 2, connectionsCut: 1 })
  })

  it('bad listeners and control options are refused with the InvalidParametersError the package exports, which is @proto/interface\'s', async () => {
    const { proxy } = await rig()
    expect(() => proxy.onEvent(5 as never)).toThrow(InvalidParametersError)
    expect(() => proxy.cutAll(null as never)).toThrow(InvalidParametersError)
    for (const bad of [1, 'yes', null, undefined]) expect(() => { proxy.refuse(bad as never) }, String(bad)).toThrow(InvalidParametersError)
    expect(proxy.settings.refusing).toBe(false)
    expect(InvalidParametersError).toBe(SharedInvalidParametersError)
    for (const init of [{ onEvent: 5 }, { clock: {} }, { timers: {} }]) {
      await expect(startFaultProxy({ target: { host: '127.0.0.1', port: 9 }, ...init } as never), JSON.stringify(init)).rejects.toBeInstanceOf(InvalidParametersError)
    }
  })
})
