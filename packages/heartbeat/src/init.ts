import type { Clock, Timers } from '@proto/interface'
import type { IntervalMemory } from './memory.js'

/** Bounds of the adaptive dead-peer timeout: `timeout = clamp(interval + multiplier × p99(RTT), min, max)`. */
export interface AdaptiveInit {
  /**
   * The shortest timeout the adaptation may choose, in milliseconds. Must be above `interval`.
   * @default 1.5 × interval
   */
  min?: number
  /**
   * The longest timeout the adaptation may choose, in milliseconds.
   * @default 4 × timeout
   */
  max?: number
  /**
   * How many 99th-percentile round trips of slack to allow on top of the interval.
   * @default 4
   */
  multiplier?: number
}

/**
 * An adaptive ping interval (`adaptiveInterval`): shorter on a poor link, longer on a stable one, between
 * `min` and `max`, starting at `interval`. The dead-peer timeout follows it: `interval in force + grace`.
 */
export interface AdaptiveIntervalInit {
  /**
   * The shortest interval, in milliseconds: where a late or missing pong, RTT jitter, stalled writes or a
   * recent reconnect bring it. Raised to the peer's `minPingInterval` when its HELLO gives one. At most
   * `interval`; keep it well above the RTT.
   * @default interval / 3
   */
  min?: number
  /**
   * The longest interval, in milliseconds: where a run of on-time pongs takes it. At least `interval`; keep
   * it under the idle limit of the middleboxes on the path (or let `probeIdleLimit` find it).
   * @default 3 × interval
   */
  max?: number
  /**
   * How long to wait beyond the interval in force before declaring the peer dead, in milliseconds: the
   * pings sent meanwhile (one each `min` while a ping is unanswered) get this long to be answered.
   * @default (timeout / interval − 1) × min: at `min`, the timeout is what a fixed `min` interval with the same ratio gives
   */
  grace?: number
  /**
   * On-time pongs in a row before the interval grows one step. Doubled after each sign of a poor link (at
   * most 8×), halved again by each step.
   * @default 3
   */
  growAfter?: number
  /**
   * Each growth step multiplies the interval by this (above 1), up to `max`.
   * @default 2
   */
  growFactor?: number
  /**
   * RTT spread, in milliseconds, below which the link always counts as steady. Above it, a pong more than
   * twice the median RTT late, or a p90 more than twice the p10, is a sign of a poor link.
   * @default 100
   */
  jitter?: number
  /**
   * Where to carry what was learned across connections to one address: the last interval, a loss (the next
   * connection starts at `min`), the peer's ping minimum, the path's idle limit. Make one with
   * `intervalMemory()` per address and pass it to every connection to that address (e.g. from a
   * reconnecting dial function).
   * @default none
   */
  memory?: IntervalMemory
  /**
   * Search for the longest idle gap the path survives (a NAT or load balancer that drops idle flows) and stay
   * under it: a connection lost right after a gap longer than any known to survive marks that gap as too
   * long, and later connections search between the two. Needs `memory`.
   * @default false
   */
  probeIdleLimit?: boolean
  /**
   * The random source, returning numbers in [0, 1), of the coin that `crossing: 'toss'` tosses when both
   * sides ping at the same moment. Inject a seeded one for deterministic tests.
   * @default the stage's `random`
   */
  random?: () => number
}

/** Options of `heartbeat()`. Every field is optional; durations are in milliseconds. */
export interface HeartbeatInit {
  /**
   * How the stage keeps the link alive. `'ping'`: PING frames answered by PONG frames (RTT, HELLO, the
   * ping guard). `'keepalive'`: for layouts without a type byte (`formats.int32`, `formats.lengthPrefixed`)
   * and peers that know no ping: an empty DATA frame is sent when nothing was sent for `interval`, inbound
   * empty frames are never handed up nor answered, and the peer is judged by inbound silence alone.
   * @default 'ping'
   */
  mode?: 'ping' | 'keepalive'
  /**
   * Send a PING (a keep-alive frame) when nothing has been sent for this long. `0` never pings (only
   * answers and watches).
   * @default 15000
   */
  interval?: number
  /**
   * Declare the peer dead when nothing has been received for this long. Must be above `interval`.
   * `0` never declares the peer dead.
   * @default 45000
   */
  timeout?: number
  /**
   * Let the timeout follow the measured RTT within bounds (see {@link AdaptiveInit}). `true` uses the
   * default bounds.
   * @default false
   */
  adaptive?: boolean | AdaptiveInit
  /**
   * Adapt the ping interval to the link within bounds (see {@link AdaptiveIntervalInit}); `interval` is where
   * it starts and the timeout follows it. `true` uses the default bounds. Exclusive with `adaptive`. Both
   * sides agree on the interval and the timeout through HELLO (docs/PROTOCOL.md §3.4); without HELLO the
   * stage assumes its peer may stay silent for `max`.
   * @default false
   */
  adaptiveInterval?: boolean | AdaptiveIntervalInit
  /**
   * Send a HELLO frame first and expect one from the peer; both sides then use the larger interval and the
   * larger timeout. Leave off to talk to peers that do not speak HELLO.
   * @default false
   */
  hello?: boolean
  /**
   * Feature bits OR-ed into the flags byte of our HELLO (with `hello: true`), announcing optional protocol
   * features to the peer (docs/PROTOCOL.md §3.1), e.g. `SESSION_FLAG` of `@proto/session`. A version 1 peer
   * ignores bits it does not know. The peer's HELLO, flags included, is in `peerHello`.
   * @default 0
   */
  helloFlags?: number
  /**
   * Frame type of pings.
   * @default FrameType.PING (0x02)
   */
  pingType?: number
  /**
   * Frame type of pongs.
   * @default FrameType.PONG (0x03)
   */
  pongType?: number
  /**
   * Body of the pings we send: `'sequence'` sends an 8-byte sequence number that the peer echoes, matched
   * for RTT; a fixed `Uint8Array` (e.g. empty) is sent as is and pongs are matched in order.
   * @default 'sequence'
   */
  pingBody?: 'sequence' | Uint8Array
  /**
   * Body of the pongs we send: `'echo'` repeats the ping's body; a fixed `Uint8Array` is sent as is.
   * @default 'echo'
   */
  pongBody?: 'echo' | Uint8Array
  /**
   * The longest PING or PONG body accepted from the peer, in bytes; a longer one is a protocol violation
   * (`ProtocolViolationError`, GOAWAY `PROTOCOL_ERROR`, the connection is closed). `0`: bodies must be
   * empty; `Infinity`: any length (bounded by the codec's `maxFrameLength`). Must be at least the length
   * of our own ping body, which pongs echo.
   * @default 64 (docs/PROTOCOL.md §3.3)
   */
  maxPingBody?: number
  /**
   * The inbound frame types accepted as data, besides the types the stage handles itself (ping, pong,
   * GOAWAY, and HELLO with `hello`). A frame of any other type is a protocol violation
   * (`ProtocolViolationError`, GOAWAY `PROTOCOL_ERROR` where the format has one, the connection is closed
   * at once). Absent: every type is accepted and handed up.
   * @default every type
   */
  allowedTypes?: Iterable<number>
  /**
   * Frame type of GOAWAY: sent when the stage closes a connection for a reason of its own (a protocol
   * violation, pings too often, the owner going away), and read from the peer (`goaway` event,
   * `GoAwayError`); `null` for formats that have no GOAWAY (then type 0x04 is plain data).
   * @default FrameType.GOAWAY (0x04); null with mode 'keepalive'
   */
  goAwayType?: number | null
  /**
   * Frame type of HELLO (used with `hello: true`).
   * @default FrameType.HELLO (0x01)
   */
  helloType?: number
  /**
   * Server-side guard: a peer whose pings come closer together than this (10 % tolerance) more than
   * `maxPingStrikes` times is sent GOAWAY `TOO_MANY_PINGS` and closed with `TooManyPingsError`. `0` is off.
   * @default 0
   */
  minPingInterval?: number
  /**
   * With `hello: true`, the longest timeout (and interval) a peer's HELLO may make this side adopt, in ms.
   * Each side adopts the larger of its own values and the peer's, so without a bound a peer could announce
   * a timeout of 49 days and then stay silent, holding the connection (and a session) for that long. A
   * HELLO asking for more (its `interval`, `timeout`, or an adaptive peer's longest interval plus grace) is
   * refused: `ProtocolVersionError`, GOAWAY `DO_NOT_RETRY`. At least this side's own longest timeout;
   * `Infinity` accepts any.
   * @default 4 × this side's longest timeout (`timeout`, `adaptive.max`, or `adaptiveInterval`'s `max + grace`), and at least 3 minutes (4 default timeouts); `Infinity` when it has none (0)
   */
  maxPeerTimeout?: number
  /**
   * Too-early pings tolerated before the guard closes the connection. Strikes reset whenever we send data.
   * @default 2
   */
  maxPingStrikes?: number
  /**
   * A timer firing later than planned by more than this means the event loop was blocked: the stage
   * lets pending input be read before judging the peer, and dispatches `stall`.
   * @default 100
   */
  stallThreshold?: number
  /**
   * Data frames held for a consumer that is not reading; above it the stage stops reading from below.
   * @default 1024
   */
  maxQueuedFrames?: number
  /**
   * Data body bytes held for a consumer that is not reading; above it the stage stops reading from below.
   * @default 1048576 (1 MiB)
   */
  maxQueuedBytes?: number
  /**
   * What this side does when its ping crosses the peer's (with `hello`: a fixed interval, or
   * `adaptiveInterval` on both sides): the
   * side that yields pings later and only answers from then on, so that one side pings for both (see "Pings
   * that cross" in the README). `'toss'`: a coin decides (`random`); `'keep'`: never yield, keep pinging
   * (keeps this side's own RTT samples, e.g. a tool that reports them); `'yield'`: always yield (e.g. the
   * clients of a server that should do the pinging). Two sides that both keep ping in step.
   * @default 'toss'
   */
  crossing?: 'toss' | 'keep' | 'yield'
  /**
   * The random source, returning numbers in [0, 1), of the coin that `crossing: 'toss'` tosses. Inject a
   * seeded one for deterministic tests.
   * @default Math.random
   */
  random?: () => number
  /**
   * RTT samples kept for `stats().rtt` and the adaptive timeout.
   * @default 32
   */
  rttSamples?: number
  /**
   * How long `close()` may go without progress before it aborts with `CloseTimeoutError`: while it
   * flushes, the time since the last frame of ours was handed down; after our FIN, the wait for the
   * peer's end.
   * @default 5000
   */
  closeTimeout?: number
  /**
   * Source of "now" in milliseconds.
   * @default systemClock (performance.now)
   */
  clock?: Clock
  /**
   * Where the stage's single timer is scheduled.
   * @default systemTimers (unref()ed setTimeout)
   */
  timers?: Timers
}
