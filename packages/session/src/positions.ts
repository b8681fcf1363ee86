import type { Frame } from '@proto/codec'
import { MAX_POSITION } from './constants.js'
import { SessionProtocolError } from './errors.js'
import type { SessionState } from './state.js'

/** What a connection's positions need from it (the connection itself: no object or closure of their own). */
export interface PositionsOwner {
  /** Nothing this connection does counts any more. */
  readonly fenced: boolean
  /** Confirms the `count` oldest unconfirmed items to reconnect (`DialContext.confirm`). */
  confirmOut(count: number): void
}

/**
 * One connection's view of our outbound positions: the last one reconnect fed it, and what the peer has
 * (by its RESUME, then its ACKs). Numbers what is fed, from the first unacknowledged position on; writes
 * only what the peer lacks; confirms to reconnect what the peer has, as it is fed.
 */
export class Positions {
  /** The last position fed to this connection. */
  lastFed: number
  /** Items up to here the peer has: its RESUME said so, or it acknowledged them. */
  peerHas = 0
  /**
   * Items up to here the peer's RESUME said it has. Positions are implicit on the wire: the peer numbers what
   * arrives on this connection from here on, so only these may be left out. An ACK on this connection may
   * cover more (its application took items an earlier connection had handed up), but what it covers beyond
   * this point is written all the same: the peer drops those as duplicates.
   */
  resumeHas = 0

  constructor (private readonly state: SessionState, private readonly owner: PositionsOwner) {
    this.lastFed = state.outAcked
  }

  /** The peer's RESUME: it has everything below `next`. */
  resumeAt (next: number): void {
    const s = this.state
    const has = next - 1
    if (has > s.outSent) throw new SessionProtocolError(`expected the peer to resume at most at ${s.outSent + 1} (we sent ${s.outSent} items), but it asked for ${next}`)
    if (has < s.outAcked) throw new SessionProtocolError(`expected the peer to resume at ${s.outAcked + 1} or later (it acknowledged ${s.outAcked} items), but it asked for ${next}: it lost what it acknowledged`)
    this.peerHas = has
    this.resumeHas = has
  }

  /** An ACK: the peer's application has everything up to `position`. */
  acked (position: number): void {
    const s = this.state
    if (position > s.outSent) throw new SessionProtocolError(`expected an ACK of at most ${s.outSent} (what we sent), but got ${position}`)
    s.counters.acksReceived++
    if (position > this.peerHas) this.peerHas = position
    this.confirmUpTo()
  }

  /**
   * Numbers a fed batch; returns the frames to write (those the peer lacks). Throws `SessionProtocolError`
   * rather than number past 2^53 − 1.
   */
  number (items: Frame[]): Frame[] {
    const s = this.state
    const first = this.lastFed + 1
    const last = this.lastFed + items.length
    if (last > MAX_POSITION) throw new SessionProtocolError('this session has numbered 2^53 − 1 items, the most a position can hold; start a new session')
    this.lastFed = last
    let out = items
    if (first <= this.resumeHas) {
      const skip = Math.min(items.length, this.resumeHas - first + 1)
      s.counters.skipped += skip
      out = skip === items.length ? [] : items.slice(skip)
    }
    const firstSent = last - out.length + 1
    if (firstSent <= s.outSent) s.counters.resent += Math.min(out.length, s.outSent - firstSent + 1)
    if (last > s.outSent) s.outSent = last
    s.counters.sent += out.length
    this.confirmUpTo()
    return out
  }

  /** Confirms to reconnect every item fed here that the peer has. */
  private confirmUpTo (): void {
    const s = this.state
    const upTo = Math.min(this.peerHas, this.lastFed)
    if (upTo <= s.outAcked || this.owner.fenced) return
    const count = upTo - s.outAcked
    // moved first: confirming makes room, and a feed that pushes may number more within this call
    s.outAcked = upTo
    this.owner.confirmOut(count)
    s.onChange?.()
  }
}
