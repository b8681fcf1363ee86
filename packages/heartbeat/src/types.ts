import type { Frame, FrameDuplex, Hello } from '@proto/codec'
import type { AbortOptions } from '@proto/interface'
import type { Source } from 'it-stream-types'
import type { HeartbeatEvents, HeartbeatListener } from './events.js'
import type { RttStats } from './rtt.js'

/** The upper source: the peer's data frames (never its pings and pongs). Single consumer. */
export interface HeartbeatSource extends AsyncIterableIterator<Frame> {
  /** Every queued frame at once (or the next to arrive); `undefined` at the end. For stages above. */
  nextBatch(): Promise<Frame[] | undefined>
}

/** A snapshot of one heartbeat stage. Times are in the stage's clock (`performance.now()` by default), in ms. */
export interface HeartbeatStats {
  /** Round-trip times of our pings over the last `rttSamples` pongs. */
  rtt: RttStats
  /** Pings we handed to the connection. */
  pingsSent: number
  /** Pongs that arrived (matched or not). */
  pongsReceived: number
  /** Pings the peer sent us. */
  pingsReceived: number
  /** Pongs we handed to the connection. */
  pongsSent: number
  /** Pings we sent while the previous one was still unanswered. */
  missed: number
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
  /** The ping interval in force (after HELLO). */
  interval: number
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
 * A frame duplex with keep-alive: `source` yields every inbound frame that is not a ping or pong,
 * `sink` sends the user's frames (pings and pongs go ahead of them).
 */
export interface HeartbeatDuplex extends FrameDuplex {
  source: HeartbeatSource
  sink(source: Source<Frame>): Promise<void>
  /** Finish writing, wait for the peer to finish (bounded by `closeTimeout`), release everything. Idempotent. */
  close(options?: AbortOptions): Promise<void>
  /** Destroy the connection now; `source` and `sink` fail with `err`. Idempotent. */
  abort(err: Error): void
  /**
   * The peer's HELLO (version, flags, its interval and timeout) once it has arrived and was accepted, for
   * stages above that negotiate features by HELLO flags. Resolves with `undefined` with `hello: false`, or
   * when the stage ends or fails before an acceptable HELLO arrived. Never rejects.
   */
  readonly peerHello: Promise<Hello | undefined>
  /** Counters, RTT and clock state. */
  stats(): HeartbeatStats
  /** Adds a listener; returns a function that removes it. Listeners are dropped after `closed`. */
  on<K extends keyof HeartbeatEvents>(type: K, listener: HeartbeatListener<K>): () => void
  /** Removes a listener. */
  off<K extends keyof HeartbeatEvents>(type: K, listener: HeartbeatListener<K>): void
  /** Listeners currently registered for `type`. */
  listenerCount(type: keyof HeartbeatEvents): number
}
