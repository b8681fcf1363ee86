import { validate } from '@proto/interface'
import type { Carrier } from './carrier.js'
import { connectionConfig } from './config.js'
import { openConnection } from './handle.js'
import type { Connection, ConnectionInit } from './types.js'

/** Options of `fromCarrier()`. */
export interface FromCarrierInit extends ConnectionInit {
  /**
   * Keep the write side open after the peer's FIN (half-close). When `false`, the peer's FIN is answered
   * with ours at once unless a sink is running.
   * @default true
   */
  allowHalfOpen?: boolean
  /** Whether the carrier speaks TLS (its failures are then reported as `TLSError`). @default false */
  tls?: boolean
}

/**
 * Makes a `Connection` over a carrier of your own (a WebSocket, a QUIC stream, …): the same bounded reads,
 * batched writes, half-close, abort, write-stall timeout and statistics as the built-in transports. The
 * connection owns the carrier from now on and calls `attach()` at once.
 */
export function fromCarrier (carrier: Carrier, init: FromCarrierInit = {}): Connection {
  validate.options('init', init)
  if (carrier == null || typeof carrier.attach !== 'function' || typeof carrier.write !== 'function') validate.invalid('carrier', 'a Carrier (attach, write, writev, end, pause, resume, reset, destroy, …)', carrier)
  const halfOpen = validate.flag('allowHalfOpen', init.allowHalfOpen, true)
  const config = connectionConfig(init, { idPrefix: 'x', tls: validate.flag('tls', init.tls, false), endWithPeer: !halfOpen })
  return openConnection(carrier, config)
}
