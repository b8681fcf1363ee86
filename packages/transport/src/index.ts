/**
 * @packageDocumentation
 *
 * TCP, TLS and Unix-socket connections as byte duplexes (`{ source, sink }` of `Uint8Array |
 * Uint8ArrayList`), for both ends of a link, and a server that knows its connections. Reads are bounded
 * (a consumer that stops reading stops the socket), writes are batched (one socket write per producer
 * run, `writev` for large chunks), and every way a socket can die ends in a typed disconnect reason.
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
 * server.on('disconnect', ({ connection, info }) => { console.log(connection.id, info.reason) })
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

export { connect } from './connect.js'
export {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_SERVER_CLOSE_DEADLINE,
  READ_HIGH_WATER_MARK,
  WRITE_FLUSH_THRESHOLD
} from './constants.js'
export {
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectionResetError,
  ConnectTimeoutError,
  HandlerError,
  IdleTimeoutError,
  InvalidParametersError,
  ListenError,
  ServerClosedError,
  TLSError,
  TooManyConnectionsError} from './errors.js'
export type { FromSocketInit } from './from-socket.js'
export { fromSocket } from './from-socket.js'
export { memoryPair } from './memory-pair.js'
export type { ConnectionHandler } from './server.js'
export { listen } from './server.js'
export type {
  ClientTLSInit,
  ConnectInit,
  Connection,
  ConnectionAddress,
  ConnectionInit,
  ConnectionRegistry,
  ConnectionStats,
  DisconnectInfo,
  DisconnectReason,
  DropEvent,
  ListenInit,
  MemoryPairInit,
  Server,
  ServerCloseOptions,
  ServerErrorEvent,
  ServerEvents,
  ServerTLSInit} from './types.js'
