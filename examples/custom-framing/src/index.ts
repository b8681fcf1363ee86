/**
 * @packageDocumentation
 *
 * @proto talking to a peer nobody here wrote: the classic `struct.pack('!BI', type, len)` protocol with
 * DATA 0x00, its own ping (0x01) and pong (0x02). `codec` with `formats.structBI` speaks its framing;
 * `heartbeat` with its ping/pong types keeps the link alive and answers its pings. Point it at any
 * '!BI' server (`runExample({ target })`), or let it start its own hand-written peer.
 *
 * @example
 *
 * ```ts
 * import { codec, formats } from '@proto/codec'
 * import { heartbeat } from '@proto/heartbeat'
 * import { connect } from '@proto/transport'
 *
 * const link = heartbeat(codec(await connect({ host: '127.0.0.1', port }), { format: formats.structBI }), {
 *   interval: 1_000, timeout: 3_000,
 *   pingType: 0x01, pongType: 0x02, pingBody: new Uint8Array(0), pongBody: new Uint8Array(0), goAwayType: null
 * })
 * ```
 */
export type { LegacyKeepAlive } from './client.js'
export { connectLegacy } from './client.js'
export type { LegacyPeer } from './legacy-peer.js'
export { LegacyType, pack, startLegacyPeer } from './legacy-peer.js'
export type { ExampleOptions } from './options.js'
export { DEFAULTS, ENV_HOST, ENV_PORT, HELP, parseExampleArgs, UsageError } from './options.js'
export type { RunSummary } from './run.js'
export { OWN_PEER_PING_EVERY, runExample } from './run.js'
