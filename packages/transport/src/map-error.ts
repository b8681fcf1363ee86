import { X509Certificate } from 'node:crypto'
import { ConnectionClosedError, ConnectionRefusedError, ConnectionResetError, ConnectTimeoutError, HostNotFoundError, HostUnreachableError, TLSError } from './errors.js'
import type { DisconnectReason } from './types.js'

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'])
const REFUSED_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ENOTSOCK', 'EACCES'])
/** What the resolver answers for a name it cannot resolve (`getaddrinfo`, or Node's `dns` module behind a `lookup`). */
const NOT_FOUND_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL', 'ENONAME'])
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN'])
const NETWORK_CODES = new Set([...RESET_CODES, ...REFUSED_CODES, ...NOT_FOUND_CODES, ...UNREACHABLE_CODES, 'ETIMEDOUT', 'EADDRNOTAVAIL'])

/** Our code for a peer that closed the connection in the middle of the TLS handshake without an alert. */
export const HANDSHAKE_CLOSED = 'ERR_TLS_HANDSHAKE_CLOSED'

/** Whether `err` came from OpenSSL or Node's TLS layer (handshake, alert, certificate check). */
export function isTLSFailure (err: unknown): boolean {
  const e = err as { code?: unknown, library?: unknown }
  if (typeof e?.code !== 'string') return e?.library != null
  if (e.code.startsWith('ERR_SSL_') || e.code.startsWith('ERR_TLS_')) return true
  // Certificate verification codes (DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED, …) are upper-case words.
  return !NETWORK_CODES.has(e.code) && !e.code.startsWith('ERR_') && /^[A-Z_]+$/.test(e.code) && !e.code.startsWith('E')
}

/** Record-layer damage (a corrupting path) may not happen again; everything else about TLS will. */
function fatalTLS (code: string | undefined): boolean {
  return code === undefined || !(code.includes('BAD_RECORD_MAC') || code.includes('DECRYPTION_FAILED'))
}

/** What to do about a TLS failure, by code. */
export function tlsHint (code: string | undefined): string {
  if (code === undefined) return 'check ca, cert, key and servername'
  if (code.includes('CERTIFICATE_REQUIRED') || code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') return 'the server requires a client certificate: pass tls.cert and tls.key'
  if (code.includes('ALERT_UNKNOWN_CA') || code.includes('ALERT_BAD_CERTIFICATE')) return 'the peer does not trust the CA that issued this side\'s certificate'
  if (code.includes('ALERT_CERTIFICATE_EXPIRED')) return 'the peer says this side\'s certificate expired: renew it'
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'the server\'s certificate is not for this name: set tls.servername or fix the certificate'
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return 'the certificate is outside its validity dates: renew it (or check the clock)'
  if (!code.startsWith('ERR_')) return 'the certificate does not verify against the trusted CAs: check ca on the verifying side'
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') return 'the peer does not speak TLS here (or a different version): check the port and tls on both sides'
  return 'check ca, cert, key, servername and the TLS versions on both sides'
}

function codeOf (err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' ? code : undefined
}

/** `CERT_HAS_EXPIRED` or `CERT_NOT_YET_VALID` when the (leaf) certificate is outside its validity dates. */
export function certificateDateProblem (cert: string | Buffer | Array<string | Buffer> | undefined, now = Date.now()): string | undefined {
  const pem = Array.isArray(cert) ? cert[0] : cert
  if (pem == null) return undefined
  try {
    const x = new X509Certificate(pem)
    if (Date.parse(x.validTo) < now) return 'CERT_HAS_EXPIRED'
    if (Date.parse(x.validFrom) > now) return 'CERT_NOT_YET_VALID'
  } catch {}
  return undefined
}

/** What `connect()` knows about a TLS attempt that failed. */
export interface TLSAttempt {
  /** The peer sent FIN before the handshake finished (closed it without an alert). */
  peerEnded: boolean
  /** The client certificate offered, if any. */
  cert: string | Buffer | Array<string | Buffer> | undefined
}

/** Turns an error from a socket that was connecting into the typed error `connect()` rejects with. */
export function mapConnectError (err: unknown, target: string, tls: TLSAttempt | undefined): Error {
  const code = codeOf(err)
  if (code != null && REFUSED_CODES.has(code)) {
    return new ConnectionRefusedError(`expected a listener at ${target}, but the connection was refused (${code}); check that the server runs and the address is right`, { cause: err })
  }
  if (code === 'ETIMEDOUT') {
    return new ConnectTimeoutError(`expected ${target} to answer, but the kernel gave up (ETIMEDOUT); check the address and any firewall`, { cause: err })
  }
  if (code != null && NOT_FOUND_CODES.has(code)) {
    const temporary = code === 'EAI_AGAIN' || code === 'ESERVFAIL'
    return new HostNotFoundError(temporary
      ? `expected the host of ${target} to resolve, but the resolver could not answer now (${code}: a temporary DNS failure); it may resolve on a retry`
      : `expected the host of ${target} to resolve, but the resolver knows no such name (${code}); check the host name`, { cause: err })
  }
  if (code != null && UNREACHABLE_CODES.has(code)) {
    return new HostUnreachableError(`expected to reach ${target}, but there is no route to it (${code}); check the address and the network`, { cause: err })
  }
  if (tls != null && isTLSFailure(err)) {
    return new TLSError(`expected a verified TLS session with ${target}, but the handshake failed (${code ?? (err as Error)?.message}); ${tlsHint(code)}`, { cause: err, code, fatal: fatalTLS(code) })
  }
  if (tls?.peerEnded === true) {
    const dates = certificateDateProblem(tls.cert)
    if (dates !== undefined) {
      return new TLSError(`expected ${target} to accept this client's certificate, but it closed the TLS handshake, and the certificate is outside its validity dates (${dates}); ${tlsHint(dates)}`, { cause: err, code: dates, fatal: true })
    }
    return new TLSError(`expected ${target} to complete the TLS handshake, but it closed the connection in the middle of it without a TLS alert; a Node server (this SDK's included) does that when it refuses a client certificate (from a CA it does not trust, or expired): check tls.cert and the server's ca. A server shedding load or shutting down does it too`, { cause: err, code: HANDSHAKE_CLOSED, fatal: false })
  }
  if (code != null && RESET_CODES.has(code)) {
    return new ConnectionResetError(`expected ${target} to accept the connection, but it was reset during the handshake (${code}); the server may be full or refusing clients`, { cause: err })
  }
  return new ConnectionClosedError(`connecting to ${target} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err })
}

/** Turns an error from an open socket into the typed error and the disconnect reason it stands for. */
export function mapSocketError (err: unknown, peer: string, tls: boolean): { error: Error, reason: DisconnectReason } {
  const code = codeOf(err)
  if (code != null && RESET_CODES.has(code)) {
    return {
      reason: 'reset',
      error: new ConnectionResetError(`expected the connection to ${peer} to stay open, but the peer reset it (${code}); reconnect if the work is not done`, { cause: err })
    }
  }
  if (code === 'ETIMEDOUT') {
    return {
      reason: 'reset',
      error: new ConnectionResetError(`the kernel gave up on ${peer} (ETIMEDOUT: keep-alive or retransmission timeout); the peer or the path to it is gone`, { cause: err })
    }
  }
  if (tls && isTLSFailure(err)) {
    return {
      reason: 'error',
      error: new TLSError(`TLS failure on the connection to ${peer} (${code ?? (err as Error)?.message}); ${tlsHint(code)}`, { cause: err, code, fatal: fatalTLS(code) })
    }
  }
  return {
    reason: 'error',
    error: new ConnectionClosedError(`socket error on the connection to ${peer}: ${(err as Error)?.message ?? String(err)}`, { cause: err })
  }
}
