import type { Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import { validate } from '@proto/interface'
import { connectionConfig } from './config.js'
import { openConnection } from './handle.js'
import { SocketCarrier } from './socket-carrier.js'
import type { Connection, ConnectionInit } from './types.js'

/** Options of `fromSocket()`. */
export interface FromSocketInit extends ConnectionInit {
  /** The Unix socket path, for `localAddress`/`remoteAddress` (Node does not report it). */
  path?: string
  /**
   * Keep the write side open after the peer's FIN (half-close), so `sink()` may still write. When
   * `false`, the peer's FIN is answered with ours at once unless a sink is running (it finishes first),
   * and the socket is released: a connection that only reads does not hold its socket for good.
   * @default socket.allowHalfOpen (Node's default for sockets: false)
   */
  allowHalfOpen?: boolean
}

/**
 * Wraps a `net.Socket` or `tls.TLSSocket` made elsewhere (connected or still connecting) as a
 * `Connection`. From now on the connection owns the socket: do not read from it, write to it or listen
 * for `'data'` yourself.
 */
export function fromSocket (socket: Socket, init: FromSocketInit = {}): Connection {
  validate.options('init', init)
  const halfOpen = validate.flag('allowHalfOpen', init.allowHalfOpen, socket.allowHalfOpen)
  const config = connectionConfig(init, { idPrefix: 'f', tls: socket instanceof TLSSocket, endWithPeer: !halfOpen })
  return openConnection(new SocketCarrier(socket, init.path), config)
}
