import { serverRows } from './servers/server-rows.js'
import { sessionRows } from './session-counters.js'
import type { DemoSummary } from './summary.js'

/** One line of the summary: a counter, its value in words, and what it means where that is not obvious. */
export interface CounterRow {
  label: string
  value: string
  help?: string
  /** An indented detail of the row above. */
  sub?: boolean
}

const n = (v: number): string => v.toLocaleString('en-US')
const ms = (v: number): string => Number.isNaN(v) ? '–' : v < 10 ? `${v.toFixed(2)} ms` : v < 1000 ? `${v.toFixed(1)} ms` : `${(v / 1000).toFixed(2)} s`

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[(sorted.length - 1) >> 1]
}

/** The summary's counters, in order, each with its one-line explanation where it is needed. */
export function counterRows (s: DemoSummary): CounterRow[] {
  const pct = (v: number): string => s.sent === 0 ? '' : ` (${(100 * v / s.sent).toFixed(2)} %)`
  const head: CounterRow[] = [
    { label: 'sent', value: `${n(s.sent)} of ${n(s.messages)}` },
    { label: 'received by server', value: n(s.receivedByServer) },
    { label: 'delivered (echo back)', value: `${n(s.delivered)}${pct(s.delivered)}` }
  ]
  const delivery = s.session !== null ? sessionRows(s, s.session) : atMostOnceRows(s, pct)
  return [...head, ...delivery, ...(s.servers !== null ? serverRows(s, s.servers) : []), ...linkRows(s)]
}

/** Without sessions: what was lost, and reconnect's own count of what may have been. */
function atMostOnceRows (s: DemoSummary, pct: (v: number) => string): CounterRow[] {
  const r = s.reconnect
  return [
    {
      label: 'lost',
      value: `${n(s.lost)}${pct(s.lost)}: ${n(s.lostUp)} on the way out, ${n(s.lostDown)} on the way back`,
      help: 'in flight when a connection died; at-most-once delivery never resends them'
    },
    {
      label: 'unconfirmed',
      sub: true,
      value: `${n(r.unconfirmed)} (the ${n(s.lostUp)} lost on the way out are among them)`,
      help: 'handed to connections that later died: each may or may not have arrived'
    },
    { label: 'dropped / unsent', sub: true, value: `${n(r.dropped)} / ${n(r.unsent)}`, help: 'dropped by the offline buffer\'s overflow policy / still buffered at close' },
    { label: 'duplicated', value: n(s.duplicated) },
    { label: 'out of order', value: n(s.outOfOrder) },
    { label: 'corrupted', value: n(s.corrupted) },
    {
      label: 'late from an old connection',
      value: n(s.lateFromOldConnection),
      help: 'bytes of a connection already given up on, arriving after newer ones: allowed'
    }
  ]
}

/** Reconnects, outages, heartbeat, RTT, throughput and the faults: the same with or without sessions. */
function linkRows (s: DemoSummary): CounterRow[] {
  const p = s.proxy
  const totals = s.outages.map(o => o.totalMs).filter((v): v is number => v !== undefined)
  return [
    { label: 'reconnects', value: `${n(s.reconnects)} (${n(s.lostConnections)} connections lost, ${n(s.reconnect.attempts)} dials)` },
    {
      label: 'outages',
      value: s.outages.length === 0 ? 'none' : `${s.outages.length}: median ${ms(median(totals))}, longest ${ms(totals.length === 0 ? NaN : Math.max(...totals))}`,
      help: s.session !== null ? 'fault → first echo after it: detection, redial, resume, round trip' : 'each from the fault to the first echo after it: detection, redial, round trip'
    },
    {
      label: 'heartbeat timeouts',
      value: `${n(s.heartbeatTimeouts.client)} client, ${n(s.heartbeatTimeouts.server)} server`,
      help: s.session !== null
        ? `peer silent for up to ${n(s.settings.heartbeatTimeout)} ms, declared dead: how black holes are found`
        : `peer silent for ${n(s.settings.heartbeatTimeout)} ms, declared dead: how black holes are found`
    },
    {
      label: 'RTT echo p50 / p99',
      value: `${ms(s.rtt.echoP50)} / ${ms(s.rtt.echoP99)}`,
      help: 'handed to a connection → echo back; messages held up by outages make the tail'
    },
    {
      label: 'RTT heartbeat p50 / p99',
      value: Number.isNaN(s.rtt.heartbeatP50) ? '– (no pings: data kept the link busy)' : `${ms(s.rtt.heartbeatP50)} / ${ms(s.rtt.heartbeatP99)}`,
      help: `a ping goes out only after ${n(s.settings.heartbeatInterval)} ms without sending anything`
    },
    {
      label: 'throughput',
      value: `${n(Math.round(s.throughput.messagesPerSecond))} msg/s, ${(s.throughput.bytesPerSecond / 1e6).toFixed(2)} MB/s over ${(s.durationMs / 1000).toFixed(1)} s` },
    { label: 'faults', value: s.faults ? `${n(p.finCuts)} FIN cuts, ${n(p.resetCuts)} resets, ${n(p.blackHoles)} black holes, ${n(p.linkChanges)} fragment/coalesce switches` : 'off' },
    {
      label: 'proxy',
      value: `${n(p.connections)} connections, ${n(p.connectionsCut)} cut, ${n(p.writesUp + p.writesDown)} writes for ${n(p.readsUp + p.readsDown)} reads, ${n(p.discardedBytes)} B discarded` }
  ]
}
