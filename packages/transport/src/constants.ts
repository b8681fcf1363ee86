/** How long `connect()` waits for the TCP (and TLS) handshake: 10 s. */
export const DEFAULT_CONNECT_TIMEOUT = 10_000

/** How long `close()` waits for the peer to finish before destroying the socket: 2 s. */
export const DEFAULT_CLOSE_TIMEOUT = 2_000

/**
 * How long a TLS server waits for a client to finish the handshake: 10 s. A client of this SDK gives up
 * after `connectTimeout` (10 s) anyway, Netty's `SslHandler` uses the same default, and Node's own 120 s
 * lets a few silent sockets hold a server's `maxConnections` for two minutes.
 */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000

/**
 * How long data may sit queued for a peer that reads none of it before the connection is reset: 60 s, as
 * nginx's `send_timeout`. Long enough for a congested path or a consumer that pauses for a while, short
 * enough that a peer that never reads cannot hold a connection (and its buffers) for good.
 */
export const DEFAULT_WRITE_STALL_TIMEOUT = 60_000

/** Nagle's algorithm is off by default: small frames go out at once. */
export const DEFAULT_NO_DELAY = true

/** TCP keep-alive is off by default; the heartbeat stage is the liveness check. */
export const DEFAULT_KEEP_ALIVE = false

/** The largest TCP keep-alive idle time Linux accepts (`TCP_KEEPIDLE`), in seconds. */
export const MAX_KEEP_ALIVE_SECONDS = 32_767

/** Bytes the read queue holds before the socket is paused (the kernel buffer then fills and TCP pushes back). */
export const READ_HIGH_WATER_MARK = 256 * 1024

/** The read queue resumes the socket when it has drained below this many bytes. */
export const READ_LOW_WATER_MARK = 64 * 1024

/** Pending outbound bytes that trigger a socket write at once instead of at the end of the producer's run. */
export const WRITE_FLUSH_THRESHOLD = 64 * 1024

/**
 * Chunks shorter than this are copied into one buffer per write; longer ones go to `writev` as they are.
 * Measured through the whole writer (CPU per MiB, async producer, loopback; bench/transport.md): copying
 * 1 KiB and 4 KiB chunks costs 19–27 % and 17 % less than a `writev` entry each (every entry pays Node's
 * per-`write()` bookkeeping and a `Buffer` wrapper), while copying 8 KiB chunks costs 20 % more.
 */
export const COALESCE_BELOW = 8 * 1024

/** How long `server.close()` lets live connections finish before aborting them: 5 s. */
export const DEFAULT_SERVER_CLOSE_DEADLINE = 5_000

/** Idle timeout of server connections, in ms; 0 turns it off. */
export const DEFAULT_IDLE_TIMEOUT = 0

/** The listen backlog Node uses unless told otherwise. */
export const DEFAULT_BACKLOG = 511

/** Live connections a server holds at most: unlimited unless set. */
export const DEFAULT_MAX_CONNECTIONS = Infinity

/**
 * Live connections one source address may hold at most: unlimited unless set, because loopback tests,
 * benchmarks and clients behind one NAT all share an address. Public servers should set it.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_SOURCE = Infinity

/**
 * IPv6 clients are grouped by this many leading address bits for `maxConnectionsPerSource`: 64, the
 * smallest block a site is normally given, so one host cannot dodge the limit by rotating addresses.
 */
export const DEFAULT_IPV6_SOURCE_PREFIX = 64

/** Bytes one direction of an in-memory pair holds before the writer waits (stands in for the kernel buffers). */
export const MEMORY_PAIR_HIGH_WATER_MARK = 64 * 1024
