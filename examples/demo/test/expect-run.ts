import { expect } from 'vitest'
import type { DemoSummary } from '../src/index.js'

const sum = (list: number[]): number => list.reduce((a, b) => a + b, 0)

/** Every check held, and nothing was duplicated, reordered or corrupted. */
function expectChecksHeld (s: DemoSummary, messages: number): void {
  for (const c of s.checks) expect(c, c.name).toMatchObject({ ok: true })
  expect(s.error).toBeUndefined()
  expect(s.ok).toBe(true)
  expect(s.sent).toBe(messages)
  expect(s.duplicated).toBe(0)
  expect(s.outOfOrder).toBe(0)
  expect(s.corrupted).toBe(0)
}

/**
 * The guarantees of `@proto/session`, asserted one by one so a failure names the broken one: 0 lost,
 * 0 duplicated, in order, both ways; both ledgers exact; one session, resumed on every reconnect.
 */
export function expectExactlyOnce (s: DemoSummary, messages: number): void {
  expectChecksHeld(s, messages)
  expect(s).toMatchObject({ lost: 0, lostUp: 0, lostDown: 0, receivedByServer: messages, delivered: messages })
  const x = s.session
  if (x === null) throw new Error('expected a run with sessions')
  for (const side of [x.client, x.server]) {
    expect(side.ledger).toEqual({ accepted: messages, confirmed: messages, waiting: 0, buffered: 0, retained: 0, unconfirmed: 0, dropped: 0, cleared: 0, rejected: 0, unsent: 0 })
    expect(side).toMatchObject({ acked: messages, delivered: messages, sessionsLost: 0, resentAfterLoss: 0, droppedAfterLoss: 0 })
  }
  expect(x.client.resumes).toBe(s.reconnects)
  expect(x.server).toMatchObject({ used: 1, expired: 0, evicted: 0, errors: [] })
  expect(s.timeline.events.filter(e => e.type === 'session-lost')).toEqual([])
}

/** The guarantees reconnect's README documents without sessions: at most once, every loss counted. */
export function expectAtMostOnce (s: DemoSummary, messages: number): void {
  expectChecksHeld(s, messages)
  expect(s.session).toBeNull()
  // every item handed exactly once, none dropped or left unsent with overflow 'wait'
  expect(s.reconnect).toMatchObject({ handed: messages, dropped: 0, unsent: 0 })
  expect(s.lost).toBe(s.lostUp + s.lostDown)
  expect(s.lostUp).toBeLessThanOrEqual(s.reconnect.unconfirmed)
  expect(s.delivered + s.lost).toBe(messages)
}

/** The timeline, the per-connection records and the outages tell the same story as the counters. */
export function expectConsistentRecord (s: DemoSummary): void {
  const events = s.timeline.events
  expect(events.filter(e => e.type === 'cut')).toHaveLength(s.proxy.cuts)
  expect(events.filter(e => e.type === 'black-hole')).toHaveLength(s.proxy.blackHoles)
  expect(events.filter(e => e.type === 'connected')).toHaveLength(s.connections)
  expect(events.filter(e => e.type === 'heartbeat-timeout' && e.side === 'client')).toHaveLength(s.heartbeatTimeouts.client)
  const records = s.perConnection
  expect(records.map(c => c.id)).toEqual(Array.from({ length: s.connections }, (_, i) => i + 1))
  expect(sum(records.map(c => c.receivedByServer))).toBe(s.receivedByServer)
  expect(sum(records.map(c => c.delivered))).toBe(s.delivered)
  expect(sum(records.map(c => c.lostOut + c.lostBack))).toBe(s.lost)
  expect(records.filter(c => c.lost)).toHaveLength(s.lostConnections)
  expect(records.at(-1)).toMatchObject({ lost: false, ended: 'closed cleanly (run complete)', lostOut: 0, lostBack: 0 })
  expect(sum(s.timeline.series.handed)).toBe(s.reconnect.handed)
  expect(sum(s.timeline.series.out)).toBe(s.receivedByServer)
  expect(sum(s.timeline.series.back)).toBe(s.delivered)
  expect(s.outages).toHaveLength(s.lostConnections)
  for (const o of s.outages) {
    expect(o.detectMs).toBeGreaterThanOrEqual(0)
    expect(o.redialMs).toBeGreaterThanOrEqual(0)
    expect(o.totalMs).toBeGreaterThanOrEqual(o.detectMs)
  }
  if (s.session === null) {
    expect(sum(records.map(c => c.handed))).toBe(s.reconnect.handed)
    expect(records.every(c => c.session === null)).toBe(true)
    return
  }
  // each connection's share of the client session's counters adds up to the session's own totals
  const shares = records.map(c => c.session ?? { resumed: false, sent: NaN, replayed: NaN, acked: NaN, deduplicated: NaN })
  const c = s.session.client
  expect(sum(shares.map(x => x.sent))).toBe(c.written)
  expect(sum(shares.map(x => x.replayed))).toBe(c.replayed)
  expect(sum(shares.map(x => x.acked))).toBe(c.acked)
  expect(sum(shares.map(x => x.deduplicated))).toBe(c.deduplicated)
  expect(shares.map(x => x.resumed)).toEqual(records.map(r => r.id > 1))
  expect(events.filter(e => e.type === 'connected').map(e => e.type === 'connected' && e.resumed)).toEqual(records.map(r => r.id > 1))
  // what an outage left unacknowledged went again on the next connection
  expect(sum(s.outages.map(o => o.replayedAfter ?? NaN))).toBe(c.replayed - (shares[0]?.replayed ?? 0))
}
