import type { ReconnectStats } from '@proto/reconnect'
import type { SessionStats } from '@proto/session'
import { newServerTally } from '../src/echo-check.js'
import type { DemoSummary } from '../src/index.js'
import { resolveOptions } from '../src/options.js'
import { emptySide } from '../src/session-summary.js'
import { summarize } from '../src/summarize.js'
import type { TimelineEvent } from '../src/timeline.js'
import { newClientTally } from '../src/traffic.js'

/** Reconnect's counters with `fields` set, the rest zero. */
function linkStats (fields: Partial<ReconnectStats>): ReconnectStats {
  return {
    status: 'closed', attempt: 0, attempts: 2, reconnects: 1, connectedSince: undefined, accepted: 0, waiting: 0, buffered: 0, bufferedBytes: 0, inFlight: 0,
    retained: 0, retainedBytes: 0, handed: 10, replayed: 0, confirmed: 0, unconfirmed: 0, flushed: 0, dropped: 0, cleared: 0, rejected: 0, unsent: 0,
    discardedInbound: 0, lastError: undefined, ...fields
  }
}

const EVENTS = (resumed?: boolean): TimelineEvent[] => [
  { type: 'link', atMs: 0, mode: 'fragmenting' },
  { type: 'connected', atMs: 5, connection: 1, attempt: 1, ...(resumed !== undefined ? { resumed: false } : {}) },
  { type: 'cut', atMs: 1_000, mode: 'fin', connections: 1 },
  { type: 'disconnected', atMs: 1_010, connection: 1, reason: 'peer-ended', error: undefined, cause: 'closed by the peer (FIN)' },
  { type: 'connected', atMs: 1_060, connection: 2, attempt: 1, ...(resumed !== undefined ? { resumed } : {}) },
  { type: 'black-hole', atMs: 1_500, endMs: 1_600 },
  { type: 'faults-stopped', atMs: 1_900 }
]

/**
 * A made-up run of 10 messages over two connections without sessions: the first cut (FIN) at 1 s with
 * message 5 in flight (lost), the second closed cleanly.
 */
export function madeUp (error?: string): DemoSummary {
  const client = newClientTally(10)
  client.handedByEpoch = [0, 6, 4]
  client.deliveredByEpoch = [0, 5, 4]
  client.lostEpochs.add(1)
  client.delivered = 9
  client.connections = 2
  for (let i = 0; i < 10; i++) {
    client.handedAt[i] = i < 6 ? 100 * i : 1_100 + 100 * i
    client.lastEpoch[i] = i < 6 ? 1 : 2
  }
  client.echoAt.push(50, 150, 250, 350, 450, 1_150, 1_750, 1_850, 1_950)
  client.echoRtt.push(1, 2, 3, 4, 5, 90, 6, 7, 8)
  const server = newServerTally(10)
  Object.assign(server, { received: 9, receivedByEpoch: [0, 5, 4], echoedByEpoch: [0, 5, 4], connections: 2 })
  for (let i = 0; i < 10; i++) if (i !== 5) server.receivedAt[i] = client.handedAt[i] + 1
  return summarize({
    o: resolveOptions({ messages: 10, seed: 7, size: 64, session: false }),
    startedAt: new Date('2026-01-02T03:04:05Z'),
    sent: 10,
    durationMs: 2_000,
    error,
    interrupted: false,
    drainCut: false,
    client,
    server,
    stats: linkStats({ handed: 10, unconfirmed: 6 }),
    session: undefined,
    proxy: undefined,
    faults: { finCuts: 1, resetCuts: 0, linkChanges: 0 },
    events: EVENTS()
  })
}

/**
 * The same run with sessions: message 5, in flight on connection 1 when it was cut, goes again on
 * connection 2 (which resumed the session); the server sends the echo of message 4 again, which the
 * client already had (dropped). Everything arrives once.
 */
export function madeUpSession (): DemoSummary {
  const client = newClientTally(10)
  client.handedByEpoch = [0, 6, 5]
  client.deliveredByEpoch = [0, 5, 5]
  client.lostEpochs.add(1)
  client.delivered = 10
  client.connections = 2
  for (let i = 0; i < 10; i++) {
    client.handedAt[i] = i < 6 ? 100 * i : 1_100 + 100 * i
    client.lastEpoch[i] = i < 5 ? 1 : 2
  }
  client.replayAt.push(1_070)
  // the heartbeat's ping interval: configured at the start, at its minimum on the connection after the cut
  client.intervalAt.push(0, 1_050)
  client.interval.push(250, 125)
  client.intervalReason.push('configured', 'reconnect')
  client.sessionAt = [undefined, { resumed: false, written: 0, replayed: 0, acked: 0, deduplicated: 0 }, { resumed: true, written: 6, replayed: 0, acked: 4, deduplicated: 0 }]
  client.echoAt.push(50, 150, 250, 350, 450, 1_150, 1_750, 1_850, 1_950, 1_960)
  client.echoRtt.push(1, 2, 3, 4, 5, 90, 6, 7, 8, 9)
  const server = newServerTally(10)
  Object.assign(server, { received: 10, receivedByEpoch: [0, 5, 5], echoedByEpoch: [0, 5, 5], connections: 2 })
  for (let i = 0; i < 10; i++) server.receivedAt[i] = i === 5 ? 1_080 : client.handedAt[i] + 1
  const ledger = { accepted: 10, confirmed: 10 }
  const clientSession = {
    id: '0123456789abcdef', role: 'client', status: 'closed', delivered: 10, deduplicated: 1, sent: 11, resent: 1, skipped: 0, acksSent: 3, acksReceived: 4,
    resumes: 1, sessionsLost: 0, resentAfterLoss: 0, droppedAfterLoss: 0, ignoredControl: 0, possibleDuplicates: 0, link: linkStats({ ...ledger, replayed: 1 })
  } satisfies SessionStats
  const serverSide = { ...emptySide(), acked: 10, replayed: 1, delivered: 10, written: 11, acksSent: 4, acksReceived: 3, resumes: 1 }
  Object.assign(serverSide.ledger, ledger)
  return summarize({
    o: resolveOptions({ messages: 10, seed: 7, size: 64 }),
    startedAt: new Date('2026-01-02T03:04:05Z'),
    sent: 10,
    durationMs: 2_000,
    error: undefined,
    interrupted: false,
    drainCut: false,
    client,
    server,
    stats: clientSession.link,
    session: { client: clientSession, server: { ...serverSide, sessions: 1, used: 1, takeovers: 0, expired: 0, evicted: 0, refused: 0, errors: [] } },
    proxy: undefined,
    faults: { finCuts: 1, resetCuts: 0, linkChanges: 0 },
    events: EVENTS(true)
  })
}
