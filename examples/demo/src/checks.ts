import type { ReconnectStats } from '@proto/reconnect'
import type { ServerTally } from './echo-check.js'
import type { KillMode } from './options.js'
import { checkSessionGuarantees } from './session-checks.js'
import type { ServerSessionReport, SessionSide } from './session-summary.js'
import type { Check } from './summary.js'
import type { ClientTally } from './traffic.js'

/** What the guarantees are judged on. */
export interface CheckInput {
  messages: number
  sent: number
  error: string | undefined
  /** Stopped early: "all sent" is not judged, the rest cover what was sent. */
  interrupted: boolean
  /** Interrupted, and the drain was cut short: what was still in flight was given up (counted). */
  drainCut: boolean
  client: ClientTally
  server: ServerTally
  stats: Pick<ReconnectStats, 'handed' | 'unconfirmed' | 'dropped' | 'unsent'>
  /** With sessions: both sides' session counts (`undefined` without sessions). */
  session: { client: SessionSide, server: ServerSessionReport } | undefined
  /**
   * With `--servers`: how a server was stopped (`'kill'`: SIGKILL, duplicates allowed up to the client's
   * count of possible ones) and every server's session delivered count against its ledger.
   */
  servers?: { kill: KillMode, counts: Array<{ node: number, delivered: number, ledger: number, judged: boolean }> }
}

/** A list of checks being built: each with its name, what it means, whether it held and what was measured. */
export class CheckList {
  readonly checks: Check[] = []
  add (name: string, help: string, ok: boolean, detail: string): void { this.checks.push({ name, help, ok, detail }) }
  skip (name: string, help: string, detail: string): void { this.checks.push({ name, help, ok: true, skipped: true, detail }) }
}

const sum = (list: number[], pick: (i: number) => boolean = () => true): number =>
  list.reduce((acc, v, i) => acc + (pick(i) ? (v ?? 0) : 0), 0)

/** Epochs (connection numbers) where two per-epoch counts differ. */
function mismatches (a: number[], b: number[], skip: Set<number>): string[] {
  const out: string[] = []
  for (let e = 1; e < Math.max(a.length, b.length); e++) {
    if (skip.has(e)) continue
    if ((a[e] ?? 0) !== (b[e] ?? 0)) out.push(`#${e}: ${a[e] ?? 0} vs ${b[e] ?? 0}`)
  }
  return out
}

/** "All sent", judged the same way with or without sessions. */
export function checkAllSent (list: CheckList, input: CheckInput, sink: string): void {
  const help = `the client's ${sink} accepted every message, within the duration limit`
  if (input.interrupted && input.error === undefined) list.skip('all sent', help, `interrupted after ${input.sent} of ${input.messages}; the other checks cover those ${input.sent}`)
  else list.add('all sent', help, input.error === undefined && input.sent === input.messages, `${input.sent} of ${input.messages} accepted by the ${sink}`)
}

/**
 * Checks the guarantees @proto documents for the stack the run used: with sessions, exactly once and in
 * order both ways, every ledger exact (`session-checks.ts`); without, at most once (reconnect's README,
 * "Delivery guarantee"): order kept, nothing duplicated or corrupted, every item accepted ends in exactly
 * one counter, and what outages lost is bounded by reconnect's own count — exactly per connection.
 */
export function checkGuarantees (input: CheckInput): Check[] {
  return input.session !== undefined ? checkSessionGuarantees(input, input.session) : checkAtMostOnce(input)
}

function checkAtMostOnce (input: CheckInput): Check[] {
  const { sent, client, server, stats: r } = input
  const lost = client.lostEpochs
  const isLost = (e: number): boolean => lost.has(e)
  const lostUp = sent - server.received
  const lostDown = server.received - client.delivered
  const list = new CheckList()
  const add = list.add.bind(list)
  checkAllSent(list, input, 'durable sink')
  add('no duplicates', 'no message reaches the server twice, no echo reaches the client twice', server.duplicates + client.duplicates === 0, `${server.duplicates} at the server, ${client.duplicates} at the client`)
  add('in order', 'sequence numbers only grow: per server connection, and in the client\'s echo stream across reconnections', server.outOfOrder + client.outOfOrder === 0,
    `${server.outOfOrder} out of order on a server connection, ${client.outOfOrder} in the client's echo stream`)
  add('no corruption', 'every message and echo has the right size and CRC-32', server.corrupted + client.corrupted === 0, `${server.corrupted} bad at the server, ${client.corrupted} bad at the client (size and CRC-32 checked)`)
  const counted = r.handed + r.dropped + r.unsent
  add('every message counted once', 'reconnect\'s counters: handed + dropped + unsent = sent', counted === sent, `handed ${r.handed} + dropped ${r.dropped} + unsent ${r.unsent} = ${counted}, sent ${sent}`)
  const bound = r.unconfirmed + r.dropped + r.unsent
  add('losses within reconnect\'s count', 'what never reached the server is at most what reconnect reports as unconfirmed, dropped or unsent', lostUp <= bound,
    `sent − received by server = ${lostUp} ≤ unconfirmed + dropped + unsent = ${bound}`)
  const handedOnLost = sum(client.handedByEpoch, isLost)
  add('unconfirmed = handed to lost connections', 'reconnect\'s unconfirmed equals the messages handed to connections it declared lost', handedOnLost === r.unconfirmed,
    `${handedOnLost} handed to the ${lost.size} lost connections, reconnect counts ${r.unconfirmed}`)
  const upMismatch = mismatches(client.handedByEpoch, server.receivedByEpoch, lost)
  add('connections not lost lost nothing (out)', 'everything handed to a connection that was not lost reached the server', upMismatch.length === 0,
    upMismatch.length === 0 ? 'every message handed to a surviving connection reached the server' : `handed vs received: ${upMismatch.join(', ')}`)
  const downMismatch = mismatches(server.echoedByEpoch, client.deliveredByEpoch, lost)
  add('connections not lost lost nothing (back)', 'every echo the server sent on a connection that was not lost reached the client', downMismatch.length === 0,
    downMismatch.length === 0 ? 'every echo sent on a surviving connection reached the client' : `echoed vs delivered: ${downMismatch.join(', ')}`)
  const echoedOnLost = sum(server.echoedByEpoch, isLost)
  add('echo losses only on lost connections', 'echoes that never arrived are at most the echoes sent on lost connections', lostDown <= echoedOnLost,
    `received − delivered = ${lostDown} ≤ echoes sent on lost connections = ${echoedOnLost}`)
  return list.checks
}
