/**
 * The counters of a durable duplex. Every item the user's sink takes is counted once in `accepted` and,
 * at every moment, sits in exactly one place: a gauge (`waiting`, `buffered`, `inFlight`, `retained`,
 * kept by the parts that hold the items) or one of the final counters below.
 */
export interface Ledger {
  accepted: number
  handed: number
  replayed: number
  confirmed: number
  unconfirmed: number
  flushed: number
  dropped: number
  cleared: number
  rejected: number
  unsent: number
  discardedInbound: number
  attempts: number
  connects: number
  reconnects: number
}

export function createLedger (): Ledger {
  return {
    accepted: 0,
    handed: 0,
    replayed: 0,
    confirmed: 0,
    unconfirmed: 0,
    flushed: 0,
    dropped: 0,
    cleared: 0,
    rejected: 0,
    unsent: 0,
    discardedInbound: 0,
    attempts: 0,
    connects: 0,
    reconnects: 0
  }
}
