/** Prefix of every key and channel the store uses. */
export const DEFAULT_PREFIX = 'proto:'
/**
 * How long a session's keys live without being written (ms): the server's default ttl. A node refreshes
 * the keys of the sessions it holds well before that (every third of it), so only abandoned copies expire.
 */
export const DEFAULT_KEY_TTL = 120_000
/**
 * The shortest time between two persists of the sessions that changed (ms). It bounds what a SIGKILLed
 * node can have delivered without persisting (the duplicate window after a crash), and how late an
 * acknowledgement can be (ACKs cover only what is persisted). 0 persists at the next turn of the event
 * loop (write-through). 10 ms keeps the window at a few ms of traffic at a small fraction of the
 * write-through Redis cost (see docs/session-redis.md for measured figures).
 */
export const DEFAULT_PERSIST_INTERVAL = 10
/**
 * Flushes in flight at once at most. A session whose ACKs wait for a persist (`persistSoon`) starts the
 * next flush without waiting for the one in flight (Redis runs one connection's commands in order), so
 * its ACKs follow Redis's round trip rather than a queue of flushes; interval flushes never overlap.
 */
export const MAX_FLUSHES_IN_FLIGHT = 4
/**
 * Sessions that ended while Redis was away (or whose FORGET failed) whose keys this node still owes Redis
 * a FORGET for, at most: sent once Redis is back. Beyond it the oldest is dropped, and its keys expire
 * after the ttl on their own (another node taking it meanwhile restores its last copy, counted as
 * recovered). About 0.2 KiB each.
 */
export const MAX_OWED_FORGETS = 10_000
/** How long a node waits for the node holding a session to hand it over before taking it anyway (ms). */
export const DEFAULT_HANDOVER_TIMEOUT = 2_000
/** A node is taken for dead this long after its last liveness write (ms); it writes every third of it. */
export const DEFAULT_NODE_TTL = 3_000
/**
 * The longest one Redis command may take (ms) before it fails (ioredis `commandTimeout`): a slow Redis is
 * treated like one that is down, so sessions fall back to node-local instead of stalling their ACKs.
 */
export const DEFAULT_COMMAND_TIMEOUT = 1_000
/** Redis reconnection backoff: the shortest delay (ms); delays are drawn with full jitter, never below it. */
export const RECONNECT_INITIAL_DELAY = 50
/** Redis reconnection backoff: the ceiling of the doubling delay (ms). */
export const RECONNECT_MAX_DELAY = 2_000
