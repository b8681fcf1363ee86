import type { Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import { CarrierConnection } from './connection.js'
import { SocketCarrier } from './socket-carrier.js'
import type { Connection, ConnectionInit } from './types.js'
import { checkConnectionInit } from './validate.js'

/** Options of `fromSocket()`. */
export interface FromSocketInit extends ConnectionInit {
  /** The Unix socket path, for `localAddress`/`remoteAddress` (Node does not report it). */
  path?: string
}

/**
 * Wraps a `net.Socket` or `tls.TLSSocket` made elsewhere (connected or still connecting) as a
 * `Connection`. The socket is switched to half-open mode; from now on the connection owns it: do not
 * read from it, write to it or listen for `'data'` yourself.
 */
export function fromSocket (socket: Socket, init: FromSocketInit = {}): Connection {
  checkConnectionInit(init)
  return new CarrierConnection(new SocketCarrier(socket, init.path), { ...init, tls: socket instanceof TLSSocket, idPrefix: 'f' })
}
