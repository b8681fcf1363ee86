import { PING_INTERVAL_TOLERANCE } from './constants.js'
import { TooManyPingsError } from './errors.js'

/**
 * The server-side guard against peers that ping too often (gRPC's `too_many_pings`), as a rate: pings may
 * come one per 90 % of `minPingInterval` on average. Each ping that conforms moves the moment the next one
 * is due on by that much; a ping earlier than its due moment, less `held`, is a strike, and more than
 * `maxStrikes` strikes close the peer. `held` is how long the connection may have held pings back (the
 * stage's timeout: a longer silence ends the connection anyway): a peer that pinged on time while a stall
 * (ours, or the network's) held its pings back catches up without a strike, however close together they
 * arrive, and a flood spends that allowance in a few pings. Like gRPC, data we sent since the previous ping
 * forgives earlier strikes, and the rate starts afresh: the peer may ping to measure an active link.
 */
export class PingGuard {
  private lastPingAt: number | undefined
  /** When the next ping is due at the earliest, before what a stall may have held back. */
  private dueAt = -Infinity
  private strikes = 0

  constructor (private readonly minPingInterval: number, private readonly maxStrikes: number) {}

  /** Records a ping read at `now`; returns the error to close the peer with once it has struck out. */
  check (now: number, held: number, sender: { sentDataSince(at: number): boolean }): TooManyPingsError | undefined {
    const last = this.lastPingAt
    this.lastPingAt = now
    if (last !== undefined && sender.sentDataSince(last)) {
      this.strikes = 0
      this.dueAt = -Infinity
    }
    if (now >= this.dueAt - held) {
      this.dueAt = Math.max(this.dueAt, now) + this.minPingInterval * (1 - PING_INTERVAL_TOLERANCE)
      return undefined
    }
    if (++this.strikes <= this.maxStrikes) return undefined
    return new TooManyPingsError(last === undefined ? 0 : now - last, this.minPingInterval)
  }
}
