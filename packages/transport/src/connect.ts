import net from 'node:net'
import tls from 'node:tls'
import type { AbortOptions } from '@proto/interface'
import { validate } from '@proto/interface'
import { connectionConfig } from './config.js'
import { DEFAULT_CONNECT_TIMEOUT, DEFAULT_NO_DELAY } from './constants.js'
import { ConnectTimeoutError } from './errors.js'
import { openConnection } from './handle.js'
import { mapConnectError } from './map-error.js'
import { SocketCarrier } from './socket-carrier.js'
import type { ConnectInit, Connection } from './types.js'
import { badTLSOption, checkEndpoint, keepAliveDelay } from './validate.js'

function socketOptions (init: ConnectInit): Record<string, unknown> {
  const keepAlive = keepAliveDelay(init.keepAlive)
  const base: Record<string, unknown> = {
    allowHalfOpen: true,
    noDelay: init.noDelay ?? DEFAULT_NO_DELAY,
    keepAlive: keepAlive !== false,
    keepAliveInitialDelay: keepAlive === false ? 0 : keepAlive
  }
  if (init.path != null) base.path = init.path
  else {
    base.host = init.host ?? 'localhost'
    base.port = init.port
  }
  if (init.tls != null) {
    const { servername, ...rest } = init.tls
    Object.assign(base, rest)
    if (servername != null) base.servername = servername
  }
  return base
}

/**
 * `tls.connect` over a TCP (or Unix) socket of our own, with a certificate, key or CA it cannot read
 * reported as the bad option it is. The TLS socket keeps the one it wraps (`_parent`), so an abort can
 * reset it (RST): a TLS socket that made its own connection can only close, which its peer reads as a
 * clean end.
 */
function tlsConnect (opts: tls.ConnectionOptions): tls.TLSSocket {
  const raw = net.connect(opts as net.NetConnectOpts)
  try {
    return tls.connect({ ...opts, socket: raw })
  } catch (err) {
    raw.destroy()
    throw badTLSOption(err)
  }
}

function describeTarget (init: ConnectInit): string {
  if (init.path != null) return init.path
  const host = init.host ?? 'localhost'
  return host.includes(':') ? `[${host}]:${String(init.port)}` : `${host}:${String(init.port)}`
}

/**
 * Opens a TCP, TLS or Unix-socket connection. Rejects with `ConnectionRefusedError`,
 * `ConnectTimeoutError`, `HostNotFoundError`, `HostUnreachableError`, `TLSError`, `ConnectionResetError`,
 * `InvalidParametersError`, or `signal.reason`.
 */
export async function connect (init: ConnectInit, options: AbortOptions = {}): Promise<Connection> {
  validate.options('init', init)
  validate.options('options', options)
  validate.signal('options.signal', options.signal)
  validate.fn('createSocket', init.createSocket)
  checkEndpoint(init, 1)
  const timeout = validate.duration('connectTimeout', init.connectTimeout, DEFAULT_CONNECT_TIMEOUT, { exclusiveMin: true })
  const useTLS = init.tls != null
  const config = connectionConfig(init, { idPrefix: 'c', tls: useTLS })
  const opts = socketOptions(init)
  options.signal?.throwIfAborted()
  const target = describeTarget(init)
  const socket = init.createSocket?.(opts as unknown as net.NetConnectOpts & tls.ConnectionOptions) ?? (useTLS ? tlsConnect(opts as tls.ConnectionOptions) : net.connect(opts as unknown as net.NetConnectOpts))
  const signal = options.signal
  await new Promise<void>((resolve, reject) => {
    let peerEnded = false
    const fail = (err: Error): void => {
      cleanup()
      // A failing socket may report more than one error while it is torn down; none may go unhandled.
      socket.on('error', () => {})
      socket.destroy()
      reject(err)
    }
    const onError = (err: Error): void => { fail(mapConnectError(err, target, useTLS ? { peerEnded, cert: init.tls?.cert } : undefined)) }
    const onEnd = (): void => { peerEnded = true }
    const onAbort = (): void => { fail(signal?.reason as Error) }
    const onConnect = (): void => {
      cleanup()
      resolve()
    }
    const timer = config.timers.setTimeout(() => {
      fail(new ConnectTimeoutError(`expected ${target} to complete the ${useTLS ? 'TCP and TLS handshakes' : 'TCP handshake'} within connectTimeout (${timeout} ms), but it did not; check the address, or raise connectTimeout`))
    }, timeout)
    const event = useTLS ? 'secureConnect' : 'connect'
    function cleanup (): void {
      timer.cancel()
      socket.off('error', onError)
      socket.off('end', onEnd)
      socket.off(event, onConnect)
      signal?.removeEventListener('abort', onAbort)
    }
    socket.on('error', onError)
    socket.on('end', onEnd)
    socket.once(event, onConnect)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
  return openConnection(new SocketCarrier(socket, init.path), config)
}
