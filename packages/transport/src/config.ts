import type { Clock, Logger, Timers } from '@proto/interface'
import { createLogger, systemClock, systemTimers, validate } from '@proto/interface'
import { DEFAULT_CLOSE_TIMEOUT, DEFAULT_WRITE_STALL_TIMEOUT } from './constants.js'
import type { ConnectionInit, DisconnectInfo } from './types.js'

/** The component logger (`DEBUG=proto:transport`), shared by every connection and server. */
export const transportLog = createLogger('transport')

/** What a connection tells the server that owns it (the registry), without a promise per connection. */
export interface ConnectionOwner {
  /** The connection is gone; called once, before its `closed` resolves. */
  connectionGone(id: string, info: DisconnectInfo): void
  /** Why the owner asked its connections to go away, once it did (the reason of `goingAway`). */
  readonly goingAwayReason: Error | undefined
}

/**
 * Everything a connection needs from its options, validated once and shared: one object per server (or
 * per `connect()`), not a copy of each option in every connection.
 */
export interface ConnectionConfig {
  readonly clock: Clock
  readonly timers: Timers
  readonly log: Logger
  readonly closeTimeout: number
  /** 0 = off. */
  readonly writeStallTimeout: number
  /** Whether the carrier speaks TLS (for error mapping). */
  readonly tls: boolean
  /** Prefix of connection ids: `c` client, `s` server, `f` fromSocket, `m` memory, `x` fromCarrier. */
  readonly idPrefix: string
  /** Send FIN as soon as the peer's FIN arrives while no sink runs (a socket that is not half-open). */
  readonly endWithPeer: boolean
  readonly owner: ConnectionOwner | undefined
  /** `Date.now() - clock.now()` when the config was made: turns clock readings into epoch ms for stats. */
  readonly epochOffset: number
}

/** What the factory adds to the user's options. */
export interface ConfigExtras {
  idPrefix: string
  tls?: boolean
  endWithPeer?: boolean
  owner?: ConnectionOwner
  /** The `writeStallTimeout` default of this kind of connection. */
  writeStallTimeout?: number
}

/** Configs of connections that set none of the shared options, by kind: one object for all of them. */
const defaults = new Map<string, ConnectionConfig>()

/** Validates the options every connection takes and freezes them into a shared config. */
export function connectionConfig (init: ConnectionInit, extras: ConfigExtras): ConnectionConfig {
  validate.options('init', init)
  const plain = init.clock === undefined && init.timers === undefined && init.logger === undefined
    && init.closeTimeout === undefined && init.writeStallTimeout === undefined && extras.owner === undefined
  if (!plain) return makeConfig(init, extras)
  const key = `${extras.idPrefix}|${String(extras.tls)}|${String(extras.endWithPeer)}|${String(extras.writeStallTimeout)}`
  let config = defaults.get(key)
  if (config === undefined) defaults.set(key, config = makeConfig(init, extras))
  return config
}

function makeConfig (init: ConnectionInit, extras: ConfigExtras): ConnectionConfig {
  const clock = validate.hook('clock', init.clock, 'now') ?? systemClock
  return Object.freeze({
    clock,
    timers: validate.hook('timers', init.timers, 'setTimeout') ?? systemTimers,
    log: init.logger ?? transportLog,
    closeTimeout: validate.duration('closeTimeout', init.closeTimeout, DEFAULT_CLOSE_TIMEOUT),
    writeStallTimeout: validate.duration('writeStallTimeout', init.writeStallTimeout, extras.writeStallTimeout ?? DEFAULT_WRITE_STALL_TIMEOUT),
    tls: extras.tls ?? false,
    idPrefix: extras.idPrefix,
    endWithPeer: extras.endWithPeer ?? false,
    owner: extras.owner,
    epochOffset: Date.now() - clock.now()
  })
}
