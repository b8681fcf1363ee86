import { afterEach, describe, expect, it } from 'vitest'
import { checkLedger, StackClient, StackServer } from '../src/stack/index.js'

/**
 * Guarantee checked (@proto/reconnect README, "Delivery guarantee"): across server restarts the client
 * carries on through one durable sink; delivery is at-most-once and in order — no duplicates, each
 * server connection's seqs increase and connections do not interleave, global arrival order is kept
 * (old connections are gone before new ones start), every item handed to a connection that was not
 * lost arrives, and every loss is a suffix of a lost connection's items, so `lost ≤ unconfirmed`.
 */

const HEARTBEAT = { interval: 200, timeout: 1_000, hello: true }

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn()
  cleanup = []
})

describe('stack: server restarts mid-stream', () => {
  it('the client carries on after two restarts (graceful, then a crash): order kept, no duplicates, losses ≤ unconfirmed', async () => {
    const COUNT = 3_000
    const restarts: Array<Promise<void>> = []
    const server = await StackServer.start({
      heartbeat: HEARTBEAT,
      echo: true,
      onMessage: ({ seq }) => {
        // restart while the client still has items in flight: at 1 000 a graceful close (its deadline is
        // generous so a loaded machine does not turn it into an abort; a graceful close ends long before), at
        // 2 000 a crash (every connection aborted at once, unread frames discarded)
        if (seq === 1_000 && restarts.length === 0) restarts.push(server.restart(5_000))
        if (seq === 2_000 && restarts.length === 1) restarts.push(server.crash())
      }
    })
    cleanup.push(async () => { await server.stop() })
    // the producer runs ahead of the server by up to 500 items, then waits for the restart to be done
    const client = new StackClient({
      id: 1,
      port: server.port,
      count: COUNT,
      size: seq => 16 + (seq % 200),
      heartbeat: HEARTBEAT,
      reconnect: { initialDelay: 20, maxDelay: 200 },
      before: seq => seq === 1_500 ? server.changed.until(() => restarts.length >= 1, 'restart 1').then(async () => { await restarts[0] }) : seq === 2_500 ? server.changed.until(() => restarts.length >= 2, 'restart 2').then(async () => { await restarts[1] }) : undefined
    })
    cleanup.push(async () => { client.durable.abort(new Error('test over')) })

    await client.send()
    await client.close()
    await Promise.all(restarts)
    await server.stop()

    const report = checkLedger({ ...client.ledger(), arrivals: server.received(1) })
    expect(report.violations).toEqual([])
    expect(report.handed).toBe(COUNT)
    expect(report.arrivalInversions).toBe(0)
    expect(report.delivered + report.lost).toBe(COUNT)
    expect(report.lost).toBeLessThanOrEqual(report.unconfirmed)
    const stats = client.durable.stats()
    expect(stats.reconnects).toBeGreaterThanOrEqual(2)
    expect(stats).toMatchObject({ unsent: 0, dropped: 0 })
    expect(client.readError).toBeUndefined()
    expect(client.timeouts).toBe(0)
    // the restarts ended the old connections; everything after the last restart arrived
    expect([...server.connections.values()].map(r => [r.info?.reason, r.info?.error?.name])).toEqual([
      ['closed', undefined], // the graceful close: GOAWAY SHUTTING_DOWN and FIN, the client finished its side too, before the deadline
      ['aborted', 'Error'], // the crash
      ['closed', undefined] // the last connection, closed cleanly by the client
    ])
    expect(server.received(1).filter(a => a.seq >= 2_500).length).toBe(COUNT - 2_500)
  })
})
