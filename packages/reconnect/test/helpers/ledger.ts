import type { ReconnectStats } from '../../src/index.js'

/** Where every accepted item is now: the gauges plus the final counters. Equals `accepted` at every moment. */
export function ledgerSum (s: ReconnectStats): number {
  return s.waiting + s.buffered + s.inFlight + s.retained + s.confirmed + s.unconfirmed + s.flushed + s.dropped + s.cleared + s.rejected + s.unsent
}

/** The ledger, itemised, for readable failures. */
export function ledger (s: ReconnectStats): Record<string, number> {
  const { accepted, waiting, buffered, inFlight, retained, confirmed, unconfirmed, flushed, dropped, cleared, rejected, unsent } = s
  return { accepted, sum: ledgerSum(s), waiting, buffered, inFlight, retained, confirmed, unconfirmed, flushed, dropped, cleared, rejected, unsent }
}
