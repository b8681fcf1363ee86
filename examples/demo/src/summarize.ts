import type { FaultProxyStats } from '@proto/fault-proxy'
import type { ReconnectStats } from '@proto/reconnect'
import type { SessionStats } from '@proto/session'
import { checkGuarantees } from './checks.js'
import type { RunEnd } from './connections.js'
import { connectionRecords, lostOutByEpoch, outages } from './connections.js'
import { distribution } from './distribution.js'
import type { ServerTally } from './echo-check.js'
import { newServerTally } from './echo-check.js'
import type { FaultCounts } from './faults.js'
import type { ResolvedOptions } from './options.js'
import { sessionMark } from './recorded-client.js'
import type { ServersResult } from './servers/collect.js'
import type { ServerSessionReport, SessionSummary } from './session-summary.js'
import { emptySide, sessionSide } from './session-summary.js'
import type { DemoSummary, Outcome } from './summary.js'
import type { TimelineEvent } from './timeline.js'
import { buildTimeline } from './timeline.js'
import type { ClientTally } from './traffic.js'

/** Everything a run gathered. */
export interface RunResult {
  o: ResolvedOptions
  startedAt: Date
  sent: number
  durationMs: number
  error: string | undefined
  interrupted: boolean
  /** Interrupted, and the drain was cut short. */
  drainCut: boolean
  client: ClientTally
  server: ServerTally | undefined
  stats: ReconnectStats | undefined
  /** With sessions: the client session's counters and the server's report (`undefined` where the run never got that far). */
  session: { client: SessionStats | undefined, server: ServerSessionReport | undefined } | undefined
  proxy: FaultProxyStats | undefined
  faults: FaultCounts | undefined
  events: TimelineEvent[]
  /** With `--servers`: what the server processes add up to (their tally and session report replace `server` and `session.server`). */
  servers?: ServersResult | undefined
}

const NO_PROXY: FaultProxyStats = {
  connections: 0, activeConnections: 0, refused: 0, bytesReadUp: 0, bytesReadDown: 0, readsUp: 0, readsDown: 0, bufferedBytes: 0,
  bytesUp: 0, bytesDown: 0, writesUp: 0, writesDown: 0, cuts: 0, connectionsCut: 0, blackHoles: 0, discardedBytes: 0, faults: 0
}

/** Both sides' session counts, as the summary carries them. */
function sessionSummary (r: NonNullable<RunResult['session']>): SessionSummary {
  const empty = { ...emptySide(), sessions: 0, used: 0, takeovers: 0, expired: 0, evicted: 0, refused: 0, errors: [] }
  return {
    id: r.client?.id ?? null,
    client: sessionSide(r.client === undefined ? [] : [r.client]),
    server: r.server ?? empty
  }
}

/** The client heartbeat's ping intervals over the run: the first and last, the range, and why they changed. */
function intervalSummary (t: ClientTally): DemoSummary['interval'] {
  const reasons: Record<string, number> = {}
  for (let i = 1; i < t.interval.length; i++) reasons[t.intervalReason[i]] = (reasons[t.intervalReason[i]] ?? 0) + 1
  const none = t.interval.length === 0
  return {
    first: none ? null : t.interval[0],
    last: none ? null : t.interval[t.interval.length - 1],
    min: none ? null : Math.min(...t.interval),
    max: none ? null : Math.max(...t.interval),
    changes: Math.max(0, t.interval.length - 1),
    reasons
  }
}

/** Turns what a run gathered into its summary: counts, checks, per-connection records, outages and timeline. */
export function summarize (r: RunResult): DemoSummary {
  const { o, sent, client } = r
  const server = r.servers?.tally ?? r.server ?? newServerTally(0)
  const stats = r.stats ?? { handed: 0, unconfirmed: 0, dropped: 0, unsent: 0, discardedInbound: 0, attempts: 0, reconnects: 0 }
  const session = r.session === undefined ? null : sessionSummary({ ...r.session, ...(r.servers !== undefined ? { server: r.servers.report } : {}) })
  const servers = r.servers === undefined ? null : { ...r.servers.summary, possibleDuplicates: session?.client.possibleDuplicates ?? 0 }
  const checks = checkGuarantees({
    messages: o.messages,
    sent,
    error: r.error,
    interrupted: r.interrupted,
    drainCut: r.drainCut,
    client,
    server,
    stats,
    session: session ?? undefined,
    ...(r.servers !== undefined ? { servers: { kill: o.kill, counts: r.servers.counts } } : {})
  })
  const outcome: Outcome = r.error !== undefined ? 'error' : !checks.every(c => c.ok) ? 'fail' : r.interrupted ? 'interrupted' : 'pass'
  const end: RunEnd = r.error !== undefined ? 'failed' : r.interrupted ? 'interrupted' : 'complete'
  const sessionEnd = r.session?.client === undefined ? undefined : sessionMark(r.session.client)
  const perConnection = connectionRecords(r.events, {
    handedByEpoch: client.handedByEpoch,
    receivedByEpoch: server.receivedByEpoch,
    echoedByEpoch: server.echoedByEpoch,
    deliveredByEpoch: client.deliveredByEpoch,
    lostOutByEpoch: lostOutByEpoch(client.lastEpoch, server.receivedAt),
    ...(sessionEnd !== undefined ? { sessionAt: client.sessionAt, sessionEnd } : {}),
    ...(r.servers !== undefined ? { nodeByEpoch: r.servers.nodeByEpoch } : {})
  }, r.durationMs, end)
  const echo = distribution(client.echoRtt)
  const heartbeat = distribution(client.heartbeatRtt)
  const durationS = r.durationMs / 1000
  return {
    ok: outcome === 'pass',
    outcome,
    interrupted: r.interrupted,
    error: r.error,
    startedAt: r.startedAt.toISOString(),
    seed: o.seed,
    faults: o.faults,
    messages: o.messages,
    size: o.size,
    settings: {
      session: o.session,
      rate: o.rate,
      cutEvery: o.faults ? o.cutEvery ?? null : null,
      blackHoleEvery: o.faults ? o.blackHoleEvery ?? null : null,
      blackHoleFor: o.blackHoleFor,
      linkChangeEvery: o.linkChangeEvery,
      heartbeatInterval: o.heartbeatInterval,
      heartbeatTimeout: o.heartbeatTimeout
    },
    sent,
    receivedByServer: server.received,
    delivered: client.delivered,
    lost: sent - client.delivered,
    lostUp: sent - server.received,
    lostDown: server.received - client.delivered,
    duplicated: server.duplicates + client.duplicates,
    outOfOrder: server.outOfOrder + client.outOfOrder,
    corrupted: server.corrupted + client.corrupted,
    lateFromOldConnection: server.late,
    connections: client.connections,
    reconnects: stats.reconnects,
    lostConnections: client.lostEpochs.size,
    heartbeatTimeouts: { client: client.heartbeatTimeouts, server: server.heartbeatTimeouts },
    rtt: { echoP50: echo.p50, echoP99: echo.p99, heartbeatP50: heartbeat.p50, heartbeatP99: heartbeat.p99, echo, heartbeat },
    interval: intervalSummary(client),
    durationMs: r.durationMs,
    throughput: { messagesPerSecond: client.delivered / durationS, bytesPerSecond: client.delivered * o.size / durationS },
    reconnect: { handed: stats.handed, unconfirmed: stats.unconfirmed, dropped: stats.dropped, unsent: stats.unsent, discardedInbound: stats.discardedInbound, attempts: stats.attempts },
    session,
    proxy: { ...NO_PROXY, ...r.proxy, ...(r.faults ?? { finCuts: 0, resetCuts: 0, linkChanges: 0 }) },
    servers,
    perConnection,
    outages: outages(r.events, perConnection, client.echoAt, o.heartbeatTimeout + 1_000),
    timeline: buildTimeline({
      durationMs: r.durationMs,
      handedAt: client.handedAt,
      replayAt: client.replayAt,
      serverAt: server.receivedAt,
      echoAt: client.echoAt,
      echoRtt: client.echoRtt,
      heartbeatAt: client.heartbeatAt,
      heartbeatRtt: client.heartbeatRtt,
      intervalAt: client.intervalAt,
      interval: client.interval,
      events: r.events
    }),
    checks
  }
}
