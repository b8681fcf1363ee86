import type { CounterRow } from './counters.js'
import type { SessionSummary } from './session-summary.js'
import type { DemoSummary } from './summary.js'

const n = (v: number): string => v.toLocaleString('en-US')

/**
 * With sessions: nothing lost, and the session's own counts that show why — acknowledged, replayed,
 * de-duplicated, resumed, sessions lost — each side's where both have one.
 */
export function sessionRows (s: DemoSummary, x: SessionSummary): CounterRow[] {
  const { client: c, server: srv } = x
  const reconnects = Math.max(0, s.connections - 1)
  const unused = srv.sessions - srv.used
  const left = c.ledger.unconfirmed + c.ledger.unsent + c.ledger.dropped
  return [
    {
      label: 'lost',
      value: `${n(s.lost)}: ${n(s.lostUp)} on the way out, ${n(s.lostDown)} on the way back`,
      help: 'what a dead connection carried is sent again on the next, until acknowledged'
    },
    {
      label: 'acknowledged',
      value: `${n(c.acked)} messages by the server, ${n(srv.acked)} echoes by the client`,
      help: 'handed to the peer\'s application and confirmed: only then released'
    },
    {
      label: 'replayed',
      value: `${n(c.replayed)} messages, ${n(srv.replayed)} echoes`,
      help: 'sent again after a resume: their connection died before an ACK came'
    },
    {
      label: 'deduplicated',
      value: `${n(srv.deduplicated)} at the server, ${n(c.deduplicated)} at the client`,
      help: 'replays the application already had: dropped, never handed over twice'
    },
    {
      label: 'resumed',
      value: `${n(c.resumes)} of ${n(reconnects)} reconnects (server: ${n(srv.resumes)} resumes, ${n(srv.takeovers)} taking over a connection still open)`,
      help: 'a new connection picked the session up where the last one stopped'
    },
    {
      label: 'sessions lost',
      value: `${n(c.sessionsLost + srv.sessionsLost)} (expired ${n(srv.expired)}, evicted ${n(srv.evicted)})${unused > 0 ? `; ${n(unused)} opened but never used` : ''}`,
      help: 'could not be resumed (expired, unknown): unacknowledged items at risk'
    },
    {
      label: 'unconfirmed / unsent',
      sub: true,
      value: `${n(c.ledger.unconfirmed)} / ${n(c.ledger.unsent)}${left === 0 ? ' (the client\'s ledger: everything acknowledged)' : ''}`,
      help: 'sent and never acknowledged / never sent, when the session ended'
    },
    { label: 'duplicated', value: n(s.duplicated) },
    { label: 'out of order', value: n(s.outOfOrder) },
    { label: 'corrupted', value: n(s.corrupted) }
  ]
}
