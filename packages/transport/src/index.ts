/**
 * @packageDocumentation
 *
 * TCP, TLS and Unix-socket connections as byte duplexes (`{ source, sink }` of `Uint8Array |
 * Uint8ArrayList`), for both ends of a link, and a server that knows its connections. Reads are bounded
 * (a consumer that stops reading stops the socket), writes are batched (one socket write per producer
 * run, `writev` for large chunks), every way a socket can die ends in a typed disconnect reason, and a
 * server bounds what hostile peers can hold (handshake and write-stall timeouts, per-source limits).
 *
 * @example
 *
 * ```ts
 * import { connect, listen } from '@proto/transport'
 * import { pipe } from 'it-pipe'
 *
 * // An echo server on a free port.
 * const server = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => {
 *   await pipe(conn, conn)
 * })
 * server.addEventListener('disconnect', ({ detail }) => { console.log(detail.connection.id, detail.info.reason) })
 *
 * const { port } = server.address as { port: number }
 * const conn = await connect({ host: '127.0.0.1', port })
 * const [, reply] = await Promise.all([
 *   conn.sink([new TextEncoder().encode('hello')]),  // writes, then half-closes (FIN)
 *   (async () => { const parts = []; for await (const c of conn.source) parts.push(c.subarray()); return parts })()
 * ])
 * console.log(Buffer.concat(reply).toString())        // 'hello'
 * console.log((await conn.closed).reason)              // 'closed'
 * await server.close()
 * ```
 */

export type { Carrier, CarrierEvents } from './carrier.js'
export { connect } from './connect.js'
export {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_SERVER_CLOSE_DEADLINE,
  DEFAULT_WRITE_STALL_TIMEOUT,
  READ_HIGH_WATER_MARK,
  WRITE_FLUSH_THRESHOLD
} from './constants.js'
export type { TLSErrorOptions } from './errors.js'
export {
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectionResetError,
  ConnectTimeoutError,
  HandlerError,
  HandshakeTimeoutError,
  HostNotFoundError,
  HostUnreachableError,
  IdleTimeoutError,
  ListenError,
  ServerClosedError,
  ServerClosingError,
  TLSError,
  TooManyConnectionsError,
  WriteStallError
} from './errors.js'
export type { FromCarrierInit } from './from-carrier.js'
export { fromCarrier } from './from-carrier.js'
export type { FromSocketInit } from './from-socket.js'
export { fromSocket } from './from-socket.js'
export { memoryPair } from './memory-pair.js'
export { listen } from './server.js'
export type { ConnectionHandler } from './server-core.js'
export type {
  ConnectionRegistry,
  DropEvent,
  DropReason,
  ListenInit,
  Server,
  ServerCloseOptions,
  ServerErrorEvent,
  ServerEvents,
  ServerTLSInit
} from './server-types.js'
export type {
  ClientTLSInit,
  ConnectInit,
  Connection,
  ConnectionInit,
  ConnectionStats,
  DisconnectInfo,
  DisconnectReason,
  MemoryPairInit,
  TLSInfo
} from './types.js'
export type { ConnectionAddress, ConnectionAddresses } from '@proto/interface'
export { InvalidParametersError } from '@proto/interface'
