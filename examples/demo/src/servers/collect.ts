import type { ServerTally } from '../echo-check.js'
import type { ServerSessionReport } from '../session-summary.js'
import { emptySide } from '../session-summary.js'
import type { ServersSummary } from '../summary.js'
import type { LedgerEntry } from './ledger.js'
import { mergeLedgers, readLedger } from './ledger.js'
import type { ServerGroup } from './servers.js'

/** What a `--servers` run's servers add up to, read once they have all stopped. */
export interface ServersResult {
  /** Their applications as one (`mergeLedgers`). */
  tally: ServerTally
  /**
   * Their sessions' counts summed; `used` counts distinct sessions; the `ledger` is that of the sessions
   * that stayed to the end on servers not SIGKILLed (a session that moved took its ledger along).
   */
  report: ServerSessionReport
  nodeByEpoch: Array<number | null>
  /** Every server's session delivered count against its ledger (a SIGKILLed server's last report is older than its ledger: not judged). */
  counts: Array<{ node: number, delivered: number, ledger: number, judged: boolean }>
  summary: Omit<ServersSummary, 'possibleDuplicates'>
}

const SUMMED = ['acked', 'replayed', 'deduplicated', 'delivered', 'written', 'skipped', 'acksSent', 'acksReceived', 'resumes',
  'sessionsLost', 'resentAfterLoss', 'droppedAfterLoss', 'sessions', 'takeovers', 'expired', 'evicted', 'refused'] as const

export function collectServers (group: ServerGroup, messages: number, killMode: ServersSummary['killMode'], kill: ServersSummary['kill']): ServersResult {
  const origin = group.origin()
  const ledgers: LedgerEntry[][] = group.servers.map(s => readLedger(s.ledger, s.index).map(e => ({ ...e, atMs: e.atMs - origin })))
  const merged = mergeLedgers(ledgers, messages)
  const report: ServerSessionReport = { ...emptySide(), sessions: 0, used: 0, takeovers: 0, expired: 0, evicted: 0, refused: 0, errors: [] }
  const ids = new Set<string>()
  for (const s of group.servers) {
    const r = s.report
    if (r === undefined) continue
    for (const k of SUMMED) report[k] += r.session[k]
    report.errors.push(...r.session.errors.map(e => `server ${s.index}: ${e}`))
    for (const id of r.usedIds) ids.add(id)
    if (s.killed !== 'SIGKILL') for (const k of Object.keys(report.ledger) as Array<keyof typeof report.ledger>) report.ledger[k] += r.stayed.ledger[k]
  }
  report.used = ids.size
  const tally = merged.tally
  tally.connections = group.servers.reduce((n, s) => n + (s.report?.connections ?? 0), 0)
  tally.heartbeatTimeouts = group.servers.reduce((n, s) => n + (s.report?.heartbeatTimeouts ?? 0), 0)
  tally.corrupted += group.servers.reduce((n, s) => n + (s.report?.corrupted ?? 0), 0)
  const servers = group.servers.map(s => ({
    index: s.index,
    pid: s.pid,
    port: s.port,
    nodeId: s.nodeId,
    connections: s.report?.connections ?? 0,
    received: merged.perNode[s.index].received,
    duplicates: merged.perNode[s.index].duplicates,
    handedOver: s.report?.handedOver ?? 0,
    restored: s.report?.restored ?? { handover: 0, recovered: 0 },
    store: s.report?.store ?? { persists: 0, failures: 0, fenced: 0 },
    killed: s.killed ?? null,
    final: s.final
  }))
  return {
    tally,
    report,
    nodeByEpoch: merged.nodeByEpoch,
    counts: group.servers.map(s => ({ node: s.index, delivered: s.report?.session.delivered ?? 0, ledger: merged.perNode[s.index].records, judged: s.final })),
    summary: {
      count: servers.length,
      redisPort: group.redisPort,
      servers,
      proxyConnections: group.picks,
      connectionNodes: merged.nodeByEpoch,
      killMode,
      kill,
      handovers: servers.reduce((n, s) => n + s.handedOver, 0),
      restores: { handover: servers.reduce((n, s) => n + s.restored.handover, 0), recovered: servers.reduce((n, s) => n + s.restored.recovered, 0) }
    }
  }
}
