/**
 * @packageDocumentation
 *
 * Keep-alive for frame duplexes that tells a dead peer from a busy one. `heartbeat(frames)` sends a ping
 * when nothing has been sent for `interval`, answers the peer's pings ahead of queued data, and destroys
 * the connection with a `HeartbeatTimeoutError` when nothing at all has arrived for `timeout`. A consumer
 * that stops reading is not mistaken for a dead peer, and a blocked event loop is not either. The same
 * stage runs on clients and servers; `close()` and the owner's `goingAway` end it without losing what was
 * accepted, and a peer that breaks the protocol is closed with a typed error.
 *
 * @example
 *
 * ```ts
 * import { codec, FrameType } from '@proto/codec'
 * import { heartbeat } from '@proto/heartbeat'
 * import { connect } from '@proto/transport'
 * import { pipe } from 'it-pipe'
 *
 * const link = heartbeat(codec(await connect({ host: '127.0.0.1', port: 7000 })), { interval: 5_000, timeout: 15_000 })
 * link.addEventListener('rtt', (e) => { console.log('rtt', e.detail.rtt, 'ms') })
 * link.addEventListener('timeout', (e) => { console.error(e.detail.message) })
 * await pipe(
 *   [{ type: FrameType.DATA, body: new TextEncoder().encode('hello') }],
 *   link,
 *   async (source) => {
 *     for await (const frame of source) console.log(frame.type, frame.body)
 *   }
 * )
 * ```
 */

import type { FrameDuplex } from '@proto/codec'
import { validate } from '@proto/interface'
import { Stage } from './heartbeat.js'
import type { HeartbeatInit } from './init.js'
import { HeartbeatLink } from './link.js'
import { resolveConfig } from './options.js'
import type { HeartbeatDuplex } from './types.js'

export {
  DEFAULT_ADAPTIVE_INTERVAL_MAX_FACTOR, DEFAULT_ADAPTIVE_INTERVAL_MIN_DIVISOR, DEFAULT_CLOSE_TIMEOUT, DEFAULT_GROW_AFTER,
  DEFAULT_GROW_FACTOR, DEFAULT_INTERVAL, DEFAULT_JITTER, DEFAULT_MAX_PING_BODY, DEFAULT_MAX_PING_STRIKES,
  DEFAULT_MAX_QUEUED_BYTES, DEFAULT_MAX_QUEUED_FRAMES, DEFAULT_MEMORY_TTL, DEFAULT_PEER_TIMEOUT_FACTOR,
  DEFAULT_PEER_TIMEOUT_FLOOR, DEFAULT_RECENT_LOSS, DEFAULT_RTT_SAMPLES, DEFAULT_STALL_THRESHOLD, DEFAULT_TIMEOUT,
  MAX_GROWTH_PENALTY, MAX_QUEUED_PONG_BYTES, MAX_QUEUED_PONGS
} from './constants.js'
export {
  CloseTimeoutError, GoAwayError, HeartbeatTimeoutError, InvalidParametersError, ProtocolVersionError,
  ProtocolViolationError, TooManyPingsError
} from './errors.js'
export type { GoAwayDetail, GoAwayTarget, HeartbeatEvents } from './events.js'
export type { AdaptiveInit, AdaptiveIntervalInit, HeartbeatInit } from './init.js'
export type { IntervalReason } from './interval.js'
export type { IntervalMemory, IntervalMemoryInit, IntervalMemorySnapshot } from './memory.js'
export { intervalMemory } from './memory.js'
export type { RttStats } from './rtt.js'
export type { HeartbeatDuplex, HeartbeatSource, HeartbeatStats } from './types.js'

/**
 * Wraps a frame duplex (usually `codec(connection)`) in a keep-alive stage. Options are validated at
 * once (`InvalidParametersError`). The stage starts reading and writing `lower` before it returns: pings
 * and pongs flow even before `sink` is called or `source` is read.
 */
export function heartbeat (lower: FrameDuplex, init?: HeartbeatInit): HeartbeatDuplex {
  validate.duplex('lower', lower)
  const cfg = resolveConfig(init)
  let stage: Stage | undefined
  const link = new HeartbeatLink(events => (stage = new Stage(lower, cfg, events)))
  ;(stage as Stage).start()
  return link
}

/**
 * Checks `init` as `heartbeat()` does, throwing the same `InvalidParametersError`, without a connection:
 * for code that makes its heartbeats later, one per connection (e.g. `@proto/session`), and should refuse
 * bad options when it is set up rather than at every connection.
 */
export function checkHeartbeatInit (init?: HeartbeatInit): void {
  resolveConfig(init)
}
