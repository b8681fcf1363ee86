import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { connect } from 'node:net'
import { resourceSnapshot, waitForResources } from '@proto/stage-compliance'
import { afterEach, describe, expect, it } from 'vitest'
import type { FaultAction, FaultEvent, FaultPlan, FaultProxy, FaultProxyInit } from '../src/index.js'
import { planSchedule, startFaultProxy } from '../src/index.js'
import { countingTimers, dial, ManualTime, outcome, readBytes, send, startEchoServer, until } from './helpers.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

describe('seeded fault plan', () => {
  const plan: FaultPlan = { cutEvery: [100, 300], blackHoleEvery: [200, 600], blackHoleFor: [50, 150], maxFaults: 12 }

  async function run (seed: number): Promise<Array<{ atMs: number, action: FaultAction }>> {
    const time = new ManualTime()
    const server = await startEchoServer()
    const faults: Array<{ atMs: number, action: FaultAction }> = []
    const proxy = await startFaultProxy({
      target: { host: '127.0.0.1', port: server.port },
      seed,
      faults: plan,
      clock: time,
      timers: time,
      onEvent: (e) => { if (e.type === 'fault') faults.push({ atMs: e.atMs, action: e.action }) }
    })
    for (let i = 0; i < 100 && faults.length < 12; i++) await time.advance(100)
    expect(proxy.stats().faults).toBe(12)
    await proxy.close()
    await server.close()
    return faults
  }

  it('runs exactly the schedule of its seed, at the scheduled times', async () => {
    const expected = planSchedule(plan, 2024)
    const first = await run(2024)
    expect(first.map(f => f.action)).toEqual(expected)
    expect(first.map(f => f.atMs)).toEqual(expected.map(a => a.atMs))
    expect(await run(2024)).toEqual(first)
    expect((await run(2025)).map(f => f.action)).not.toEqual(expected)
  })

  it('stopFaults() ends the plan: nothing more is scheduled', async () => {
    const time = new ManualTime()
    const server = await startEchoServer()
    cleanup.push(async () => { await server.close() })
    const faults: FaultAction[] = []
    const proxy = await startFaultProxy({
      target: { host: '127.0.0.1', port: server.port }, seed: 7, faults: plan, clock: time, timers: time,
      onEvent: (e) => { if (e.type === 'fault') faults.push(e.action) }
    })
    cleanup.push(async () => { await proxy.close() })
    for (let i = 0; i < 100 && faults.length < 3; i++) await time.advance(100)
    expect(faults).toEqual(planSchedule(plan, 7).slice(0, 3))
    proxy.stopFaults()
    proxy.stopFaults()
    for (let i = 0; i < 100; i++) await time.advance(100)
    expect(faults).toHaveLength(3)
  })

  it('cuts live connections in real time, in schedule order', async () => {
    const server = await startEchoServer()
    cleanup.push(async () => { await server.close() })
    const seed = 99
    const faults: FaultPlan = { cutEvery: [20, 40], cutMode: 'reset', maxFaults: 3 }
    const events: FaultEvent[] = []
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: server.port }, seed, faults, onEvent: (e) => { events.push(e) } })
    cleanup.push(async () => { await proxy.close() })
    const expected = planSchedule(faults, seed)
    const results: string[] = []
    // Keep one connection up; each cut resets it and the loop dials again (bounded).
    for (let i = 0; i < 20 && proxy.stats().faults < 3; i++) {
      const client = await dial(proxy.port)
      results.push(await outcome(client))
      client.destroy()
    }
    await until(() => proxy.stats().faults === 3, 'three faults')
    const ran = events.filter((e): e is Extract<FaultEvent, { type: 'fault' }> => e.type === 'fault')
    expect(ran.map(e => e.action)).toEqual(expected)
    ran.forEach((e, i) => { expect(e.atMs).toBeGreaterThanOrEqual((expected[i] as FaultAction).atMs) })
    expect(results.length).toBeGreaterThan(0)
    expect(results.every(r => r === 'ECONNRESET')).toBe(true)
  })
})

describe('options', () => {
  it.each<[string, Partial<FaultProxyInit>]>([
    ['a remote target host', { target: { host: '192.0.2.1', port: 80 } }],
    ['a hostname target', { target: { host: 'example.com', port: 80 } }],
    ['a wildcard listen host', { listen: { host: '0.0.0.0' } }],
    ['a bad port', { target: { host: '127.0.0.1', port: 70000 } }],
    ['a bad plan', { faults: { cutEvery: [5, 1] } }],
    ['a zero high-water mark', { highWaterMark: 0 }],
    ['a non-finite seed', { seed: Number.NaN }],
    ['a clock without now()', { clock: {} as never }],
    ['timers without setTimeout()', { timers: {} as never }]
  ])('rejects %s with InvalidParametersError', async (_, init) => {
    await expect(startFaultProxy({ target: { host: '127.0.0.1', port: 1 }, ...init }))
      .rejects.toMatchObject({ name: 'InvalidParametersError' })
  })

  it('accepts every loopback spelling of its target and of its listening address, and forwards', async () => {
    // one echo server per loopback address, all on the same port, so each spelling reaches one of them
    const v4 = await startEchoServer()
    cleanup.push(async () => { await v4.close() })
    const other = await startEchoServer({ host: '127.1.2.3', port: v4.port })
    cleanup.push(async () => { await other.close() })
    const v6 = await startEchoServer({ host: '::1', port: v4.port }).catch(() => undefined)
    if (v6 !== undefined) cleanup.push(async () => { await v6.close() })
    const spellings = ['127.0.0.1', '127.1.2.3', 'localhost', '::ffff:127.0.0.1', ...(v6 !== undefined ? ['::1', '[::1]'] : [])]
    for (const host of spellings) {
      const proxy = await startFaultProxy({ target: { host, port: v4.port } })
      const client = await dial(proxy.port)
      const bytes = randomBytes(16)
      await send(client, bytes)
      expect((await readBytes(client, 16)).data, host).toEqual(bytes)
      client.destroy()
      await proxy.close()
    }
    // an IPv6 listening address in brackets, as written in a URL
    if (v6 !== undefined) {
      const proxy = await startFaultProxy({ listen: { host: '[::1]' }, target: { host: '127.0.0.1', port: v4.port } })
      cleanup.push(async () => { await proxy.close() })
      expect(proxy.address.host).toBe('::1')
      const client = connect({ host: '::1', port: proxy.port })
      cleanup.push(async () => { client.destroy() })
      await send(client, Uint8Array.of(1, 2, 3))
      expect([...(await readBytes(client, 3)).data]).toEqual([1, 2, 3])
    }
  })

  it('rejects bad control values and reports the seed it used', async () => {
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: 1 } })
    cleanup.push(async () => { await proxy.close() })
    expect(Number.isInteger(proxy.seed)).toBe(true)
    for (const bad of [() => { proxy.setDelay(-1) }, () => { proxy.setThrottle(Number.NaN) },
      () => { proxy.setFragmentation({ min: 5, max: 2 }) }, () => { proxy.setCoalesce(Infinity) },
      () => { proxy.blackHole(-5) }, () => { proxy.cutAll({ mode: 'rst' as 'reset' }) }]) {
      expect(bad).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    }
    proxy.setFragmentation({ min: 1, max: 10 })
    expect(proxy.settings.fragment).toEqual({ min: 1, max: 10 })
  })
})

describe('close', () => {
  async function busyClient (port: number): Promise<Socket> {
    const client = await dial(port)
    client.on('error', () => {})
    const payload = randomBytes(1000)
    const echoed = readBytes(client, payload.byteLength)
    await send(client, payload)
    await echoed
    return client
  }

  it('with live connections, pending timers and a running plan releases everything', async () => {
    const server = await startEchoServer()
    cleanup.push(async () => { await server.close() })
    const before = resourceSnapshot()
    const timers = countingTimers()
    const proxy = await startFaultProxy({
      target: { host: '127.0.0.1', port: server.port },
      timers,
      faults: { cutEvery: [60_000, 60_000], blackHoleEvery: [60_000, 60_000], blackHoleFor: [1000, 1000] }
    })
    const clients = await Promise.all([busyClient(proxy.port), busyClient(proxy.port), busyClient(proxy.port)])
    // A delayed chunk in flight holds a pump timer; the plan holds one more.
    proxy.setDelay(60_000)
    await send(clients[0] as Socket, randomBytes(10))
    await until(() => proxy.stats().bufferedBytes === 10, 'the delayed chunk')
    const ends = clients.map(outcome)
    expect(proxy.stats().activeConnections).toBe(3)
    expect(timers.live).toBe(2)

    await proxy.close()
    expect(proxy.stats().activeConnections).toBe(0)
    expect(timers.live).toBe(0)
    expect(await Promise.all(ends)).toHaveLength(3)
    for (const c of clients) c.destroy()
    expect(await waitForResources(before)).toEqual([])
    await proxy.close() // idempotent
    // Controls after close do nothing.
    expect(proxy.cutAll()).toBe(0)
    proxy.blackHole(10)
    proxy.restore()
    proxy.setDelay(5)
    expect(proxy.settings.delayMs).toBe(60_000)
    expect(timers.live).toBe(0)
    expect(await waitForResources(before)).toEqual([])
  })

  it('cancels every injected timer', async () => {
    const time = new ManualTime()
    const server = await startEchoServer()
    cleanup.push(async () => { await server.close() })
    const proxy = await startFaultProxy({
      target: { host: '127.0.0.1', port: server.port },
      clock: time,
      timers: time,
      faults: { cutEvery: [5000, 6000], delayMs: 500 }
    })
    const client = await busyClientManual(proxy, time)
    proxy.blackHole(5000)
    proxy.cutAll({ mode: 'fin' })
    expect(time.timerCount).toBeGreaterThan(0)
    await proxy.close()
    client.destroy()
    expect(time.timerCount).toBe(0)
  })
})

async function busyClientManual (proxy: FaultProxy, time: ManualTime): Promise<Socket> {
  const client = await dial(proxy.port)
  client.on('error', () => {})
  const echoed = readBytes(client, 10)
  await send(client, randomBytes(10))
  await until(() => proxy.stats().bytesReadUp === 10, 'the proxy to read')
  await time.advance(500)
  await until(() => proxy.stats().bytesReadDown === 10, 'the echo to reach the proxy')
  await time.advance(500)
  await echoed
  return client
}
