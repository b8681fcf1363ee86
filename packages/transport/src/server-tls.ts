import type net from 'node:net'
import tls from 'node:tls'
import type { ConnectionAddress } from '@proto/interface'
import { tcpAddress } from '@proto/interface'
import { ConnectionResetError, HandshakeTimeoutError, TLSError } from './errors.js'
import { isTLSFailure, tlsHint } from './map-error.js'
import type { DropReason, ServerTLSInit } from './server-types.js'
import { badTLSOption } from './validate.js'

/** Where a TLS acceptor reports how each handshake ended. */
export interface HandshakeOwner {
  /** The client finished the handshake (and passed the certificate check, if one was asked for). */
  secured(socket: tls.TLSSocket): void
  /** The handshake ended without a connection; the socket is already being destroyed. */
  handshakeFailed(reason: DropReason, error: Error, address: ConnectionAddress | undefined): void
}

function codeOf (err: Error): string | undefined {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

function failure (err: Error, socket: tls.TLSSocket, t: ServerTLSInit, timeout: number): { reason: DropReason, error: Error } {
  const code = codeOf(err)
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
    return { reason: 'tls-handshake-timeout', error: new HandshakeTimeoutError(`expected the client to finish the TLS handshake within handshakeTimeout (${timeout} ms), but it did not; dropped it`, { cause: err }) }
  }
  // Node verifies a client certificate after the handshake and closes without an alert when it fails;
  // the verification code is kept on the socket.
  const refused = socket.authorizationError as unknown as string | null | undefined
  if (refused != null) {
    return { reason: 'tls-handshake', error: new TLSError(`expected a client certificate that verifies against tls.ca, but it did not (${refused}); dropped the client before the handler`, { cause: err, code: refused, fatal: true }) }
  }
  if (isTLSFailure(err)) {
    return { reason: 'tls-handshake', error: new TLSError(`expected a client to complete the TLS handshake${t.requestCert === true ? ' with a verified certificate' : ''}, but it failed (${code ?? err.message}); ${tlsHint(code)}; the client never reached the handler`, { cause: err, code, fatal: true }) }
  }
  return { reason: 'tls-handshake', error: new ConnectionResetError(`expected a client to complete the TLS handshake, but it closed the connection first (${code ?? err.message}); a port scan or a TCP health check does this`, { cause: err }) }
}

/**
 * Runs TLS handshakes on accepted sockets. A `tls.Server` that never listens takes each admitted socket
 * (`emit('connection')`, the documented way to hand a server a connection), so sockets the server refuses
 * never get a TLS layer. Node's `handshakeTimeout` bounds each handshake from the moment it is handed over
 * (it is not pushed back by handshake bytes); every way a handshake can end — success, failure, timeout,
 * the client leaving — ends in `secured` or `handshakeFailed`, and failed sockets are destroyed.
 */
export function tlsAcceptor (t: ServerTLSInit, handshakeTimeout: number, path: string | undefined, owner: HandshakeOwner): (raw: net.Socket) => void {
  const requestCert = t.requestCert ?? false
  const options: tls.TlsOptions = {
    cert: t.cert,
    key: t.key,
    requestCert,
    rejectUnauthorized: requestCert ? (t.rejectUnauthorized ?? true) : false,
    handshakeTimeout
  }
  if (t.ca != null) options.ca = t.ca
  if (t.ALPNProtocols != null) options.ALPNProtocols = t.ALPNProtocols
  if (t.minVersion != null) options.minVersion = t.minVersion
  if (t.maxVersion != null) options.maxVersion = t.maxVersion
  let server: tls.Server
  try {
    server = tls.createServer(options)
  } catch (err) {
    throw badTLSOption(err)
  }
  server.on('secureConnection', (socket: tls.TLSSocket) => { owner.secured(socket) })
  server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
    const address: ConnectionAddress | undefined = path != null ? { family: 'unix', path } : tcpAddress(socket.remoteFamily, socket.remoteAddress, socket.remotePort)
    // Node leaves a timed-out handshake open; the slot is freed only when the socket goes.
    socket.destroy()
    const { reason, error } = failure(err, socket, t, handshakeTimeout)
    owner.handshakeFailed(reason, error, address)
  })
  return (raw) => { server.emit('connection', raw) }
}
