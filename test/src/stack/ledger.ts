import type { Arrival } from './server.js'

/** Everything known about one client's stream, from both ends. */
export interface LedgerInput {
  /** Messages the client's producer offered (seq 0 … count − 1). */
  count: number
  /** What the server application received from this client, in arrival order. */
  arrivals: readonly Arrival[]
  /**
   * Items handed to each connection the durable duplex made, in order, and whether that connection was
   * reported lost (`disconnected` event). The last may be the one still open (or closed by `close()`).
   */
  connections: ReadonlyArray<{ handed: number | undefined, lost: boolean }>
  /**
   * The durable duplex's final counters. `flushed`: items handed to a connection that then ended cleanly
   * both ways (our FIN, then the peer's) without retention; the transport took them, but a peer's FIN is
   * not a receipt (a middlebox that drops what it holds and sends FIN looks the same). Default 0.
   */
  stats: { handed: number, unconfirmed: number, unsent: number, dropped: number, flushed?: number }
  /** Sequence numbers the client read back (echoes), in order; omit when nothing is echoed. */
  echoes?: readonly number[]
}

/** The outcome of checking a ledger. `violations` is empty when every guarantee held. */
export interface DeliveryReport {
  handed: number
  delivered: number
  /** Handed but never delivered. */
  lost: number
  unconfirmed: number
  duplicates: number
  /** Places where the server saw a smaller seq right after a larger one, across all its connections. */
  arrivalInversions: number
  /** Connections (client side) that were lost, or closed uncleanly. */
  lostConnections: number
  violations: string[]
}

interface Range { from: number, to: number, lost: boolean }

/** Splits `[0, handed)` into the consecutive ranges each connection was handed. */
function connectionRanges (input: LedgerInput, violations: string[]): Range[] {
  const { connections, stats } = input
  const ranges: Range[] = []
  let at = 0
  let lostSum = 0
  connections.forEach((c, i) => {
    const last = i === connections.length - 1
    if (!c.lost && !last) violations.push(`connection ${i} was replaced without a 'disconnected' event`)
    const handed = c.lost ? (c.handed ?? 0) : stats.handed - at
    if (c.lost) lostSum += handed
    ranges.push({ from: at, to: at + handed, lost: c.lost })
    at += handed
  })
  if (at !== stats.handed) violations.push(`connections were handed ${at} items in total, stats.handed says ${stats.handed}`)
  const final = ranges[ranges.length - 1]
  if (stats.unconfirmed === lostSum) return ranges
  if (final !== undefined && !final.lost && stats.unconfirmed === lostSum + (final.to - final.from)) {
    final.lost = true // close() could not finish cleanly: its items are unconfirmed too
    return ranges
  }
  violations.push(`stats.unconfirmed is ${stats.unconfirmed}, but lost connections were handed ${lostSum} items`)
  return ranges
}

function checkServerConnections (arrivals: readonly Arrival[], violations: string[]): void {
  const byConn = new Map<string, number[]>()
  for (const a of arrivals) {
    let list = byConn.get(a.conn)
    if (list === undefined) byConn.set(a.conn, list = [])
    list.push(a.seq)
  }
  const spans: Array<{ conn: string, min: number, max: number }> = []
  for (const [conn, seqs] of byConn) {
    for (let i = 1; i < seqs.length; i++) {
      if (seqs[i] <= seqs[i - 1]) violations.push(`server connection ${conn}: seq ${seqs[i]} after ${seqs[i - 1]} (out of order)`)
    }
    spans.push({ conn, min: Math.min(...seqs), max: Math.max(...seqs) })
  }
  spans.sort((a, b) => a.min - b.min)
  for (let i = 1; i < spans.length; i++) {
    if (spans[i].min <= spans[i - 1].max) violations.push(`server connections ${spans[i - 1].conn} and ${spans[i].conn} carried interleaved seqs`)
  }
}

/**
 * Checks @proto/reconnect's delivery guarantee for one client, exactly:
 * - no duplicates, nothing that was never handed to a connection, every body intact (checked on arrival);
 * - order: within each server connection seqs increase, and the connections' seq ranges do not interleave;
 * - at-most-once accounting: `stats.unconfirmed` equals what the lost connections were handed;
 * - a lost connection delivered a prefix of its items (no holes), a connection that was not lost
 *   delivered all of them; so every loss lies in what `unconfirmed` counts, and `lost ≤ unconfirmed`;
 * - echoes (if any) were delivered first, and came back in order without duplicates.
 */
export function checkLedger (input: LedgerInput): DeliveryReport {
  const violations: string[] = []
  const { arrivals, stats } = input
  const delivered = new Set<number>()
  let duplicates = 0
  let arrivalInversions = 0
  arrivals.forEach((a, i) => {
    if (delivered.has(a.seq)) duplicates++
    delivered.add(a.seq)
    if (a.seq >= stats.handed) violations.push(`seq ${a.seq} arrived but only ${stats.handed} were handed`)
    if (i > 0 && a.seq < arrivals[i - 1].seq) arrivalInversions++
  })
  if (duplicates > 0) violations.push(`${duplicates} duplicate deliveries`)
  checkServerConnections(arrivals, violations)
  const ranges = connectionRanges(input, violations)
  for (const [i, r] of ranges.entries()) {
    let k = r.from
    while (k < r.to && delivered.has(k)) k++
    const holes = []
    for (let s = k; s < r.to; s++) if (delivered.has(s)) holes.push(s)
    if (holes.length > 0) violations.push(`connection ${i} [${r.from}, ${r.to}) lost seq ${k} but delivered later seqs (${holes.slice(0, 5).join(', ')}…)`)
    // the last connection, closed cleanly both ways, may miss a suffix of its items up to what `flushed` counts
    const flushedGap = i === ranges.length - 1 && r.to - k <= (stats.flushed ?? 0)
    if (!r.lost && k < r.to && !flushedGap) violations.push(`connection ${i} was not lost, yet seq ${k} of [${r.from}, ${r.to}) never arrived`)
  }
  if (stats.handed + stats.unsent + stats.dropped !== input.count) {
    violations.push(`handed ${stats.handed} + unsent ${stats.unsent} + dropped ${stats.dropped} != ${input.count} produced`)
  }
  const lost = stats.handed - delivered.size
  if (lost > stats.unconfirmed + (stats.flushed ?? 0)) violations.push(`${lost} lost > ${stats.unconfirmed} unconfirmed + ${stats.flushed ?? 0} flushed`)
  if (input.echoes !== undefined) {
    const echoes = input.echoes
    echoes.forEach((seq, i) => {
      if (!delivered.has(seq)) violations.push(`echo of seq ${seq} came back but the server never received it`)
      if (i > 0 && seq <= echoes[i - 1]) violations.push(`echo seq ${seq} after ${echoes[i - 1]}`)
    })
  }
  return {
    handed: stats.handed,
    delivered: delivered.size,
    lost,
    unconfirmed: stats.unconfirmed,
    duplicates,
    arrivalInversions,
    lostConnections: ranges.filter(r => r.lost).length,
    violations
  }
}
