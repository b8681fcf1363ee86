import { ConnectionClosedError, ConnectionRefusedError, ConnectionResetError, ConnectTimeoutError, TLSError } from './errors.js'
import type { DisconnectReason } from './types.js'

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'])
const REFUSED_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ENOTSOCK', 'EACCES'])
const NETWORK_CODES = new Set([...RESET_CODES, ...REFUSED_CODES, 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'])

/** Whether `err` came from OpenSSL or Node's TLS layer (handshake, alert, certificate check). */
export function isTLSFailure (err: unknown): boolean {
  const e = err as { code?: unknown, library?: unknown }
  if (typeof e?.code !== 'string') return e?.library != null
  if (e.code.startsWith('ERR_SSL_') || e.code.startsWith('ERR_TLS_')) return true
  // Certificate verification codes (DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED, …) are upper-case words.
  return !NETWORK_CODES.has(e.code) && !e.code.startsWith('ERR_') && /^[A-Z_]+$/.test(e.code) && !e.code.startsWith('E')
}

function codeOf (err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' ? code : undefined
}

/** Turns an error from a socket that was connecting into the typed error `connect()` rejects with. */
export function mapConnectError (err: unknown, target: string, tls: boolean): Error {
  const code = codeOf(err)
  if (code != null && REFUSED_CODES.has(code)) {
    return new ConnectionRefusedError(`expected a listener at ${target}, but the connection was refused (${code}); check that the server runs and the address is right`, { cause: err })
  }
  if (code === 'ETIMEDOUT') {
    return new ConnectTimeoutError(`expected ${target} to answer, but the kernel gave up (ETIMEDOUT); check the address and any firewall`, { cause: err })
  }
  if (tls && isTLSFailure(err)) {
    return new TLSError(`expected a verified TLS session with ${target}, but the handshake failed (${code ?? (err as Error)?.message}); check ca, cert, key and servername`, { cause: err })
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
      error: new TLSError(`TLS failure on the connection to ${peer} (${code ?? (err as Error)?.message}); check certificates on both sides`, { cause: err })
    }
  }
  return {
    reason: 'error',
    error: new ConnectionClosedError(`socket error on the connection to ${peer}: ${(err as Error)?.message ?? String(err)}`, { cause: err })
  }
}
