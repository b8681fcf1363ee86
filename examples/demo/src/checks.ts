import type { FaultProxyStats } from '@proto/fault-proxy'
import type { ReconnectStats } from '@proto/reconnect'
import type { ClientTally } from './demo.js'
import type { FaultCounts } from './faults.js'
import type { ResolvedOptions } from './options.js'
import type { ServerTally } from './server.js'
import type { Check, DemoSummary } from './summary.js'

export interface CheckInput {
  o: ResolvedOptions
  sent: number
  durationMs: number
  error: string | undefined
  client: ClientTally
  server: ServerTally | undefined
  stats: ReconnectStats | undefined
  proxy: FaultProxyStats | undefined
  faults: FaultCounts | undefined
  percentile(values: ArrayLike<number>, q: number): number
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
 * Turns the tallies into the summary and checks the guarantees @proto documents (reconnect's README,
 * "Delivery guarantee"): order kept, nothing duplicated or corrupted, every item accepted ends in exactly
 * one counter, and what outages lost is bounded by reconnect's own count — exactly per connection.
 */
export function check (input: CheckInput): DemoSummary {
  const { o, sent, client, percentile } = input
  const server = input.server ?? { received: 0, receivedByEpoch: [], echoedByEpoch: [], duplicates: 0, outOfOrder: 0, late: 0, corrupted: 0, connections: 0, heartbeatTimeouts: 0 }
  const r = input.stats ?? { handed: 0, unconfirmed: 0, dropped: 0, unsent: 0, discardedInbound: 0, attempts: 0, reconnects: 0 }
  const lost = client.lostEpochs
  const isLost = (e: number): boolean => lost.has(e)
  const lostUp = sent - server.received
  const lostDown = server.received - client.delivered
  const checks: Check[] = []
  const add = (name: string, ok: boolean, detail: string): void => { checks.push({ name, ok, detail }) }

  add('all sent', input.error === undefined && sent === o.messages, `${sent} of ${o.messages} accepted by the durable sink`)
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

  const durationS = input.durationMs / 1000
  const p = input.proxy
  const f = input.faults ?? { finCuts: 0, resetCuts: 0, linkChanges: 0 }
  return {
    ok: input.error === undefined && checks.every(c => c.ok),
    error: input.error,
    seed: o.seed,
    faults: o.faults,
    messages: o.messages,
    size: o.size,
    sent,
    receivedByServer: server.received,
    delivered: client.delivered,
    lost: sent - client.delivered,
    lostUp,
    lostDown,
    duplicated: server.duplicates + client.duplicates,
    outOfOrder: server.outOfOrder + client.outOfOrder,
    corrupted: server.corrupted + client.corrupted,
    lateFromOldConnection: server.late,
    connections: client.connections,
    reconnects: r.reconnects,
    lostConnections: lost.size,
    heartbeatTimeouts: { client: client.heartbeatTimeouts, server: server.heartbeatTimeouts },
    rtt: {
      echoP50: percentile(client.echoRtt, 0.5),
      echoP99: percentile(client.echoRtt, 0.99),
      heartbeatP50: percentile(client.heartbeatRtt, 0.5),
      heartbeatP99: percentile(client.heartbeatRtt, 0.99)
    },
    durationMs: input.durationMs,
    throughput: { messagesPerSecond: client.delivered / durationS, bytesPerSecond: client.delivered * o.size / durationS },
    reconnect: { handed: r.handed, unconfirmed: r.unconfirmed, dropped: r.dropped, unsent: r.unsent, discardedInbound: r.discardedInbound, attempts: r.attempts },
    proxy: {
      connections: 0, activeConnections: 0, refused: 0, bytesReadUp: 0, bytesReadDown: 0, readsUp: 0, readsDown: 0, bufferedBytes: 0,
      bytesUp: 0, bytesDown: 0, writesUp: 0, writesDown: 0, cuts: 0, connectionsCut: 0, blackHoles: 0, discardedBytes: 0, faults: 0,
      ...p,
      ...f
    },
    checks
  }
}
