/**
 * The stage's time-based decisions, as pure functions of the clock readings: when to ping, when the peer
 * is dead, when to look again. The stage applies the outcome (sends, fails, arms its one timer); nothing
 * here has side effects, so the rules are tested as a table.
 */

/** The two clocks of a stage, in clock milliseconds. */
export interface Clocks {
  /** When we last handed anything to the connection. */
  readonly lastSentAt: number
  /** When we last read a frame from the peer (or reading resumed after our own backpressure). */
  readonly lastReceivedAt: number
}

/**
 * The interval and timeout in force, read at every decision: a fixed pair (after HELLO and the adaptive
 * timeout, `Peer`), or the adaptive interval (`AdaptivePolicy`).
 */
export interface KeepAlivePolicy {
  /** Ping when nothing was sent for this long; 0: never. */
  readonly interval: number
  /** The peer is dead when nothing was received for this long; 0: never. */
  readonly timeout: number
  /** When the policy itself needs to look again at `now` (`Infinity` or absent: never); the stage's timer fires by then. */
  wakeAt?(now: number): number
}

/** What the stage's state allows right now. */
export interface Gates {
  /** Writing is open and no ping is already waiting to go out. */
  readonly canPing: boolean
  /** The receive clock runs: reading is open and not paused by our own backpressure. */
  readonly watching: boolean
  /** The timer fired late (or input is still being read after a late firing): judge nobody yet. */
  readonly stalled: boolean
  /**
   * Since when pending input has surely had a chance to be read: the start of the last completed yield to
   * input (every phase of the event loop ran after it); `-Infinity` before any. The peer is judged only once
   * that moment is past its deadline: the frame that proves it alive may sit unread in our socket (or, for a
   * peer in this same process, behind our own overdue timers) whenever this process was kept from running.
   */
  readonly inputReadAt: number
  /** When a closing stage gives up (`Infinity` when not closing or nothing bounds it). */
  readonly deadline: number
}

export type Decision =
  /** Send a ping now, then look again at `until` (if the ping's hand-off does not move it sooner). */
  | { readonly action: 'ping', readonly until: number }
  /** Nothing to do until `until` (`Infinity`: nothing is due at all). */
  | { readonly action: 'wait', readonly until: number }
  /** The peer was silent for `silence` ms, longer than the timeout. */
  | { readonly action: 'dead', readonly silence: number }
  /**
   * The peer looks dead, but pending input must be read first (then decide again); `ping`: our own ping is
   * due as well and goes out now, so that judging the peer never keeps us from proving ourselves alive.
   */
  | { readonly action: 'yield', readonly ping: boolean }
  /** The close deadline passed. */
  | { readonly action: 'expire' }

const YIELD: Decision = Object.freeze({ action: 'yield', ping: false })
const YIELD_AND_PING: Decision = Object.freeze({ action: 'yield', ping: true })
const EXPIRE: Decision = Object.freeze({ action: 'expire' })

/** When the peer must have been heard from (`Infinity` when the receive clock does not run). */
export function deadAt (clocks: Clocks, policy: KeepAlivePolicy, gates: Gates): number {
  return policy.timeout > 0 && gates.watching ? clocks.lastReceivedAt + policy.timeout : Infinity
}

/** When the next ping is due (`Infinity` when none may be sent). */
export function pingAt (clocks: Clocks, policy: KeepAlivePolicy, gates: Gates): number {
  return policy.interval > 0 && gates.canPing ? clocks.lastSentAt + policy.interval : Infinity
}

/** The earliest moment anything is due: the next ping, the dead-peer deadline or the close deadline. */
export function nextDue (clocks: Clocks, policy: KeepAlivePolicy, gates: Gates): number {
  return Math.min(pingAt(clocks, policy, gates), deadAt(clocks, policy, gates), gates.deadline)
}

/**
 * What to do at `now`. Order: the close deadline, then the dead peer, then the ping. A silent peer is first
 * answered with `yield` (read pending input), and judged dead only when it is still silent after that.
 */
export function decide (now: number, clocks: Clocks, policy: KeepAlivePolicy, gates: Gates): Decision {
  if (now >= gates.deadline) return EXPIRE
  const dead = deadAt(clocks, policy, gates)
  const ping = pingAt(clocks, policy, gates)
  if (now >= dead) {
    if (gates.stalled || gates.inputReadAt < dead) return now >= ping ? YIELD_AND_PING : YIELD
    return { action: 'dead', silence: now - clocks.lastReceivedAt }
  }
  const until = Math.min(dead, gates.deadline)
  if (now >= ping) return { action: 'ping', until }
  return { action: 'wait', until: Math.min(ping, until) }
}
