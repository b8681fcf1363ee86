/** Nothing listens at the address (`ECONNREFUSED`, or a missing Unix socket file). */
export class ConnectionRefusedError extends Error {
  static override name = 'ConnectionRefusedError'

  constructor (message = 'Connection refused', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ConnectionRefusedError'
  }
}

/**
 * The host name did not resolve: the resolver found no such host (`ENOTFOUND`), or could not answer now
 * (`EAI_AGAIN`, a temporary failure). `cause` holds Node's error, with its `code` and `hostname`.
 */
export class HostNotFoundError extends Error {
  static override name = 'HostNotFoundError'

  constructor (message = 'Host not found', options?: ErrorOptions) {
    super(message, options)
    this.name = 'HostNotFoundError'
  }
}

/** No route to the host or to its network (`EHOSTUNREACH`, `ENETUNREACH`): the address resolved, nothing reached it. */
export class HostUnreachableError extends Error {
  static override name = 'HostUnreachableError'

  constructor (message = 'Host unreachable', options?: ErrorOptions) {
    super(message, options)
    this.name = 'HostUnreachableError'
  }
}

/** The TCP or TLS handshake did not finish within `connectTimeout`. */
export class ConnectTimeoutError extends Error {
  static override name = 'ConnectTimeoutError'

  constructor (message = 'Connect timed out', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ConnectTimeoutError'
  }
}

/** The peer reset the connection (`ECONNRESET`, `EPIPE`), or the socket died without either side finishing. */
export class ConnectionResetError extends Error {
  static override name = 'ConnectionResetError'

  constructor (message = 'Connection reset', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ConnectionResetError'
  }
}

/** The connection is closed (or closing) and cannot do what was asked, e.g. a write after `close()`. */
export class ConnectionClosedError extends Error {
  static override name = 'ConnectionClosedError'

  constructor (message = 'Connection closed', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ConnectionClosedError'
  }
}

/** Options of a `TLSError`. */
export interface TLSErrorOptions extends ErrorOptions {
  /**
   * What failed: an OpenSSL or Node code (`ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`,
   * `ERR_TLS_CERT_ALTNAME_INVALID`), a certificate verification code (`CERT_HAS_EXPIRED`,
   * `UNABLE_TO_VERIFY_LEAF_SIGNATURE`), or `ERR_TLS_HANDSHAKE_CLOSED` (the peer closed the connection in
   * the middle of the handshake without a TLS alert).
   */
  code?: string | undefined
  /** Whether trying again with the same certificates and settings fails the same way. @default true */
  fatal?: boolean
}

/**
 * A TLS handshake or certificate check failed. `code` says what failed; `fatal` says whether retrying with
 * the same settings can help (a reconnecting client's `shouldRetry` can return `!err.fatal`); `cause`
 * holds Node's error where there is one.
 */
export class TLSError extends Error {
  static override name = 'TLSError'
  /**
   * What failed: an OpenSSL or Node code, a certificate verification code, or `ERR_TLS_HANDSHAKE_CLOSED`
   * (see {@link TLSErrorOptions.code}); `undefined` when Node gave none.
   */
  readonly code: string | undefined
  /** Whether trying again with the same certificates and settings fails the same way (a `shouldRetry` can give up on it). */
  readonly fatal: boolean

  constructor (message = 'TLS failure', options: TLSErrorOptions = {}) {
    super(message, options)
    this.name = 'TLSError'
    this.code = options.code
    this.fatal = options.fatal ?? true
  }
}

/** A server's connection handler threw or rejected; `cause` holds what it threw. Only that connection closes. */
export class HandlerError extends Error {
  static override name = 'HandlerError'

  constructor (message = 'Connection handler failed', options?: ErrorOptions) {
    super(message, options)
    this.name = 'HandlerError'
  }
}

/** A server connection carried no bytes either way for `idleTimeout` ms and was closed. */
export class IdleTimeoutError extends Error {
  static override name = 'IdleTimeoutError'

  constructor (message = 'Connection idle for too long', options?: ErrorOptions) {
    super(message, options)
    this.name = 'IdleTimeoutError'
  }
}

/** Data was queued for the peer and the peer read none of it for `writeStallTimeout` ms; the connection was reset. */
export class WriteStallError extends Error {
  static override name = 'WriteStallError'

  constructor (message = 'The peer stopped reading', options?: ErrorOptions) {
    super(message, options)
    this.name = 'WriteStallError'
  }
}

/** A client did not finish the TLS handshake within the server's `handshakeTimeout`; it was dropped. */
export class HandshakeTimeoutError extends Error {
  static override name = 'HandshakeTimeoutError'

  constructor (message = 'TLS handshake timed out', options?: ErrorOptions) {
    super(message, options)
    this.name = 'HandshakeTimeoutError'
  }
}

/**
 * The server is closing: the reason of a server connection's `goingAway` signal, and the error of a
 * connection dropped because it arrived while the server was closing.
 */
export class ServerClosingError extends Error {
  static override name = 'ServerClosingError'

  constructor (message = 'The server is closing', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ServerClosingError'
  }
}

/** The server closed and its close deadline passed before this connection finished. */
export class ServerClosedError extends Error {
  static override name = 'ServerClosedError'

  constructor (message = 'Server closed', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ServerClosedError'
  }
}

/** A connection arrived while the server (or its source address) already held its limit; it was dropped. */
export class TooManyConnectionsError extends Error {
  static override name = 'TooManyConnectionsError'

  constructor (message = 'Too many connections', options?: ErrorOptions) {
    super(message, options)
    this.name = 'TooManyConnectionsError'
  }
}

/** Node could not listen where asked (`EADDRINUSE`, `EACCES`, …); `cause` holds Node's error. */
export class ListenError extends Error {
  static override name = 'ListenError'

  constructor (message = 'Cannot listen', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ListenError'
  }
}
