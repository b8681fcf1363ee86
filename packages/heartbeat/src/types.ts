import type { Frame, FrameDuplex, Hello } from '@proto/codec'
import type { AbortOptions, BatchIterator, PushSource, SinkWatcher, TypedEventTarget } from '@proto/interface'
import type { Source } from 'it-stream-types'
import type { HeartbeatEvents } from './events.js'
import type { IntervalReason } from './interval.js'
import type { RttStats } from './rtt.js'

/**
 * The upper source: the peer's data frames (never the control frames the stage handles). Single consumer:
 * read it (`for await`, `nextBatch()`), or a sink that takes pushes (another stage's) subscribes to it.
 */
export interface HeartbeatSource extends AsyncIterableIterator<Frame>, BatchIterator<Frame>, Pick<PushSource<Frame>, 'subscribe' | 'resume'> {
  /** Every queued frame at once (or the next to arrive); `undefined` at the end. For stages above. */
  nextBatch(): Promise<Frame[] | undefined>
}

/** A snapshot of one heartbeat stage. Times are in the stage's clock (`performance.now()` by default), in ms. */
export interface HeartbeatStats {
  /** Round-trip times of our pings over the last `rttSamples` pongs. */
  rtt: RttStats
  /** Pings (keep-alive frames in mode `'keepalive'`) we handed to the connection. */
  pingsSent: number
  /** Pongs that arrived (matched or not). */
  pongsReceived: number
  /** Pings (keep-alive frames in mode `'keepalive'`) the peer sent us. */
  pingsReceived: number
  /** Pongs we handed to the connection. */
  pongsSent: number
  /** Pongs not sent because too many were waiting to go out (a peer pinging faster than it reads). */
  pongsDropped: number
  /** Pings we sent while the previous one was still unanswered. */
  missed: number
  /**
   * Frames the sink's source gave the stage that were never handed to the connection because the stage
   * had stopped writing (going away, a protocol violation, an abort). Frames its source had not given yet
   * are not counted: they were never taken.
   */
  unsentFrames: number
  /** The last GOAWAY the peer sent, if any. */
  goAway: {
    /** The GOAWAY code (a `GoAwayCode` from `@proto/codec`). */
    code: number
    /** The peer's explanation, for people; may be empty. */
    reason: string
  } | undefined
  /** When we last sent: exact for control frames; for data frames, the latest check that saw data go out. */
  lastSentAt: number
  /** When a frame from the peer was last read (or reading resumed after our own backpressure). */
  lastReceivedAt: number
  /** How late the stage's timer fired last time, in ms (event-loop lag). */
  eventLoopLag: number
  /** The largest lag seen. */
  maxEventLoopLag: number
  /** Timer firings later than `stallThreshold`. */
  stalls: number
  /**
   * The ping interval in force (after HELLO; with `adaptiveInterval`, as adapted — a ping whose previous one
   * is still unanswered follows after `intervalBounds.min`).
   */
  interval: number
  /** Why `interval` has its value (see `IntervalReason`). */
  intervalReason: IntervalReason
  /** The bounds of the interval after HELLO (`min` = `max` = `interval` when it is fixed). */
  intervalBounds: {
    /** The shortest interval, in ms. */
    min: number
    /** The longest interval, in ms. */
    max: number
  }
  /** The dead-peer timeout in force (after HELLO and adaptation). */
  timeout: number
  /** Data frames waiting for the consumer. */
  queuedFrames: number
  /** Data body bytes waiting for the consumer. */
  queuedBytes: number
  /** Whether reading from the connection is paused because the consumer is behind. */
  paused: boolean
}

/**
 * A frame duplex with keep-alive: `source` yields every inbound frame that is not a control frame the
 * stage handles, `sink` sends the user's frames (control frames go ahead of them). Events (`rtt`, `ping`,
 * `timeout`, `stall`, `goaway`, `interval`, `closed`) are `CustomEvent`s: `link.addEventListener('rtt', (e) => e.detail.rtt)`.
 */
export interface HeartbeatDuplex extends FrameDuplex, TypedEventTarget<HeartbeatEvents> {
  /** The peer's data frames; control frames the stage handles are not yielded. Single consumer. */
  source: HeartbeatSource
  /**
   * Sends the frames of `source` (control frames go ahead of them). Resolves when our writing has ended
   * (everything handed down, then FIN); rejects with the stage's failure. Call it once.
   */
  sink(source: Source<Frame>): Promise<void>
  /**
   * As `sink(source)`, with how the writing ended told to `watcher.onSinkEnd(err?)` (from a microtask)
   * instead of a promise (`PushSinkable` in `@proto/interface`). A heartbeat's link has it; optional here
   * so that a duplex made by hand (a test's, a custom stack's) still fits.
   */
  sinkPush?(source: PushSource<Frame>, watcher: SinkWatcher): void
  /**
   * Finish writing (everything the sink accepted and what its source yields until it ends), then FIN,
   * then wait for the peer to finish; aborts with `CloseTimeoutError` after `closeTimeout` without
   * progress. Idempotent.
   */
  close(options?: AbortOptions): Promise<void>
  /** Destroy the connection now; `source` and `sink` fail with `err`. Idempotent. */
  abort(err: Error): void
  /** The lower duplex's `goingAway`, forwarded: aborted when the owner asks the connection to end gracefully. */
  readonly goingAway?: AbortSignal
  /** Counters, RTT and clock state. */
  stats(): HeartbeatStats
  /**
   * The peer's HELLO (version, flags, its interval and timeout) once it was accepted, for stages above that
   * negotiate features through its flags (`@proto/session`); `undefined` with `hello: false`, or when the
   * stage ends before a HELLO arrives.
   */
  readonly peerHello: Promise<Hello | undefined>
}
