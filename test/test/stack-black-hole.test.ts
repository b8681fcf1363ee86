import type { FaultProxy } from '@proto/fault-proxy'
import { startFaultProxy } from '@proto/fault-proxy'
import { afterEach, describe, expect, it } from 'vitest'
import { checkLedger, StackClient, StackServer } from '../src/stack/index.js'

/**
 * Guarantees checked: a black-holed link (sockets open, nothing gets through, no FIN or RST) is detected
 * by the client's heartbeat (`HeartbeatTimeoutError`), and the server's heartbeat drops its dead end of
 * it (disconnect reason `aborted`, `HeartbeatTimeoutError`); the client redials and carries on with
 * reconnect's at-most-once, in-order delivery: no duplicates, global arrival order kept (the server
 * dropped the dead connection before the link came back, so none of its held bytes can arrive late),
 * every item of a connection that was not lost arrives, losses are a suffix of the lost connection's
 * items and `lost ≤ unconfirmed`.
 */

const HEARTBEAT = { interval: 100, timeout: 600, hello: true }

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn()
  cleanup = []
})

describe('stack: black-holed peer', () => {
  it('is detected by heartbeat on both sides; the client redials and continues without duplicates or reordering', async () => {
    const COUNT = 1_500
    const ref: { proxy?: FaultProxy } = {}
    let victim: string | undefined
    const server = await StackServer.start({
      heartbeat: HEARTBEAT,
      onMessage: ({ seq, conn }) => {
        if (seq === 300 && victim === undefined) {
          victim = conn
          ref.proxy?.blackHole()
        }
      }
    })
    cleanup.push(async () => { await server.stop() })
    const proxy = ref.proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: server.port }, seed: 1 })
    cleanup.push(async () => { await proxy.close() })

    let restore!: () => void
    const restored = new Promise<void>((resolve) => { restore = resolve })
    const client = new StackClient({
      id: 7,
      port: proxy.port,
      count: COUNT,
      heartbeat: HEARTBEAT,
      reconnect: { initialDelay: 20, maxDelay: 100 },
      // items from 1 000 on wait for the link to come back, so the stream continues after it
      before: seq => seq === 1_000 ? restored : undefined
    })
    cleanup.push(async () => { client.durable.abort(new Error('test over')) })
    const sending = client.send()

    await client.changed.until(() => client.timeouts >= 1, 'the client heartbeat to time out')
    await server.changed.until(() => victim !== undefined && server.connections.get(victim)?.info !== undefined, 'the server to drop the black-holed connection')
    expect(proxy.blackHoled).toBe(true)
    proxy.restore()
    restore()
    await sending
    await client.close()
    await proxy.close()
    await server.stop()

    const first = client.used[0]
    expect(first.lostWith).toBe('HeartbeatTimeoutError')
    expect(first.timeouts).toBe(1)
    const dead = server.connections.get(victim ?? '')
    expect(dead?.info?.reason).toBe('aborted')
    expect(dead?.info?.error?.name).toBe('HeartbeatTimeoutError')
    expect(dead?.timeouts).toBe(1)
    expect(dead?.error?.name).toBe('HeartbeatTimeoutError')

    const report = checkLedger({ ...client.ledger(), arrivals: server.received(7) })
    expect(report.violations).toEqual([])
    expect(report.arrivalInversions).toBe(0)
    expect(report.handed).toBe(COUNT)
    expect(report.lost).toBeLessThanOrEqual(report.unconfirmed)
    expect(client.durable.stats().reconnects).toBeGreaterThanOrEqual(1)
    expect(server.received(7).filter(a => a.seq >= 1_000).length).toBe(COUNT - 1_000)
    expect(proxy.stats().blackHoles).toBe(1)
  })
})
