/** An option was missing, of the wrong type, or out of range. Thrown at once, before any I/O. */
export class InvalidParametersError extends Error {
  static override name = 'InvalidParametersError'

  constructor (message = 'Invalid parameters', options?: ErrorOptions) {
    super(message, options)
    this.name = 'InvalidParametersError'
  }
}

/** Nothing listens at the address (`ECONNREFUSED`, or a missing Unix socket file). */
export class ConnectionRefusedError extends Error {
  static override name = 'ConnectionRefusedError'

  constructor (message = 'Connection refused', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ConnectionRefusedError'
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

/** A TLS handshake or certificate check failed; `cause` holds Node's error with its OpenSSL code. */
export class TLSError extends Error {
  static override name = 'TLSError'

  constructor (message = 'TLS failure', options?: ErrorOptions) {
    super(message, options)
    this.name = 'TLSError'
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

/** The server closed and its close deadline passed before this connection finished. */
export class ServerClosedError extends Error {
  static override name = 'ServerClosedError'

  constructor (message = 'Server closed', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ServerClosedError'
  }
}

/** A connection arrived while the server already held `maxConnections`; it was dropped. */
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
