import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Carrier, CarrierEvents, Connection } from '../src/index.js'
import { connect, fromCarrier, listen, memoryPair } from '../src/index.js'
import { manualTime, nextConnection, portOf, readAll } from './helpers.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** Every property name reachable on `value` through its prototype chain (up to Object.prototype). */
function reachable (value: object): string[] {
  const names = new Set<string>()
  for (let o: object | null = value; o != null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const n of Object.getOwnPropertyNames(o)) names.add(n)
    for (const s of Object.getOwnPropertySymbols(o)) names.add(String(s))
  }
  return [...names].sort()
}

const CONNECTION_API = ['abort', 'close', 'closed', 'constructor', 'id', 'localAddress', 'remoteAddress', 'signal', 'sink', 'sinkPush', 'source', 'stats', 'tls']

describe('what users can reach', () => {
  it('a connection exposes its interface and nothing else, on every kind of connection', async () => {
    const server = await listen({ host: '127.0.0.1', port: 0 })
    cleanups.push(async () => { await server.close({ deadline: 100 }) })
    const accepted = nextConnection(server)
    const client = await connect({ host: '127.0.0.1', port: portOf(server) })
    const serverSide = await accepted
    const [m] = memoryPair()
    expect(reachable(client)).toEqual(CONNECTION_API)
    expect(reachable(m)).toEqual(CONNECTION_API)
    expect(reachable(serverSide)).toEqual([...CONNECTION_API, 'goingAway', 'unwatchGoingAway', 'watchGoingAway'].sort())
    // no static back door either
    for (const c of [client, serverSide]) {
      for (let k: any = c.constructor; k != null && k !== Function.prototype; k = Object.getPrototypeOf(k)) {
        expect(Object.getOwnPropertyNames(k).sort()).toEqual(['length', 'name', 'prototype'])
      }
    }
    const anyConn = client as unknown as Record<string, unknown>
    for (const internal of ['terminate', 'settleSink', 'lastActivityAt', 'lastActivity', 'goAway', 'carrier', 'config', 'writer']) {
      expect(anyConn[internal], internal).toBeUndefined()
    }
    client.abort(new Error('done'))
  })

  it('a server exposes its EventTarget interface, not its internals', async () => {
    const server = await listen({ host: '127.0.0.1', port: 0 })
    cleanups.push(async () => { await server.close({ deadline: 100 }) })
    expect(server).toBeInstanceOf(EventTarget)
    const own = reachable(server).filter(n => !reachable(new EventTarget()).includes(n))
    expect(own.sort()).toEqual(['address', 'close', 'connections', 'hasListeners', 'listenerCount', 'safeDispatchEvent'].sort())
  })
})

/** A carrier that echoes what is written to it, as a WebSocket or QUIC adapter would deliver a peer's bytes. */
function echoCarrier (): Carrier & { ended: boolean } {
  let events: CarrierEvents | undefined
  let paused = false
  const held: Uint8Array[] = []
  let destroyed = false
  const carrier = {
    ended: false,
    get destroyed () { return destroyed },
    attach (e: CarrierEvents) { events = e },
    write (data: Uint8Array) {
      const copy = data.slice()
      setImmediate(() => { if (paused) held.push(copy); else events?.onCarrierData(copy) })
      return true
    },
    writev (data: Uint8Array[]) { for (const d of data) carrier.write(d); return true },
    end () {
      carrier.ended = true
      setImmediate(() => {
        events?.onCarrierFinish()
        events?.onCarrierEnd()
        destroyed = true
        events?.onCarrierClose()
      })
    },
    pause () { paused = true },
    resume () { paused = false; for (const d of held.splice(0)) events?.onCarrierData(d) },
    reset () { destroyed = true; setImmediate(() => { events?.onCarrierClose() }) },
    destroy () { destroyed = true; setImmediate(() => { events?.onCarrierClose() }) },
    localAddress: () => ({ family: 'memory' as const, name: 'echo-local' }),
    remoteAddress: () => ({ family: 'memory' as const, name: 'echo-remote' })
  }
  return carrier
}

describe('fromCarrier(): a carrier of your own', () => {
  it('gets the same connection: batched writes, reads, half-close, stats, typed end', async () => {
    const carrier = echoCarrier()
    const conn: Connection = fromCarrier(carrier)
    expect(conn.remoteAddress).toEqual({ family: 'memory', name: 'echo-remote' })
    const [, echoed] = await Promise.all([conn.sink([Buffer.from('over '), Buffer.from('a custom carrier')]), readAll(conn)])
    expect(echoed.toString()).toBe('over a custom carrier')
    expect(carrier.ended).toBe(true)
    const info = await conn.closed
    expect(info.reason).toBe('closed')
    expect(info.stats).toMatchObject({ bytesOut: 21, chunksOut: 2, writes: 1 })
  })

  it('rejects something that is not a carrier with InvalidParametersError', () => {
    expect(() => fromCarrier({} as unknown as Carrier)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })
})

describe('clock', () => {
  it('times come from the monotonic clock; stats report them as epoch milliseconds', async () => {
    const time = manualTime()
    const before = Date.now()
    const [a, b] = memoryPair({ clock: time.clock, timers: time.timers })
    const after = Date.now()
    const connectedAt = a.stats().connectedAt
    expect(connectedAt).toBeGreaterThanOrEqual(before)
    expect(connectedAt).toBeLessThanOrEqual(after)
    time.advance(1_500)
    // the wall clock jumping does not move anything
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3_600_000 })
    cleanups.push(() => { vi.useRealTimers() })
    await Promise.all([b.sink([new Uint8Array(3)]), readAll(a), a.sink([]), readAll(b)])
    const stats = a.stats()
    expect(stats.connectedAt).toBe(connectedAt)
    expect(stats.lastReadAt).toBe(connectedAt + 1_500)
  })
})
