/** Where the proxy listens when `listen.host` is not given. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1'

/** Bytes queued in one direction of one connection before the proxy stops reading that side. */
export const DEFAULT_HIGH_WATER_MARK = 64 * 1024

/** Bytes held per direction of one connection while black-holed; later bytes are discarded. */
export const DEFAULT_BLACK_HOLE_HOLD_BYTES = 1024 * 1024

/** How long a connection cut with FIN waits for the peer's own FIN before it is destroyed, in ms. */
export const DEFAULT_FIN_LINGER_MS = 2000

/** Random fault actions a plan runs at most, after which the link stays clean. */
export const DEFAULT_MAX_FAULTS = 10_000

/** The largest delay, coalescing window, black-hole duration or fault interval accepted, in ms. */
export const MAX_INTERVAL_MS = 10 * 60 * 1000

/** The largest fragment a fragmentation setting may ask for, in bytes. */
export const MAX_FRAGMENT_BYTES = 1024 * 1024

/** The most bytes one coalesced write gathers. */
export const MAX_COALESCE_BYTES = 1024 * 1024

/** Throttled data is written in slices of at most this share of one second's budget, so it flows smoothly. */
export const THROTTLE_SLICES_PER_SECOND = 20

/** The largest single write under throttling, in bytes. */
export const MAX_THROTTLE_SLICE_BYTES = 64 * 1024
