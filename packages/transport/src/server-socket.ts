import net from 'node:net'
import tls from 'node:tls'
import { DEFAULT_NO_DELAY } from './constants.js'
import type { ListenInit } from './types.js'
import { keepAliveDelay } from './validate.js'

/** Makes the Node server for `init`: plain TCP/Unix or TLS, always half-open. */
export function createNodeServer (init: ListenInit): net.Server {
  if (init.tls == null) return net.createServer({ allowHalfOpen: true })
  const t = init.tls
  const requestCert = t.requestCert ?? false
  const options: tls.TlsOptions = {
    allowHalfOpen: true,
    cert: t.cert,
    key: t.key,
    requestCert,
    rejectUnauthorized: requestCert ? (t.rejectUnauthorized ?? true) : false
  }
  if (t.ca != null) options.ca = t.ca
  if (t.ALPNProtocols != null) options.ALPNProtocols = t.ALPNProtocols
  if (t.minVersion != null) options.minVersion = t.minVersion
  return tls.createServer(options)
}

/** Applies per-socket options to an accepted raw socket. */
export function tuneAccepted (raw: net.Socket, init: ListenInit): void {
  const keepAlive = keepAliveDelay(init.keepAlive)
  raw.setNoDelay(init.noDelay ?? DEFAULT_NO_DELAY)
  if (keepAlive !== false) raw.setKeepAlive(true, keepAlive)
}
