import type { ReconnectStats } from '@proto/reconnect'
import type { ServerTally } from './server.js'
import type { Check } from './summary.js'
import type { ClientTally } from './traffic.js'

/** What the guarantees are judged on. */
export interface CheckInput {
  messages: number
  sent: number
  error: string | undefined
  /** Stopped early: "all sent" is not judged, the rest cover what was sent. */
  interrupted: boolean
  client: ClientTally
  server: ServerTally
  stats: Pick<ReconnectStats, 'handed' | 'unconfirmed' | 'dropped' | 'unsent'>
}

/** What each check means, in one line (the report shows it beside the result). */
export const CHECK_HELP: Record<string, string> = {
  'all sent': 'the client\'s durable sink accepted every message, within the duration limit',
  'no duplicates': 'no message reaches the server twice, no echo reaches the client twice',
  'in order': 'sequence numbers only grow: per server connection, and in the client\'s echo stream across reconnections',
  'no corruption': 'every message and echo has the right size and CRC-32',
  'every message counted once': 'reconnect\'s counters: handed + dropped + unsent = sent',
  'losses within reconnect\'s count': 'what never reached the server is at most what reconnect reports as unconfirmed, dropped or unsent',
  'unconfirmed = handed to lost connections': 'reconnect\'s unconfirmed equals the messages handed to connections it declared lost',
  'connections not lost lost nothing (out)': 'everything handed to a connection that was not lost reached the server',
  'connections not lost lost nothing (back)': 'every echo the server sent on a connection that was not lost reached the client',
  'echo losses only on lost connections': 'echoes that never arrived are at most the echoes sent on lost connections'
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

/**
 * Checks the guarantees @proto documents (reconnect's README, "Delivery guarantee"): order kept, nothing
 * duplicated or corrupted, every item accepted ends in exactly one counter, and what outages lost is
 * bounded by reconnect's own count — exactly per connection.
 */
export function checkGuarantees (input: CheckInput): Check[] {
  const { sent, client, server, stats: r } = input
  const lost = client.lostEpochs
  const isLost = (e: number): boolean => lost.has(e)
  const lostUp = sent - server.received
  const lostDown = server.received - client.delivered
  const checks: Check[] = []
  const add = (name: string, ok: boolean, detail: string): void => { checks.push({ name, ok, detail }) }

  if (input.interrupted && input.error === undefined) {
    checks.push({ name: 'all sent', ok: true, skipped: true, detail: `interrupted after ${sent} of ${input.messages}; the other checks cover those ${sent}` })
  } else {
    add('all sent', input.error === undefined && sent === input.messages, `${sent} of ${input.messages} accepted by the durable sink`)
  }
  add('no duplicates', server.duplicates + client.duplicates === 0, `${server.duplicates} at the server, ${client.duplicates} at the client`)
  add('in order', server.outOfOrder + client.outOfOrder === 0, `${server.outOfOrder} out of order on a server connection, ${client.outOfOrder} in the client's echo stream`)
  add('no corruption', server.corrupted + client.corrupted === 0, `${server.corrupted} bad at the server, ${client.corrupted} bad at the client (size and CRC-32 checked)`)
  const counted = r.handed + r.dropped + r.unsent
  add('every message counted once', counted === sent, `handed ${r.handed} + dropped ${r.dropped} + unsent ${r.unsent} = ${counted}, sent ${sent}`)
  const bound = r.unconfirmed + r.dropped + r.unsent
  add('losses within reconnect\'s count', lostUp <= bound, `sent − received by server = ${lostUp} ≤ unconfirmed + dropped + unsent = ${bound}`)
  const handedOnLost = sum(client.handedByEpoch, isLost)
  add('unconfirmed = handed to lost connections', handedOnLost === r.unconfirmed, `${handedOnLost} handed to the ${lost.size} lost connections, reconnect counts ${r.unconfirmed}`)
  const upMismatch = mismatches(client.handedByEpoch, server.receivedByEpoch, lost)
  add('connections not lost lost nothing (out)', upMismatch.length === 0, upMismatch.length === 0 ? 'every message handed to a surviving connection reached the server' : `handed vs received: ${upMismatch.join(', ')}`)
  const downMismatch = mismatches(server.echoedByEpoch, client.deliveredByEpoch, lost)
  add('connections not lost lost nothing (back)', downMismatch.length === 0, downMismatch.length === 0 ? 'every echo sent on a surviving connection reached the client' : `echoed vs delivered: ${downMismatch.join(', ')}`)
  const echoedOnLost = sum(server.echoedByEpoch, isLost)
  add('echo losses only on lost connections', lostDown <= echoedOnLost, `received − delivered = ${lostDown} ≤ echoes sent on lost connections = ${echoedOnLost}`)

  return checks
}
