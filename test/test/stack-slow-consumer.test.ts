import type { Frame } from '@proto/codec'
import { READ_HIGH_WATER_MARK } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { MESSAGE_TYPE, messageBody, StackClient, StackServer, Waiter } from '../src/stack/index.js'

/**
 * Guarantees checked: a slow reader is not a dead peer. The client application stops reading for more
 * than four heartbeat timeouts while the server keeps sending: no heartbeat timeout fires on either
 * side, no connection is lost or redialled, the client keeps pinging (control frames flow while data
 * does not), backpressure reaches the server's producer (it stops well before the end), the client
 * holds at most its `maxQueuedBytes` (+ one frame) in the heartbeat queue, and once reading resumes every
 * message arrives exactly once, in order, intact.
 */

const HEARTBEAT = { interval: 100, timeout: 400, hello: true }
const CLIENT_QUEUE_BYTES = 256 * 1024
const MESSAGE = 8 * 1024
const COUNT = 3_072 // 24 MiB in all
/** Bytes that may sit between the two applications: heartbeat and transport queues plus kernel socket buffers (~9 MiB measured on loopback). */
const IN_FLIGHT_BOUND = 16 * 1024 * 1024

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn()
  cleanup = []
})

describe('stack: slow consumer', () => {
  it('is not killed: no timeout while it does not read for 4+ timeouts, memory bounded, everything arrives afterwards', async () => {
    const progress = new Waiter()
    let produced = 0
    let sawPaused = false
    const ref: { client?: StackClient } = {}
    const server = await StackServer.start({
      heartbeat: HEARTBEAT,
      produce: async function * (): AsyncGenerator<Frame> {
        for (let seq = 0; seq < COUNT; seq++) {
          yield { type: MESSAGE_TYPE, body: messageBody(9, seq, MESSAGE) }
          produced = seq + 1
          if (ref.client?.link?.stats().paused === true) sawPaused = true
          progress.notify()
        }
      }
    })
    cleanup.push(async () => { await server.stop() })
    const c = ref.client = new StackClient({
      id: 9,
      port: server.port,
      count: 0,
      read: false,
      heartbeat: { ...HEARTBEAT, maxQueuedBytes: CLIENT_QUEUE_BYTES },
      // the server's FIN after its last message is its half-close, not an outage
      reconnect: { initialDelay: 20, maxDelay: 100, peerEnd: 'end' }
    })
    cleanup.push(async () => { c.durable.abort(new Error('test over')) })

    // the client's heartbeat queue fills and it stops reading from the socket
    // looked at as the server produces, and every 20 ms: once the client pauses, the server's writes stop
    // too, so its producer may not advance again to see it
    const looking = setInterval(() => { progress.notify() }, 20)
    try {
      await progress.until(() => sawPaused || c.link?.stats().paused === true, 'the client to pause reading')
    } finally {
      clearInterval(looking)
    }
    const link = c.link
    if (link === undefined) throw new Error('no connection')
    let pings = 0
    link.addEventListener('ping', () => { pings++; progress.notify() })
    const pausedAt = performance.now()
    const pauseFor = 4 * HEARTBEAT.timeout + HEARTBEAT.interval
    let maxQueued = 0
    await progress.until(() => {
      maxQueued = Math.max(maxQueued, link.stats().queuedBytes)
      return pings >= 10 && performance.now() - pausedAt >= pauseFor
    }, `${pauseFor} ms of pings while not reading`)
    const producedWhilePaused = produced
    const serverLink = [...server.connections.values()][0]?.link
    expect(link.stats().paused).toBe(true)
    expect(c.inbound.length).toBe(0)
    // backpressure reached the producer: what is in flight is bounded by queues and socket buffers
    expect(producedWhilePaused).toBeLessThan(COUNT)
    expect(producedWhilePaused * MESSAGE).toBeLessThanOrEqual(IN_FLIGHT_BOUND)
    expect(maxQueued).toBeLessThanOrEqual(CLIENT_QUEUE_BYTES + MESSAGE)
    expect(link.stats().queuedBytes).toBeGreaterThanOrEqual(CLIENT_QUEUE_BYTES - MESSAGE - READ_HIGH_WATER_MARK)
    // the server heard the client's pings all along, so it never suspected it (the last one may still be on its way)
    await progress.until(() => (serverLink?.stats().pingsReceived ?? 0) >= 10, 'the server to have read 10 pings', 5_000)

    void c.startReading()
    await c.changed.until(() => c.inbound.length === COUNT || c.readError !== undefined, 'every message to arrive', 30_000)
    expect(c.readError).toBeUndefined()
    expect(c.inbound).toEqual(Array.from({ length: COUNT }, (_, i) => i))
    expect(c.foreignInbound).toBe(0)
    await c.close()
    await server.stop()

    expect(c.timeouts).toBe(0)
    expect([...server.connections.values()].map(r => r.timeouts)).toEqual([0])
    expect(c.used.length).toBe(1)
    expect(c.durable.stats()).toMatchObject({ reconnects: 0, unconfirmed: 0, discardedInbound: 0 })
    expect([...server.connections.values()].map(r => [r.info?.reason, r.error])).toEqual([['closed', undefined]])
  })
})
