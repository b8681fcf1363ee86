/**
 * Send a PING after this many milliseconds without sending anything. 15 s keeps idle flows alive through
 * the common middlebox idle limits (AWS ELB 60 s, Cloudflare 100 s, GCP 10 min) with room for three pings.
 */
export const DEFAULT_INTERVAL = 15_000

/**
 * Declare the peer dead after this many milliseconds without receiving anything: three intervals, so two
 * pings may go unanswered (a GC pause, a slow hop) before the link is torn down.
 */
export const DEFAULT_TIMEOUT = 45_000

/**
 * By default a peer's HELLO may ask for at most this many times our own longest timeout (`maxPeerTimeout`),
 * and never less than {@link DEFAULT_PEER_TIMEOUT_FLOOR}: room for a peer that pings less often (a phone
 * saving its battery), never a connection that a silent peer holds for weeks.
 */
export const DEFAULT_PEER_TIMEOUT_FACTOR = 4

/**
 * The default `maxPeerTimeout` is at least this (four default timeouts, 3 minutes), so a peer on the
 * defaults is accepted by a side that chose a much shorter timeout for itself.
 */
export const DEFAULT_PEER_TIMEOUT_FLOOR = 4 * DEFAULT_TIMEOUT

/**
 * Width of one slot of the process-wide timer grid, in milliseconds: a stage on the system clock and timers
 * fires at the first slot boundary at or after the moment it asked for (never earlier, at most this much
 * later), together with every other stage due in that slot, so pings of many connections leave in one turn
 * of the event loop.
 */
export const TIMER_GRID_SLOT = 25

/** A timer that fires later than planned by more than this many milliseconds means the event loop stalled. */
export const DEFAULT_STALL_THRESHOLD = 100

/** Data frames held for a consumer that is not reading before the stage stops reading from below. */
export const DEFAULT_MAX_QUEUED_FRAMES = 1024

/** Data bytes held for a consumer that is not reading before the stage stops reading from below: 1 MiB. */
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024

/** How many RTT samples the statistics keep (the mean and percentile cover these). */
export const DEFAULT_RTT_SAMPLES = 32

/**
 * How long `close()` waits without progress before it aborts the connection, in milliseconds: while
 * flushing, for the next user frame to be handed down; after our FIN, for the peer to end its side.
 */
export const DEFAULT_CLOSE_TIMEOUT = 5_000

/** Pings arriving closer together than `minPingInterval` this many times are tolerated (gRPC uses 2). */
export const DEFAULT_MAX_PING_STRIKES = 2

/** The longest PING or PONG body accepted from the peer, in bytes: docs/PROTOCOL.md §3.3 allows 0–64. */
export const DEFAULT_MAX_PING_BODY = 64

/** A ping counts as a strike only if it came earlier than `minPingInterval` by more than this fraction. */
export const PING_INTERVAL_TOLERANCE = 0.1

/** Adaptive timeout: multiplier applied to the p99 RTT. */
export const DEFAULT_ADAPTIVE_MULTIPLIER = 4

/** Adaptive timeout: the lower bound defaults to this many intervals. */
export const DEFAULT_ADAPTIVE_MIN_FACTOR = 1.5

/** Adaptive timeout: the upper bound defaults to this many times `timeout`. */
export const DEFAULT_ADAPTIVE_MAX_FACTOR = 4

/**
 * Data frames handed down back to back (the lower sink asked and one was ready) are timestamped once per
 * this many; a frame that had to be waited for is always timestamped. A clock read costs about as much as
 * the rest of the hand-off, and for the send clock a slightly old timestamp is safe: at worst a ping goes
 * out while a burst of data is still being written.
 */
export const BURST_STAMP_EVERY = 64

/** Unanswered pings remembered for RTT matching. */
export const MAX_OUTSTANDING_PINGS = 8

/**
 * Pongs waiting to be sent beyond this many are dropped (and counted): a peer that pings faster than it
 * reads our answers gets no more, and holds no more of our memory.
 */
export const MAX_QUEUED_PONGS = 32

/** Pongs are also dropped once the pongs waiting to be sent would hold more than this many body bytes (one pong is always accepted): 64 KiB. */
export const MAX_QUEUED_PONG_BYTES = 64 * 1024

/** After sending GOAWAY to a peer that broke the rules, wait at most this long for it to be flushed before destroying the connection. */
export const GOAWAY_GRACE = 1_000

/** Length of the PING body the SDK sends: a u64 sequence number. */
export const PING_BODY_LENGTH = 8

/** `nextBatch()` on the outbound (for lower sinks that write batches) hands down at most this many frames… */
export const OUTBOUND_BATCH_FRAMES = 1024

/** …or about this many body bytes, so a control frame queued meanwhile waits for at most one batch. */
export const OUTBOUND_BATCH_BYTES = 64 * 1024

/**
 * Adaptive interval: `min` defaults to `interval` divided by this. With the default 15 s, a poor link is
 * pinged every 5 s and a dead peer found within 15 s (the timeout keeps its ratio to the interval at `min`).
 */
export const DEFAULT_ADAPTIVE_INTERVAL_MIN_DIVISOR = 3

/**
 * Adaptive interval: `max` defaults to `interval` times this. With the default 15 s, 45 s: under the
 * shortest common middlebox idle limit (AWS ELB, 60 s) with room for timer lag and a slow pong.
 */
export const DEFAULT_ADAPTIVE_INTERVAL_MAX_FACTOR = 3

/** Adaptive interval: on-time pongs in a row before the interval grows one step (Mars' smart heartbeat uses 3). */
export const DEFAULT_GROW_AFTER = 3

/** Adaptive interval: each growth step multiplies the interval by this (capped at `max`). */
export const DEFAULT_GROW_FACTOR = 2

/**
 * Adaptive interval: RTT spread below this many milliseconds never counts as a poor link, whatever the
 * ratios: a LAN whose RTT moves from 0.2 to 2 ms is not poor.
 */
export const DEFAULT_JITTER = 100

/**
 * Adaptive interval: after each sign of a poor link the on-time pongs needed for the next growth step
 * double, up to `growAfter × 2^MAX_GROWTH_PENALTY`; each growth step halves them again. A link that keeps
 * failing stays short; one steady link is never slowed down.
 */
export const MAX_GROWTH_PENALTY = 3

/** Adaptive interval: RTT samples needed before their spread (p90 against p10) is judged. */
export const MIN_SPREAD_SAMPLES = 4

/** Length of the PING body on an adaptive connection: the u64 sequence number, then the u32 interval in force (docs/PROTOCOL.md §3.4). */
export const ANNOUNCED_PING_BODY_LENGTH = 12

/**
 * Idle-limit probing: the search between the longest idle gap known to survive and the shortest after
 * which a connection was lost stops once they are this close (a fraction of the latter); the interval
 * then stays at the surviving one.
 */
export const IDLE_LIMIT_RESOLUTION = 0.1

/** Interval memory: what was learned about a path (its idle limit, a peer's ping minimum) is forgotten after this long: 1 h. */
export const DEFAULT_MEMORY_TTL = 3_600_000

/** Interval memory: a connection made within this long after the previous one was lost starts at `min`: 5 min. */
export const DEFAULT_RECENT_LOSS = 300_000
