import type { CheckInput } from './checks.js'
import { checkAllSent, CheckList } from './checks.js'
import type { ServerSessionReport, SessionLedger, SessionSide } from './session-summary.js'
import type { Check } from './summary.js'

/** Items a ledger still holds or gave up: waiting, buffered or retained, or unconfirmed, dropped, cleared, rejected, unsent. */
function outstanding (l: SessionLedger): number {
  return l.waiting + l.buffered + l.retained + l.unconfirmed + l.dropped + l.cleared + l.rejected + l.unsent
}

function ledgerDetail (l: SessionLedger, what: string): string {
  return `${l.accepted} ${what} written, ${l.confirmed} acknowledged; unconfirmed ${l.unconfirmed}, dropped ${l.dropped}, unsent ${l.unsent}, `
    + `rejected ${l.rejected}, still held ${l.waiting + l.buffered + l.retained}`
}

/**
 * The guarantees of `@proto/session` (its README, "Delivery guarantees, exactly"): every message reaches
 * the server's application once and in order, every echo the client's, across every reconnect; both
 * ledgers are exact (everything written was acknowledged, nothing given up); one session carried it all,
 * resumed on every new connection; and the sessions' own counts agree with what the demo saw.
 *
 * On an interrupted run whose drain was cut short, what was in flight was given up and counted by the
 * ledgers: the checks that need everything through are then skipped, with the counts.
 */
export function checkSessionGuarantees (input: CheckInput, session: { client: SessionSide, server: ServerSessionReport }): Check[] {
  const { sent, client, server } = input
  const { client: c, server: s } = session
  const servers = input.servers
  const list = new CheckList()
  const cut = input.drainCut
  const cutNote = `not judged: interrupted, and the drain was cut short (${outstanding(c.ledger)} messages and ${outstanding(s.ledger)} echoes still in flight were given up, counted by the ledgers)`
  /** A check that needs the whole exchange through: skipped when an interrupted run's drain was cut. */
  const whole = (name: string, help: string, ok: boolean, detail: string): void => {
    if (cut) list.skip(name, help, cutNote)
    else list.add(name, help, ok, detail)
  }

  checkAllSent(list, input, 'session')
  whole('nothing lost (out)', 'every message the client sent reached the server\'s application', server.received === sent,
    `${server.received} of ${sent} reached the server's application`)
  if (servers === undefined) {
    whole('nothing lost (back)', 'every echo the server\'s application wrote reached the client\'s application', client.delivered === s.ledger.accepted && s.ledger.accepted === server.received,
      `${client.delivered} of the ${s.ledger.accepted} echoes written for the ${server.received} messages received reached the client's application`)
  } else {
    whole('nothing lost (back)', 'the echo of every message the servers\' applications received reached the client\'s application', client.delivered === server.received,
      `${client.delivered} echoes reached the client's application for the ${server.received} messages the servers received`)
  }
  const dupDetail = `${server.duplicates} at the servers, ${client.duplicates} at the client (${s.deduplicated} and ${c.deduplicated} replays dropped by the sessions before them)`
  if (servers?.kill === 'kill') {
    list.add('duplicates within the possible duplicates', 'a server was SIGKILLed: the next recovered the session from what it had persisted (at-least-once at that point); every duplicate is among those the client counted as possible',
      server.duplicates <= c.possibleDuplicates && client.duplicates <= c.possibleDuplicates, `${dupDetail}; the client counted ${c.possibleDuplicates} possible duplicates`)
  } else {
    list.add('no duplicates', 'no message reaches the server\'s application twice, no echo the client\'s: the sessions drop replays they already delivered', server.duplicates + client.duplicates === 0, dupDetail)
  }
  list.add('in order', 'sequence numbers only grow across reconnections: in the whole session at the server, in the client\'s echo stream', server.outOfOrder + client.outOfOrder === 0,
    `${server.outOfOrder} out of order at the server, ${client.outOfOrder} at the client`)
  list.add('no corruption', 'every message and echo has the right size and CRC-32', server.corrupted + client.corrupted === 0,
    `${server.corrupted} bad at the server, ${client.corrupted} bad at the client (size and CRC-32 checked)`)
  whole('all acknowledged (out)', 'the client\'s ledger is exact: every message it sent was acknowledged (handed to the server\'s application), none given up',
    c.ledger.accepted === sent && c.ledger.confirmed === sent && outstanding(c.ledger) === 0, ledgerDetail(c.ledger, 'messages'))
  if (servers === undefined) {
    whole('all acknowledged (back)', 'the server\'s ledger is exact: every echo it wrote was acknowledged (handed to the client\'s application), none given up',
      s.ledger.accepted === server.received && s.ledger.confirmed === s.ledger.accepted && outstanding(s.ledger) === 0, ledgerDetail(s.ledger, 'echoes'))
  } else {
    whole('all acknowledged (back)', 'the ledger of the session where it ended is exact: every echo written there was acknowledged, none given up (a session that moved took its unacknowledged echoes along)',
      s.ledger.confirmed === s.ledger.accepted && outstanding(s.ledger) === 0, ledgerDetail(s.ledger, 'echoes'))
  }
  const reconnects = Math.max(0, client.connections - 1)
  const lost = c.sessionsLost + s.sessionsLost + s.expired + s.evicted + c.resentAfterLoss + c.droppedAfterLoss
  const unused = s.sessions - s.used
  const sessionDetail = `${c.sessionsLost} lost at the client, ${s.sessionsLost} at the server (${s.expired} expired, ${s.evicted} evicted); `
    + `${c.resumes} of ${reconnects} reconnects resumed it; `
    + `${s.used} session carried the messages${unused > 0 ? ` (${unused} opened on a connection cut before the client read its token: never used)` : ''}`
    + (s.errors.length > 0 ? `; the server's echo failed: ${s.errors.join('; ')}` : '')
  // an interrupted run whose drain was cut short ends the session itself: the server then reports it closed early
  whole('no session lost', 'one session carried everything, resumed on every new connection: none lost, expired or evicted, nothing re-sent into a new session',
    lost === 0 && s.used <= 1 && c.resumes === reconnects && s.errors.length === 0, sessionDetail)
  if (cut) list.checks[list.checks.length - 1].detail += `; ${sessionDetail}`
  if (servers === undefined) {
    list.add('session counts agree', 'the sessions\' own delivery counts match what the demo checked on arrival, at both ends',
      c.delivered === client.delivered && s.delivered === server.received,
      `client: session delivered ${c.delivered}, demo counted ${client.delivered}; server: session delivered ${s.delivered}, demo counted ${server.received}`)
  } else {
    const judged = servers.counts.filter(n => n.judged)
    const skipped = servers.counts.filter(n => !n.judged).map(n => `server ${n.node} (SIGKILLed: its last report predates its ledger)`)
    // after a SIGKILL the session may hand the client an echo twice (at-least-once there): the demo counts it as a duplicate
    list.add('session counts agree', 'the sessions\' own delivery counts match what the demo checked on arrival: at the client (duplicates included), and on every server that reported at its end against its ledger',
      c.delivered === client.delivered + client.duplicates && judged.every(n => n.delivered === n.ledger),
      `client: session delivered ${c.delivered}, demo counted ${client.delivered} + ${client.duplicates} duplicates; ${judged.map(n => `server ${n.node}: ${n.delivered} vs ${n.ledger}`).join(', ')}`
      + (skipped.length > 0 ? `; not judged: ${skipped.join(', ')}` : ''))
  }
  return list.checks
}
