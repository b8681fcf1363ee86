import net from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { DurableDuplex, ReconnectInit } from '../src/index.js'
import { reconnect } from '../src/index.js'
import { nextEvent, settle } from './helpers/events.js'
import { ledger } from './helpers/ledger.js'
import { dialTcp, seq } from './helpers/tcp.js'

let cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  vi.useRealTimers()
  for (const fn of cleanup.reverse()) await fn()
  cleanup = []
})

/** A plain `node:net` server that reads nothing and ends every connection 200 ms after accepting it. */
async function closingServer (): Promise<{ port: number, accepted: () => number }> {
  let accepted = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    accepted++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => { sockets.delete(socket) })
    setTimeout(() => { socket.end() }, 200).unref()
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  cleanup.push(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  })
  return { port: (server.address() as net.AddressInfo).port, accepted: () => accepted }
}

function client (port: number, init: ReconnectInit<Uint8Array> = {}): DurableDuplex<Uint8Array> {
  const d = reconnect<Uint8Array>(async ({ signal }) => await dialTcp(port, signal), { initialDelay: 5, maxDelay: 20, ...init })
  cleanup.push(() => { d.abort(new Error('test over')) })
  return d
}

const items = Array.from({ length: 10 }, (_, i) => seq(i))

describe('accounting hole 1: a peer\'s FIN after ours is not proof of delivery', () => {
  it('without retention, the items of a connection the peer closed after our FIN are counted as flushed', async () => {
    const srv = await closingServer()
    const d = client(srv.port)
    const reading = settle((async () => { for await (const _ of d.source) { /* nothing is sent */ } })())
    await d.sink(items)
    await nextEvent(d, 'closed')
    expect((await reading).ok).toBe(true)
    const s = d.stats()
    // before the fix: sent 10, delivered 0, unconfirmed 0, dropped 0, unsent 0, and nowhere else
    expect(ledger(s)).toMatchObject({ accepted: 10, sum: 10, flushed: 10, unconfirmed: 0, dropped: 0, unsent: 0 })
    expect(s.handed).toBe(10)
  })

  it('with retention, the exchange is complete only when everything is confirmed: the items go again, then count as unconfirmed', async () => {
    const srv = await closingServer()
    const d = client(srv.port, { retention: true, maxAttempts: 3 })
    const reading = settle((async () => { for await (const _ of d.source) { /* nothing is sent */ } })())
    const writing = settle(d.sink(items))
    const failed = await nextEvent(d, 'failed')
    expect(failed.error.name).toBe('ReconnectFailedError')
    // the sink resolved once everything was handed down; what became of it is counted below
    expect((await writing).ok).toBe(true)
    expect((await reading).ok).toBe(false)
    expect(srv.accepted()).toBe(3)
    const s = d.stats()
    expect(ledger(s)).toMatchObject({ accepted: 10, sum: 10, unconfirmed: 10, confirmed: 0, flushed: 0 })
    expect(s.replayed).toBe(20)
  })
})

describe('accounting hole 2: an item taken from the source while waiting for room', () => {
  /** 11 items into a buffer of 10 while the dial keeps failing: the 11th waits for room. */
  async function waitingLink (init: ReconnectInit<number>): Promise<{ d: DurableDuplex<number>, writing: Promise<{ ok: boolean }> }> {
    vi.useFakeTimers()
    const d = reconnect<number>(async () => { throw new Error('refused') }, { jitter: 'none', initialDelay: 1_000, buffer: { maxMessages: 10, overflow: 'wait' }, ...init })
    cleanup.push(() => { d.abort(new Error('test over')) })
    let pulled = 0
    const writing = settle(d.sink((function * () { for (let i = 0; i < 11; i++) { pulled++; yield i } })()))
    await vi.advanceTimersByTimeAsync(0)
    expect(pulled).toBe(11)
    expect(ledger(d.stats())).toMatchObject({ accepted: 11, sum: 11, buffered: 10, waiting: 1 })
    return { d, writing }
  }

  it('is counted unsent when the link fails', async () => {
    const { d, writing } = await waitingLink({ maxAttempts: 2 })
    await vi.advanceTimersByTimeAsync(2_000)
    expect(d.status).toBe('failed')
    expect((await writing).ok).toBe(false)
    // before the fix: handed + dropped + unsent = 10 of 11 taken
    expect(ledger(d.stats())).toMatchObject({ accepted: 11, sum: 11, unsent: 11, waiting: 0 })
  })

  it('is counted unsent when the link closes', async () => {
    const { d, writing } = await waitingLink({})
    await d.close()
    expect((await writing).ok).toBe(false)
    expect(ledger(d.stats())).toMatchObject({ accepted: 11, sum: 11, unsent: 11, waiting: 0 })
  })

  it('is counted where it goes when the policy decides on a loss (drop-newest)', async () => {
    vi.useFakeTimers()
    const d = reconnect<number>(async () => await new Promise(() => {}), { buffer: { maxMessages: 2, overflow: 'drop-newest' } })
    cleanup.push(() => { d.abort(new Error('test over')) })
    void d.sink([1, 2, 3, 4]).catch(() => {})
    await vi.advanceTimersByTimeAsync(0)
    expect(ledger(d.stats())).toMatchObject({ accepted: 4, sum: 4, buffered: 2, dropped: 2, waiting: 0 })
  })
})
