import type { NetConnectOpts, Socket } from 'node:net'
import type { ConnectionOptions, PeerCertificate } from 'node:tls'
import type { AbortOptions, ByteChunk, ByteDuplex, Clock, ConnectionAddress, GoingAwayWatcher, Logger, PushSource, SinkWatcher, Timers } from '@proto/interface'

/**
 * Why a connection is gone:
 * - `closed`: both sides finished writing (FIN both ways) with no error;
 * - `aborted`: `abort(err)` was called here;
 * - `reset`: the peer reset the connection, or the socket died before both sides finished;
 * - `error`: another socket or TLS failure (see `error`);
 * - `close-timeout`: `close()` destroyed the socket because the peer did not finish within the deadline;
 * - `write-stall`: data was queued for the peer and it read none of it for `writeStallTimeout`;
 * - `idle-timeout`, `handler-error`, `server-closed`: a server closed it for that reason.
 */
export type DisconnectReason =
  | 'closed' | 'aborted' | 'reset' | 'error' | 'close-timeout' | 'write-stall'
  | 'idle-timeout' | 'handler-error' | 'server-closed'

/** What `Connection.closed` resolves with. */
export interface DisconnectInfo {
  /** Why the connection ended. */
  reason: DisconnectReason
  /** The typed error behind the reason; absent for `closed`. */
  error?: Error
  /** Which side started the end: the side that first sent FIN, aborted, or failed. */
  initiator: 'local' | 'remote'
  /** The connection's final statistics. */
  stats: ConnectionStats
}

/**
 * A snapshot of a connection's traffic. Times are epoch milliseconds, measured on the monotonic `clock`
 * from the moment the connection's options were read (so they never jump with the wall clock).
 */
export interface ConnectionStats {
  /** Bytes received from the peer. */
  bytesIn: number
  /** Bytes handed to the socket for the peer. */
  bytesOut: number
  /** Reads from the socket (each a chunk yielded by `source`). */
  chunksIn: number
  /** Chunks received by `sink`. */
  chunksOut: number
  /** Socket writes (each a single `write` or one `writev` batch); at most `chunksOut`. */
  writes: number
  /** When this end of the connection was set up (connected, accepted or wrapped). */
  connectedAt: number
  /** When the last bytes arrived; `undefined` before the first read. */
  lastReadAt: number | undefined
  /** When bytes were last written; `undefined` before the first write. */
  lastWriteAt: number | undefined
}

/** What a TLS connection knows about its peer. */
export interface TLSInfo {
  /** Whether the peer's certificate verified against the trusted CAs (a server without `requestCert`: `false`). */
  authorized: boolean
  /** Why it did not verify (`CERT_HAS_EXPIRED`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, …), when it did not. */
  authorizationError: string | undefined
  /** The protocol both sides chose through ALPN, or `false`. */
  alpnProtocol: string | false
  /** The TLS version in use (`'TLSv1.3'`), or `undefined` once the socket is gone. */
  protocol: string | undefined
  /** The peer's certificate, or `undefined` when it sent none (or the socket is gone). */
  peerCertificate: PeerCertificate | undefined
}

/**
 * One end of a byte stream: an `it-stream-types` duplex plus identity, lifecycle and statistics.
 *
 * `source` has a single consumer; ending its iteration early (`break`) stops reading but leaves the
 * write side working (later bytes from the peer are discarded). `sink` may be called once; it resolves
 * when everything was handed to the socket and FIN was sent, and rejects with a typed error otherwise (a
 * chunk that is not a `Uint8Array` or `Uint8ArrayList`: `InvalidParametersError`, and the connection is
 * aborted with it).
 */
export interface Connection extends ByteDuplex {
  /**
   * Names this connection within the process (in logs, and as the key of `server.connections`): a prefix
   * saying how it was made (`c` connect, `s` server, `f` fromSocket, `m` memoryPair, `x` fromCarrier) and a
   * counter.
   */
  readonly id: string
  /** This end's address; `undefined` when the socket did not report one. */
  readonly localAddress: ConnectionAddress | undefined
  /** The peer's address; `undefined` when Node had already forgotten it (a peer that hung up early). */
  readonly remoteAddress: ConnectionAddress | undefined
  /**
   * Finish writing (wait for a running `sink`), send FIN, wait for the peer's FIN, then destroy the
   * socket. Bounded by `closeTimeout`; idempotent. If `signal` aborts, the connection is aborted with
   * its reason and the call rejects with it.
   */
  close(options?: AbortOptions): Promise<void>
  /** Reset now (RST where the socket supports it). `source` and `sink` fail with `err`. Idempotent. */
  abort(err: Error): void
  /** Resolves (never rejects) once the socket is gone, with the reason. */
  readonly closed: Promise<DisconnectInfo>
  /** Aborted once the socket is gone; `signal.reason` is the disconnect error or a `ConnectionClosedError`. */
  readonly signal: AbortSignal
  /**
   * Server connections only: aborted (reason `ServerClosingError`) when `server.close()` asks the
   * connection to end gracefully; made on first read. Absent on connections nobody will ask.
   */
  readonly goingAway?: AbortSignal
  /**
   * Server connections only: calls `watcher.onGoingAway()` once when `server.close()` asks the connection
   * to end (at once if it already did), without making the `goingAway` signal. What stages use.
   */
  watchGoingAway?(watcher: GoingAwayWatcher): boolean
  /** Server connections only: forgets a watcher given to `watchGoingAway`. */
  unwatchGoingAway?(watcher: GoingAwayWatcher): void
  /**
   * As `sink(source)` for a source that pushes (a stage's outbound), with the outcome told to
   * `watcher.onSinkEnd(err?)` instead of a promise: what stages use (`PushSinkable` in `@proto/interface`).
   */
  sinkPush(source: PushSource<ByteChunk>, watcher: SinkWatcher): void
  /** TLS details of the peer; `undefined` on connections without TLS. */
  readonly tls: TLSInfo | undefined
  /** A snapshot of its traffic counters and times, taken now (a new object each call). */
  stats(): ConnectionStats
}

/** Options shared by every connection. */
export interface ConnectionInit {
  /**
   * How long `close()` waits for a running sink and for the peer's FIN before destroying the socket, in ms.
   * @default 2000
   */
  closeTimeout?: number
  /**
   * Reset the connection when data queued for the peer has not moved for this long, in ms (the peer
   * stopped reading): time without progress, not the length of a write, so a peer that keeps reading one
   * large write slowly is not reset. 0 = never. `memoryPair()` defaults to 0.
   * @default 60000
   */
  writeStallTimeout?: number
  /** Where debug output goes. @default createLogger('transport') (silent unless `DEBUG=proto:transport`) */
  logger?: Logger
  /** Monotonic time source (ms) for deadlines, timeouts and stats. @default systemClock (`performance.now()`) */
  clock?: Clock
  /** Timer scheduler for deadlines. @default systemTimers (unref'd `setTimeout`) */
  timers?: Timers
}

/** TLS options for `connect()`: a subset of Node's `tls.connect` options. */
export interface ClientTLSInit {
  /** Trusted CA certificates (PEM). @default Node's bundled roots */
  ca?: string | Buffer | Array<string | Buffer>
  /** Client certificate chain (PEM) for mutual TLS. */
  cert?: string | Buffer | Array<string | Buffer>
  /** Private key (PEM) of `cert`. */
  key?: string | Buffer | Array<string | Buffer>
  /** Server name for SNI and certificate checks. @default `host` when it is a name, not an IP */
  servername?: string
  /** Reject servers whose certificate does not verify against `ca`. @default true */
  rejectUnauthorized?: boolean
  /** ALPN protocols to offer. */
  ALPNProtocols?: string[]
  /** Lowest TLS version accepted. @default Node's default ('TLSv1.2') */
  minVersion?: 'TLSv1.2' | 'TLSv1.3'
  /** Highest TLS version offered. @default Node's default ('TLSv1.3') */
  maxVersion?: 'TLSv1.2' | 'TLSv1.3'
}

/** Where and how `connect()` dials: `host` + `port` for TCP (v4 or v6), or `path` for a Unix socket. */
export interface ConnectInit extends ConnectionInit {
  /** Host name or IP literal. @default 'localhost' when `port` is given */
  host?: string
  /** TCP port, 1–65535. */
  port?: number
  /** Unix socket path; exclusive with `host`/`port`. */
  path?: string
  /** Speak TLS over the stream. */
  tls?: ClientTLSInit
  /** How long the TCP and TLS handshakes may take together, in ms. @default 10000 */
  connectTimeout?: number
  /** Disable Nagle's algorithm. @default true */
  noDelay?: boolean
  /**
   * TCP keep-alive idle time in whole seconds, or `false` for off. Sub-second and fractional values are
   * rejected: Node truncates to whole seconds and turns 0 into the OS default (2 hours on Linux).
   * @default false
   */
  keepAlive?: false | number
  /**
   * Makes the socket instead of `net.connect`/`tls.connect` (proxies, tests). Receives the options that
   * would have been passed to Node.
   */
  createSocket?: (options: NetConnectOpts & ConnectionOptions) => Socket
}

/** Options of `memoryPair()`. */
export interface MemoryPairInit extends ConnectionInit {
  /** Bytes each direction holds before the writer waits. @default 65536 */
  highWaterMark?: number
}
