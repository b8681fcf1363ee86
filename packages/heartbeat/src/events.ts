import type { HeartbeatTimeoutError } from './errors.js'
import type { IntervalReason } from './interval.js'

/** The events of a heartbeat stage, by type: each is a `CustomEvent` whose `detail` is given here. */
export interface HeartbeatEvents {
  /** A pong matched one of our pings. */
  rtt: { rtt: number }
  /** We handed a ping to the connection. `outstanding` counts our pings still waiting for a pong, this one included. */
  ping: { outstanding: number }
  /** The peer was declared dead; the connection has been destroyed with this error. */
  timeout: HeartbeatTimeoutError
  /** Our timer fired `lag` ms late: the event loop was blocked. Input is read before the peer is judged. */
  stall: { lag: number }
  /** The peer sent GOAWAY: it is closing the connection. `final`: it asks not to reconnect. */
  goaway: { code: number, reason: string, final: boolean }
  /**
   * The ping interval changed (with `adaptiveInterval`, or when HELLO raised a fixed one): the new `interval`,
   * the `previous` one, why, and the dead-peer `timeout` now in force, all in ms. The interval a stage
   * starts with is in `stats()`.
   */
  interval: { interval: number, previous: number, reason: IntervalReason, timeout: number }
  /** The stage has finished: both directions ended, or it failed with `error`. Dispatched once. */
  closed: { error: Error | undefined }
}

/** Where the parts of a stage dispatch events: the stage's public object. */
export interface EventSink {
  safeDispatchEvent<K extends keyof HeartbeatEvents & string>(type: K, detail: HeartbeatEvents[K]): boolean
}
