import type { FaultPlan, FaultProxy } from '@proto/fault-proxy'
import { planSchedule, seededRandom, startFaultProxy } from '@proto/fault-proxy'
import { resourceSnapshot, waitForResources } from '@proto/stage-compliance'
import { afterEach, describe, expect, it } from 'vitest'
import { checkLedger, StackClient, StackServer } from '../src/stack/index.js'

/**
 * Guarantees checked, per client, for 100 concurrent full-stack clients behind seeded fault proxies
 * (random FIN/RST cuts, black holes shorter and longer than the heartbeat timeout, 1–1460-byte
 * fragmentation), each streaming a bounded number of messages that the server echoes:
 * - reconnect's delivery guarantee, exactly: no duplicates; in order within each server connection, and
 *   the seq ranges of a client's connections never interleave; every item handed to a connection that
 *   was not lost arrives, except a suffix of the last connection's within what `stats.flushed` counts (it
 *   ended cleanly both ways, FIN after FIN, yet a FIN cut dropped what the proxy held: a peer's FIN is not a
 *   receipt); a lost connection delivered a prefix of its items; `stats.unconfirmed` equals what lost
 *   connections were handed, so `lost ≤ unconfirmed + flushed`; nothing unsent, nothing dropped;
 * - echoes come back in order, without duplicates, and only for messages the server received;
 * - everything closes cleanly: no socket or timer (unref'ed included) outlives the test.
 * Arrival order across two connections of one client is not guaranteed (bytes held in a black hole
 * may reach the server after the redialled connection's), and is not asserted.
 */

const CLIENTS = 100
const PROXIES = 4
const COUNT = 120
const HEARTBEAT = { interval: 150, timeout: 700, hello: true }
const PLAN: FaultPlan = {
  cutEvery: [400, 1_200],
  cutMode: 'mixed',
  blackHoleEvery: [600, 1_800],
  blackHoleFor: [150, 1_200],
  fragment: { min: 1, max: 1_460 },
  durationMs: 4_000,
  maxFaults: 40
}
const SEED = 370

/** Runs `fn` for every client; after `ms`, fails naming the clients still not done and their state. */
async function settle (what: string, clients: StackClient[], fn: (c: StackClient) => Promise<void>, ms: number): Promise<void> {
  const done = new Set<StackClient>()
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const stuck = clients.filter(c => !done.has(c)).map((c) => {
        const { status, handed, buffered, unconfirmed } = c.durable.stats()
        const links = c.used.map(u => `${u.lostWith ?? (u.lostHanded !== undefined ? 'lost' : 'live')}`).join(',')
        return `client ${c.init.id}: ${status}, produced ${c.produced}, handed ${handed}, buffered ${buffered}, unconfirmed ${unconfirmed}, connections [${links}], link ${JSON.stringify(c.link?.stats() ?? null)}`
      })
      reject(new Error(`${what} did not finish within ${ms} ms for ${stuck.length} clients:\n${stuck.slice(0, 5).join('\n')}`))
    }, ms)
  })
  try {
    await Promise.race([Promise.all(clients.map(async (c) => { await fn(c); done.add(c) })), deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** Awaits `promise`, failing after `ms` with `what` (and `detail()`) in the message. */
async function within<T> (what: string, promise: Promise<T>, ms: number, detail: () => string = () => ''): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`${what} took longer than ${ms} ms ${detail()}`)) }, ms)
    })])
  } finally {
    clearTimeout(timer)
  }
}

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn()
  cleanup = []
})

describe('stack: 100 concurrent clients under random seeded faults', () => {
  it('every client keeps the delivery guarantee, and everything closes cleanly', async () => {
    // precondition of the seeds: each proxy's plan cuts, and holds at least one black hole longer than the timeout
    for (let p = 0; p < PROXIES; p++) {
      const schedule = planSchedule(PLAN, SEED + p, 100).filter(a => a.atMs <= PLAN.durationMs!)
      expect(schedule.some(a => a.type === 'cut')).toBe(true)
      expect(schedule.some(a => a.type === 'black-hole' && a.durationMs > HEARTBEAT.timeout + HEARTBEAT.interval)).toBe(true)
    }
    const before = resourceSnapshot()
    const server = await StackServer.start({ heartbeat: HEARTBEAT, echo: true })
    cleanup.push(async () => { await server.stop() })
    const proxies: FaultProxy[] = []
    for (let p = 0; p < PROXIES; p++) {
      const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: server.port }, seed: SEED + p, faults: PLAN })
      proxies.push(proxy)
      cleanup.push(async () => { await proxy.close() })
    }

    const clients = Array.from({ length: CLIENTS }, (_, i) => {
      const random = seededRandom(SEED * 31 + i)
      const sizes = Array.from({ length: COUNT }, () => random.int(8, 1_500))
      // load shaping, not synchronisation: each client spreads its messages over ~3.5 s so faults hit mid-stream
      const gaps = Array.from({ length: COUNT }, () => random.int(10, 50))
      return new StackClient({
        id: i + 1,
        port: proxies[i % PROXIES].port,
        count: COUNT,
        size: seq => sizes[seq],
        before: seq => new Promise<void>((resolve) => { setTimeout(resolve, gaps[seq]).unref() }),
        heartbeat: HEARTBEAT,
        reconnect: { initialDelay: 20, maxDelay: 300, connectTimeout: 2_000, closeTimeout: 2_000, random: () => random.next() }
      })
    })
    for (const c of clients) cleanup.push(async () => { c.durable.abort(new Error('test over')) })

    await settle('send', clients, async (c) => { await c.send() }, 30_000)
    // The faults stop before the clients close. A FIN cut fakes an orderly close to both ends while the
    // proxy drops what it holds, and no TCP protocol without application acknowledgements can tell that
    // from the peer's own FIN: reconnect documents a clean close (its FIN, then the peer's) as complete.
    for (const p of proxies) p.stopFaults()
    await settle('close', clients, async (c) => { await c.close() }, 15_000)
    const proxyStats = proxies.map(p => p.stats())
    await within('closing the proxies', Promise.all(proxies.map(async (p) => { await p.close() })), 10_000, () => JSON.stringify(proxies.map(p => ({ active: p.stats().activeConnections, buffered: p.stats().bufferedBytes, handles: process.getActiveResourcesInfo().filter(k => k !== 'Timeout').length }))))
    await within('stopping the server', server.stop(), 10_000, () => JSON.stringify([...server.server?.connections ?? []].map(c => [c.id, c.stats()])))
    cleanup = []

    const violations: string[] = []
    let lost = 0
    let unconfirmed = 0
    let flushed = 0
    let reconnects = 0
    let timeouts = 0
    for (const c of clients) {
      const report = checkLedger({ ...c.ledger(), arrivals: server.received(c.init.id) })
      for (const v of report.violations) violations.push(`client ${c.init.id}: ${v}`)
      if (c.readError !== undefined) violations.push(`client ${c.init.id}: source failed with ${c.readError.name}`)
      if (c.foreignInbound > 0) violations.push(`client ${c.init.id}: ${c.foreignInbound} foreign or corrupt echoes`)
      const stats = c.durable.stats()
      if (stats.handed !== COUNT || stats.unsent !== 0 || stats.dropped !== 0) violations.push(`client ${c.init.id}: handed ${stats.handed}, unsent ${stats.unsent}, dropped ${stats.dropped}`)
      lost += report.lost
      unconfirmed += report.unconfirmed
      flushed += stats.flushed
      reconnects += stats.reconnects
      timeouts += c.timeouts
    }
    expect(violations).toEqual([])
    // at-most-once without retention: every loss is counted, as unconfirmed or (a last connection that ended
    // cleanly both ways while the proxy's FIN cut dropped what it held) flushed
    expect(lost).toBeLessThanOrEqual(unconfirmed + flushed)
    // the faults really happened and were survived
    expect(proxyStats.every(s => s.cuts > 0 && s.blackHoles > 0)).toBe(true)
    expect(reconnects).toBeGreaterThanOrEqual(CLIENTS)
    expect(timeouts).toBeGreaterThan(0)
    expect(server.live).toBe(0)
    expect(await waitForResources(before, 5_000)).toEqual([])
  }, 60_000)
})
