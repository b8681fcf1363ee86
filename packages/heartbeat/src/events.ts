import type { HeartbeatTimeoutError } from './errors.js'
import type { IntervalReason } from './interval.js'

/** The events of a heartbeat stage, by type: each is a `CustomEvent` whose `detail` is given here. */
export interface HeartbeatEvents {
  /** A pong matched one of our pings. */
  rtt: {
    /** That ping's round-trip time, in ms. */
    rtt: number
  }
  /** We handed a ping to the connection. `outstanding` counts our pings still waiting for a pong, this one included. */
  ping: {
    /** Our pings without a pong yet, this one included. */
    outstanding: number
  }
  /** The peer was declared dead; the connection has been destroyed with this error. */
  timeout: HeartbeatTimeoutError
  /** Our timer fired `lag` ms late: the event loop was blocked. Input is read before the peer is judged. */
  stall: {
    /** How late the timer fired, in ms. */
    lag: number
  }
  /** The peer sent GOAWAY: it is closing the connection. `final`: it asks not to reconnect. */
  goaway: GoAwayDetail
  /**
   * The ping interval changed (with `adaptiveInterval`, or when HELLO raised a fixed one): the new `interval`,
   * the `previous` one, why, and the dead-peer `timeout` now in force, all in ms. The interval a stage
   * starts with is in `stats()`.
   */
  interval: {
    /** The ping interval now in force, in ms. */
    interval: number
    /** The interval before this change, in ms. */
    previous: number
    /** Why it changed. */
    reason: IntervalReason
    /** The dead-peer timeout now in force, in ms. */
    timeout: number
  }
  /** The stage has finished: both directions ended, or it failed with `error`. Dispatched once. */
  closed: {
    /** What the stage failed with; `undefined` after a clean end of both directions. */
    error: Error | undefined
  }
}

/** What the `goaway` event carries. */
export interface GoAwayDetail {
  /** The GOAWAY code (a `GoAwayCode` from `@proto/codec`, or a code this version does not know). */
  code: number
  /** The peer's explanation, for people; may be empty. */
  reason: string
  /** Whether the code is `DO_NOT_RETRY`: the peer asks not to reconnect. */
  final: boolean
}

/**
 * A consumer subscribed to a heartbeat's source (push mode) may also take the peer's GOAWAY: `goAway()` is
 * called when the frame is read, as the `goaway` event is dispatched, ahead of frames still queued before
 * it. A stage above that must know (a session) needs no event listener, and so no listener map, per
 * connection.
 */
export interface GoAwayTarget {
  /** The peer's GOAWAY, as it was read: its code, its reason, and whether it asks not to reconnect. */
  goAway?(detail: GoAwayDetail): void
}

/** Where the parts of a stage dispatch events: the stage's public object. */
export interface EventSink {
  /** Whether anyone listens to `type` (ask first where building the detail costs an allocation per frame). */
  hasListeners(type: keyof HeartbeatEvents & string): boolean
  safeDispatchEvent<K extends keyof HeartbeatEvents & string>(type: K, detail: HeartbeatEvents[K]): boolean
}
