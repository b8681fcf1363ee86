import type { AbortOptions, ConnectionAddress, TypedEventTarget } from '@proto/interface'
import type { Connection, ConnectionInit, DisconnectInfo } from './types.js'

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
  /** ALPN protocols to accept, in order of preference. */
  ALPNProtocols?: string[]
  /** Lowest TLS version accepted. @default Node's default ('TLSv1.2') */
  minVersion?: 'TLSv1.2' | 'TLSv1.3'
  /** Highest TLS version accepted. @default Node's default ('TLSv1.3') */
  maxVersion?: 'TLSv1.2' | 'TLSv1.3'
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
  /**
   * How long a client may take to complete the TLS handshake, in ms, from the moment it is accepted;
   * then it is dropped (`drop` event, `HandshakeTimeoutError`). Only with `tls`.
   * @default 10000
   */
  handshakeTimeout?: number
  /** Live and handshaking connections at most; more are reset at once with a `drop` event. @default Infinity */
  maxConnections?: number
  /**
   * Live and handshaking connections one source may hold at most (IPv4: one address; IPv6: one
   * `ipv6SourcePrefix` block; Unix sockets are not limited); more are reset at once with a `drop` event.
   * @default Infinity
   */
  maxConnectionsPerSource?: number
  /** Leading bits of an IPv6 address that name its source for `maxConnectionsPerSource`, 1–128. @default 64 */
  ipv6SourcePrefix?: number
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
  /** What failed: a `HandlerError` (whose `cause` is what the handler threw), or a failure of the server itself. */
  error: Error
  /** The connection concerned, when there is one. */
  connection?: Connection
}

/**
 * Why a connection was refused before it reached the handler:
 * - `max-connections`: the server held `maxConnections` (`TooManyConnectionsError`);
 * - `max-connections-per-source`: its source held `maxConnectionsPerSource` (`TooManyConnectionsError`);
 * - `tls-handshake`: the TLS handshake failed (`TLSError`, with the certificate verification code when the
 *   client's certificate was refused) or the client left before finishing it (`ConnectionResetError`);
 * - `tls-handshake-timeout`: it did not finish within `handshakeTimeout` (`HandshakeTimeoutError`);
 * - `server-closing`: it arrived while the server was closing (`ServerClosingError`);
 * - `server-closed`: its TLS handshake was still running at the close deadline, and it was reset (`ServerClosedError`).
 */
export type DropReason = 'max-connections' | 'max-connections-per-source' | 'tls-handshake' | 'tls-handshake-timeout' | 'server-closing' | 'server-closed'

/** A connection refused before it reached the handler. */
export interface DropEvent {
  /** Which check refused it. */
  reason: DropReason
  /** The typed error of that refusal, as listed under {@link DropReason}. */
  error: Error
  /** Where it came from; `undefined` when the socket was gone before its address could be read. */
  remoteAddress: ConnectionAddress | undefined
}

/** The events a server emits, by name: each is a `CustomEvent` whose `detail` has this type. */
export interface ServerEvents {
  /** A connection was accepted (after its TLS handshake, if any), before the handler runs. */
  connection: Connection
  /** A connection the server accepted is gone. */
  disconnect: {
    /** The connection, as handed to `connection` and the handler. */
    connection: Connection
    /** What its `closed` promise resolves with: reason, error, initiator and final stats. */
    info: DisconnectInfo
  }
  /** Something failed without tearing the server down; logged instead when nobody listens. */
  error: ServerErrorEvent
  /** A connection was refused before it reached the handler. */
  drop: DropEvent
  /** `close()` is done: every socket, handshake and timer is gone. Emitted once; no `detail`. */
  close: undefined
}

/** Live connections of a server, keyed by id. */
export interface ConnectionRegistry extends Iterable<Connection> {
  /** How many connections are live (accepted and not yet gone). */
  readonly size: number
  /** The live connection whose `Connection.id` is `id`, or `undefined` when it is gone or never existed. */
  get(id: string): Connection | undefined
  /** Whether the connection whose `Connection.id` is `id` is live. */
  has(id: string): boolean
  /** The live connections, oldest first. */
  values(): IterableIterator<Connection>
}

/** A listening server: an `EventTarget` of {@link ServerEvents}. */
export interface Server extends TypedEventTarget<ServerEvents> {
  /** Where it listens (the real port when `port` was 0). */
  readonly address: ConnectionAddress
  /** Its live connections; one leaves the registry when its `disconnect` event fires. */
  readonly connections: ConnectionRegistry
  /**
   * Stop accepting, ask every connection to end (`goingAway`; FIN at once where no sink runs), abort
   * those still open after `deadline`, and resolve once every socket and timer is gone. Idempotent.
   */
  close(options?: ServerCloseOptions): Promise<void>
}
