/**
 * @packageDocumentation
 *
 * Sessions over `@proto` connections: what one side's application writes reaches the other side's
 * application exactly once and in order, in both directions, across any number of reconnects, as long as
 * the session lives; when it cannot be resumed, both sides are told with the exact count of items that may
 * be affected. A client is one durable duplex of frames (`sessionClient`); a server hands every accepted
 * connection to `sessionServer`, which emits one durable duplex per session, carrying on across the
 * client's connections. Built on `@proto/reconnect` (retention) over `@proto/heartbeat` (HELLO) over
 * `@proto/codec`; the wire format is docs/PROTOCOL.md §6.
 *
 * @example
 *
 * ```ts
 * import { sessionClient, sessionServer } from '@proto/session'
 * import { connect, listen } from '@proto/transport'
 *
 * const server = sessionServer({ ttl: 120_000 })
 * server.addEventListener('session', ({ detail: session }) => {
 *   // echo, for as long as the session lives; a lost one (ttl passed, taken over) fails with SessionLostError
 *   session.sink(session.source).catch((err: Error) => { console.warn(`session ended: ${err.message}`) })
 * })
 * const tcp = await listen({ host: '127.0.0.1', port: 7000 }, async (conn) => { await server.handle(conn) })
 *
 * const client = sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port: 7000 }, { signal }))
 * client.addEventListener('session-lost', ({ detail }) => { console.warn(`${detail.unconfirmed} items may not have arrived`) })
 * client.sink([{ type: 0x40, body: new TextEncoder().encode('hello') }]).catch(() => {}) // a failure also ends the source
 * for await (const frame of client.source) console.log(frame.body)
 * ```
 */

export type { AckPolicy } from './acks.js'
export type { FrameKind } from './classify.js'
export { classify, isSequenced } from './classify.js'
export { sessionClient } from './client.js'
export * from './constants.js'
export * from './errors.js'
export type { SessionItem } from './inbound.js'
export type { RefusalReason, SessionServer, SessionServerEvents, SessionServerStats } from './server.js'
export { sessionServer } from './server.js'
export type { SessionCounters, SessionParams } from './state.js'
export type { RestoredSession, RestoreResult, SessionEnd, SessionOrigin, SessionSnapshot, SessionStore, StoredSession, StoreHost } from './store.js'
export { memoryStore } from './store.js'
export type * from './types.js'
export type { Ack, Resume } from './wire.js'
export { decodeAck, decodeEnd, decodeResume, encodeAck, encodeEnd, encodeResume } from './wire.js'
