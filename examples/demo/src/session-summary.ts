import type { ReconnectStats } from '@proto/reconnect'
import type { SessionServerStats, SessionStats } from '@proto/session'

/** The ledger of the items one side's application wrote into its session (reconnect's counters under it). */
export type SessionLedger = Pick<ReconnectStats, 'accepted' | 'waiting' | 'buffered' | 'retained' | 'confirmed' | 'unconfirmed' | 'dropped' | 'cleared' | 'rejected' | 'unsent'>

/** One side of the session, in its own counts. Counts are items (messages, or echoes). */
export interface SessionSide {
  /** Items this side's application wrote that the peer acknowledged: handed to the peer's application. */
  acked: number
  /** Items written again on a new connection: the one that carried them was lost before the peer acknowledged them. */
  replayed: number
  /** Items received again after a resume that the application already had: dropped before it. */
  deduplicated: number
  /** Items handed to the application. */
  delivered: number
  /** Items written to a connection, first time or again. */
  written: number
  /** Items a new connection did not write again because the peer's RESUME or ACK said it had them. */
  skipped: number
  acksSent: number
  acksReceived: number
  /** Connections that resumed the session. */
  resumes: number
  /** Sessions that could not be resumed (expired, unknown to the server, taken over, evicted). */
  sessionsLost: number
  /** Unacknowledged items sent again into a new session after a loss (may arrive twice). */
  resentAfterLoss: number
  /** Unacknowledged items given up after a loss. */
  droppedAfterLoss: number
  /**
   * The client: items a server restored from a store copy (after the server before it died) may have
   * received twice. Always 0 with one server, and with servers that hand sessions over cleanly.
   */
  possibleDuplicates: number
  ledger: SessionLedger
}

/** The server's side: its sessions' counts summed, and its registry's. */
export interface ServerSessionReport extends SessionSide {
  /** Sessions the server opened (one per client, plus any whose client never learnt it: they carry nothing). */
  sessions: number
  /** Sessions that carried at least one message. */
  used: number
  /** Resumes that took a session over from a connection still open (a black-holed one). */
  takeovers: number
  expired: number
  evicted: number
  /** Connections the server refused (unknown or expired session, limit, protocol, timeout, shutting down). */
  refused: number
  /** Why a session's echo stream failed, for each that did (a lost session fails both ways). */
  errors: string[]
}

/** What `--json` carries with sessions on: both sides' counts. */
export interface SessionSummary {
  /** The client's session (public id), as last established. */
  id: string | null
  client: SessionSide
  server: ServerSessionReport
}

const LEDGER_KEYS = ['accepted', 'waiting', 'buffered', 'retained', 'confirmed', 'unconfirmed', 'dropped', 'cleared', 'rejected', 'unsent'] as const

export function emptySide (): SessionSide {
  const ledger = Object.fromEntries(LEDGER_KEYS.map(k => [k, 0])) as unknown as SessionLedger
  return {
    acked: 0, replayed: 0, deduplicated: 0, delivered: 0, written: 0, skipped: 0, acksSent: 0, acksReceived: 0, resumes: 0,
    sessionsLost: 0, resentAfterLoss: 0, droppedAfterLoss: 0, possibleDuplicates: 0, ledger
  }
}

/** One side's counts, summed over the sessions it had (a server has one per client). */
export function sessionSide (all: SessionStats[]): SessionSide {
  const side = emptySide()
  for (const s of all) {
    side.acked += s.link.confirmed
    side.replayed += s.resent
    side.deduplicated += s.deduplicated
    side.delivered += s.delivered
    side.written += s.sent
    side.skipped += s.skipped
    side.acksSent += s.acksSent
    side.acksReceived += s.acksReceived
    side.resumes += s.resumes
    side.sessionsLost += s.sessionsLost
    side.resentAfterLoss += s.resentAfterLoss
    side.droppedAfterLoss += s.droppedAfterLoss
    side.possibleDuplicates += s.possibleDuplicates
    for (const k of LEDGER_KEYS) side.ledger[k] += s.link[k]
  }
  return side
}

/** The server's report from its sessions and its registry's counters. */
export function serverReport (all: SessionStats[], server: SessionServerStats, errors: string[]): ServerSessionReport {
  const refused = Object.values(server.refused).reduce((a, b) => a + b, 0)
  return {
    ...sessionSide(all),
    resumes: server.resumed,
    sessions: server.created,
    used: all.filter(s => s.delivered > 0 || s.link.accepted > 0).length,
    takeovers: server.takeovers,
    expired: server.expired,
    evicted: server.evicted,
    refused,
    errors
  }
}
