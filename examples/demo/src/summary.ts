import type { FaultProxyStats } from '@proto/fault-proxy'
import type { ReconnectStats } from '@proto/reconnect'
import type { FaultCounts } from './faults.js'

/** One checked guarantee. */
export interface Check {
  name: string
  ok: boolean
  detail: string
}

/** What `runDemo()` returns. Message counts are per message; times in ms; rates per second. */
export interface DemoSummary {
  /** Every check passed and the run finished within its limit. */
  ok: boolean
  /** Why the run did not finish, if it did not (deadline, unexpected error). */
  error: string | undefined
  seed: number
  faults: boolean
  messages: number
  size: number
  /** Messages the client's durable sink accepted. */
  sent: number
  /** Intact messages the server received (each once). */
  receivedByServer: number
  /** Intact echoes the client received (each once): the round trip completed. */
  delivered: number
  /** `sent − delivered`: lost on the way out (`lostUp`) or on the way back (`lostDown`). */
  lost: number
  lostUp: number
  lostDown: number
  /** Duplicates seen by the server plus those seen by the client. */
  duplicated: number
  /** Out-of-order messages: per connection at the server, and in the client's echo stream. */
  outOfOrder: number
  /** Wrong size or checksum, at the server or the client. */
  corrupted: number
  /** Messages that reached the server from an old connection after newer ones (allowed; see README). */
  lateFromOldConnection: number
  /** Connections the client made; `reconnects` = all but the first. */
  connections: number
  reconnects: number
  /** Client connections the durable duplex declared lost. */
  lostConnections: number
  heartbeatTimeouts: { client: number, server: number }
  rtt: { echoP50: number, echoP99: number, heartbeatP50: number, heartbeatP99: number }
  durationMs: number
  throughput: { messagesPerSecond: number, bytesPerSecond: number }
  reconnect: Pick<ReconnectStats, 'handed' | 'unconfirmed' | 'dropped' | 'unsent' | 'discardedInbound' | 'attempts'>
  proxy: FaultProxyStats & FaultCounts
  checks: Check[]
}

/** The value at quantile `q` of `values` (nearest rank); `NaN` when empty. */
export function percentile (values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

const n = (v: number): string => v.toLocaleString('en-US')
const ms = (v: number): string => Number.isNaN(v) ? '–' : `${v.toFixed(v < 10 ? 2 : 1)} ms`

/** The summary as a table of plain text lines. */
export function formatSummary (s: DemoSummary): string {
  const pct = (v: number): string => s.sent === 0 ? '' : ` (${(100 * v / s.sent).toFixed(2)} %)`
  const p = s.proxy
  const rows: Array<[string, string]> = [
    ['sent', n(s.sent)],
    ['received by server', n(s.receivedByServer)],
    ['delivered (echo back)', n(s.delivered)],
    ['lost', `${n(s.lost)}${pct(s.lost)}: ${n(s.lostUp)} on the way out, ${n(s.lostDown)} on the way back`],
    ['  accounted by reconnect', `${n(s.reconnect.unconfirmed)} unconfirmed, ${n(s.reconnect.dropped)} dropped, ${n(s.reconnect.unsent)} unsent`],
    ['duplicated', n(s.duplicated)],
    ['out of order', n(s.outOfOrder)],
    ['corrupted', n(s.corrupted)],
    ['late from an old connection', `${n(s.lateFromOldConnection)} (allowed: order is per connection)`],
    ['reconnects', `${n(s.reconnects)} (${n(s.lostConnections)} connections lost, ${n(s.reconnect.attempts)} dials)`],
    ['heartbeat timeouts', `${n(s.heartbeatTimeouts.client)} client, ${n(s.heartbeatTimeouts.server)} server`],
    ['RTT echo p50 / p99', `${ms(s.rtt.echoP50)} / ${ms(s.rtt.echoP99)}`],
    ['RTT heartbeat p50 / p99', Number.isNaN(s.rtt.heartbeatP50) ? '– (no pings: data kept the link busy)' : `${ms(s.rtt.heartbeatP50)} / ${ms(s.rtt.heartbeatP99)}`],
    ['throughput', `${n(Math.round(s.throughput.messagesPerSecond))} msg/s, ${(s.throughput.bytesPerSecond / 1e6).toFixed(2)} MB/s over ${(s.durationMs / 1000).toFixed(1)} s`],
    ['faults', s.faults ? `${n(p.finCuts)} FIN cuts, ${n(p.resetCuts)} resets, ${n(p.blackHoles)} black holes, ${n(p.linkChanges)} fragment/coalesce switches` : 'off'],
    ['proxy', `${n(p.connections)} connections, ${n(p.connectionsCut)} cut, ${n(p.writesUp + p.writesDown)} writes for ${n(p.readsUp + p.readsDown)} reads, ${n(p.discardedBytes)} B discarded`]
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  const lines = [`@proto demo — seed ${s.seed}, ${n(s.messages)} × ${s.size} B`, '']
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(width)}  ${v}`)
  lines.push('', '  Delivery is at-most-once, in order: a message in flight when a link dies is not resent, and')
  lines.push('  reconnect counts it as unconfirmed. Exactly-once needs acknowledgements above this stack.')
  lines.push('', 'guarantees:')
  for (const c of s.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`)
  if (s.error !== undefined) lines.push('', `run failed: ${s.error}`)
  lines.push('', s.ok ? 'PASS: every documented guarantee held' : 'FAIL: a guarantee was broken (see above)')
  return lines.join('\n') + '\n'
}
