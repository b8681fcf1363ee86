/** Delay before the first redial of an outage, before jitter (ms). */
export const DEFAULT_INITIAL_DELAY = 500
/** Growth of the delay ceiling per consecutive failed attempt. */
export const DEFAULT_FACTOR = 2
/** Ceiling of the delay, applied before jitter (ms). */
export const DEFAULT_MAX_DELAY = 30_000
/** The shortest delay ever returned (ms): never 0, never negative. */
export const DEFAULT_MIN_DELAY = 1
/** How the delay is spread under its ceiling. */
export const DEFAULT_JITTER = 'full'
/** Dial attempts per outage before giving up. */
export const DEFAULT_MAX_ATTEMPTS = Infinity
/** How long one outage may last before giving up (ms): 24 h. */
export const DEFAULT_MAX_RETRY_TIME = 86_400_000
/** How long one dial may take before its signal is aborted (ms). */
export const DEFAULT_CONNECT_TIMEOUT = 20_000
/** How long a connection must stay up before the backoff resets (ms). */
export const DEFAULT_MIN_STABLE_TIME = 10_000
/** How long `close()` may spend flushing and closing the connection (ms). */
export const DEFAULT_CLOSE_TIMEOUT = 5_000
/** Items the outbound buffer holds. */
export const DEFAULT_BUFFER_MAX_MESSAGES = 1_000
/** Bytes the outbound buffer holds (8 MiB). */
export const DEFAULT_BUFFER_MAX_BYTES = 8 * 1024 * 1024
/** What a write does when the buffer is full while disconnected. */
export const DEFAULT_OVERFLOW = 'wait'
/** Unconfirmed items retention keeps, by default (per direction, per link). */
export const DEFAULT_RETAIN_MAX_MESSAGES = 4_096
/** Unconfirmed bytes retention keeps, by default: 1 MiB. */
export const DEFAULT_RETAIN_MAX_BYTES = 1024 * 1024
/** What a clean end of the peer's stream means. */
export const DEFAULT_PEER_END = 'reconnect'
/** Status events one status iterator keeps for a slow reader. */
export const DEFAULT_STATUS_BUFFER = 32

/** The exponent of the delay ceiling is clamped here, so `factor ** exponent` never needs more. */
export const MAX_EXPONENT = 1_000
/** `nextBatch()` on a connection's feed hands down at most this many queued items at once. */
export const FEED_BATCH_ITEMS = 1024
/**
 * Buffered bytes at which a sink waiting for a batch is handed one at once, rather than once the producer
 * has nothing more ready: a batch this large fills a socket write (the transport writes at 64 KiB), and
 * gathering more would only turn a stream of large items into bursts.
 */
export const FEED_BATCH_BYTES = 64 * 1024
