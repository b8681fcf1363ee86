import type { NetConnectOpts, Socket } from 'node:net'
import type { ConnectionOptions } from 'node:tls'
import type { AbortOptions, ByteDuplex, Clock, Logger, Timers } from '@proto/interface'

/** Where one end of a connection is. */
export type ConnectionAddress =
  | { family: 'IPv4' | 'IPv6', address: string, port: number }
  | { family: 'unix', path: string }
  | { family: 'memory', name: string }

/**
 * Why a connection is gone:
 * - `closed`: both sides finished writing (FIN both ways) with no error;
 * - `aborted`: `abort(err)` was called here;
 * - `reset`: the peer reset the connection, or the socket died before both sides finished;
 * - `error`: another socket or TLS failure (see `error`);
 * - `close-timeout`: `close()` destroyed the socket because the peer did not finish within the deadline;
 * - `idle-timeout`, `handler-error`, `server-closed`: a server closed it for that reason.
 */
export type DisconnectReason =
  | 'closed' | 'aborted' | 'reset' | 'error' | 'close-timeout'
  | 'idle-timeout' | 'handler-error' | 'server-closed'

/** What `Connection.closed` resolves with. */
export interface DisconnectInfo {
  reason: DisconnectReason
  /** The typed error behind the reason; absent for `closed`. */
  error?: Error
  /** Which side started the end: the side that first sent FIN, aborted, or failed. */
  initiator: 'local' | 'remote'
  /** The connection's final statistics. */
  stats: ConnectionStats
}

/** A snapshot of a connection's traffic. Times are epoch milliseconds (`Date.now()`). */
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
  connectedAt: number
  /** When the last bytes arrived; `undefined` before the first read. */
  lastReadAt: number | undefined
  /** When bytes were last written; `undefined` before the first write. */
  lastWriteAt: number | undefined
}

/**
 * One end of a byte stream: an `it-stream-types` duplex plus identity, lifecycle and statistics.
 *
 * `source` has a single consumer; ending its iteration early (`break`) stops reading but leaves the
 * write side working (later bytes from the peer are discarded). `sink` may be called once; it resolves
 * when everything was handed to the socket and FIN was sent, and rejects with a typed error otherwise.
 */
export interface Connection extends ByteDuplex {
  readonly id: string
  readonly localAddress: ConnectionAddress | undefined
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
  stats(): ConnectionStats
}

/** Options shared by client and server connections. */
export interface ConnectionInit {
  /**
   * How long `close()` waits for a running sink and for the peer's FIN before destroying the socket, in ms.
   * @default 2000
   */
  closeTimeout?: number
  /** Where debug output goes. @default createLogger('transport') (silent unless `PROTO_DEBUG=transport`) */
  logger?: Logger
  /** Time source for timestamps and deadlines. @default `Date.now` */
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

/** TLS options for `listen()`. */
export interface ServerTLSInit {
  /** Server certificate chain (PEM). */
  cert: string | Buffer | Array<string | Buffer>
  /** Private key (PEM). */
  key: string | Buffer | Array<string | Buffer>
  /** CAs used to verify client certificates. */
  ca?: string | Buffer | Array<string | Buffer>
  /** Ask clients for a certificate. @default false */
  requestCert?: boolean
  /** With `requestCert`, drop clients whose certificate is missing or does not verify. @default true */
  rejectUnauthorized?: boolean
  ALPNProtocols?: string[]
  minVersion?: 'TLSv1.2' | 'TLSv1.3'
}

/** Where and how `listen()` accepts connections. */
export interface ListenInit extends ConnectionInit {
  /** Address to bind. @default '127.0.0.1' when no `path` */
  host?: string
  /** Port; 0 picks a free one (see `server.address`). @default 0 */
  port?: number
  /** Unix socket path; exclusive with `host`/`port`. */
  path?: string
  /** Speak TLS; clients that fail the handshake (or client-certificate check) never reach the handler. */
  tls?: ServerTLSInit
  /** Live connections at most; more are dropped at once with a `drop` event. @default Infinity */
  maxConnections?: number
  /** Kernel accept-queue length. @default 511 */
  backlog?: number
  /** Close a connection that carried no bytes either way for this long, in ms; 0 = never. @default 0 */
  idleTimeout?: number
  /** Disable Nagle's algorithm on accepted sockets. @default true */
  noDelay?: boolean
  /** TCP keep-alive for accepted sockets, whole seconds or `false`. @default false */
  keepAlive?: false | number
}

/** Options of `server.close()`. */
export interface ServerCloseOptions extends AbortOptions {
  /** How long live connections may take to finish before they are aborted, in ms. @default 5000 */
  deadline?: number
}

/** A failure reported by a server without tearing the server down. */
export interface ServerErrorEvent {
  error: Error
  /** The connection concerned, when there is one. */
  connection?: Connection
}

/** A connection refused before it reached the handler. */
export interface DropEvent {
  reason: 'max-connections' | 'tls-handshake' | 'server-closing'
  error: Error
  remoteAddress: ConnectionAddress | undefined
}

/** The events a server emits, by name. */
export interface ServerEvents {
  connection: Connection
  disconnect: { connection: Connection, info: DisconnectInfo }
  error: ServerErrorEvent
  drop: DropEvent
  close: undefined
}

/** Live connections of a server, keyed by id. */
export interface ConnectionRegistry extends Iterable<Connection> {
  readonly size: number
  get(id: string): Connection | undefined
  has(id: string): boolean
  values(): IterableIterator<Connection>
}

/** A listening server. */
export interface Server {
  /** Where it listens (the real port when `port` was 0). */
  readonly address: ConnectionAddress
  readonly connections: ConnectionRegistry
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof ServerEvents>(type: K, listener: (event: ServerEvents[K]) => void): () => void
  off<K extends keyof ServerEvents>(type: K, listener: (event: ServerEvents[K]) => void): void
  /**
   * Stop accepting, ask every connection to close, abort those still open after `deadline`, and resolve
   * once every socket and timer is gone. Idempotent.
   */
  close(options?: ServerCloseOptions): Promise<void>
}

/** Options of `memoryPair()`. */
export interface MemoryPairInit extends ConnectionInit {
  /** Bytes each direction holds before the writer waits. @default 65536 */
  highWaterMark?: number
}
