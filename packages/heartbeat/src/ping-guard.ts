import { PING_INTERVAL_TOLERANCE } from './constants.js'
import { TooManyPingsError } from './errors.js'

/**
 * The server-side guard against peers that ping too often (gRPC's `too_many_pings`): a ping less than
 * 90 % of `minPingInterval` after the previous one is a strike; more than `maxStrikes` strikes and the
 * peer is closed. Like gRPC, data we sent since the previous ping forgives earlier strikes: the peer may
 * ping to measure an active link.
 */
export class PingGuard {
  private lastPingAt: number | undefined
  private strikes = 0

  constructor (private readonly minPingInterval: number, private readonly maxStrikes: number) {}

  /** Records a ping at `now`; returns the error to close the peer with once it has struck out. */
  check (now: number, sender: { sentDataSince(at: number): boolean }): TooManyPingsError | undefined {
    const last = this.lastPingAt
    this.lastPingAt = now
    if (last === undefined) return undefined
    if (sender.sentDataSince(last)) this.strikes = 0
    const gap = now - last
    if (gap >= this.minPingInterval * (1 - PING_INTERVAL_TOLERANCE)) return undefined
    if (++this.strikes <= this.maxStrikes) return undefined
    return new TooManyPingsError(gap, this.minPingInterval)
  }
}
