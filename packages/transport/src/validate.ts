import { MAX_KEEP_ALIVE_SECONDS } from './constants.js'
import { InvalidParametersError } from './errors.js'
import type { ConnectionInit } from './types.js'

/** Checks a duration in ms: a finite number ≥ 0 (or > 0 when `positive`). */
export function checkMs (name: string, value: number | undefined, positive = false): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new InvalidParametersError(`expected ${name} to be a ${positive ? 'positive' : 'non-negative'} number of milliseconds, but got ${String(value)}`)
  }
}

/** Checks an optional integer within [min, max]. */
export function checkInt (name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidParametersError(`expected ${name} to be an integer from ${min} to ${max}, but got ${String(value)}`)
  }
}

/**
 * Checks `keepAlive` and returns the delay for Node in ms, or `false`. Only whole seconds are accepted:
 * Node truncates the delay to seconds, and a result of 0 means "the OS default" (2 hours on Linux).
 */
export function keepAliveDelay (value: false | number | undefined): false | number {
  if (value === undefined || value === false) return false
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_KEEP_ALIVE_SECONDS) {
    throw new InvalidParametersError(`expected keepAlive to be false or whole seconds from 1 to ${MAX_KEEP_ALIVE_SECONDS}, but got ${String(value)}; Node truncates keep-alive delays to whole seconds and turns anything under one second into the OS default (2 hours on Linux), so pass e.g. 1 or 30`)
  }
  return value * 1000
}

/** Checks where to connect or listen: `path`, or `host`/`port`, never both. */
export function checkEndpoint (init: { host?: string, port?: number, path?: string }, portMin: number): void {
  if (init.path != null) {
    if (typeof init.path !== 'string' || init.path === '') throw new InvalidParametersError(`expected path to be a non-empty Unix socket path, but got ${String(init.path)}`)
    if (init.host != null || init.port != null) throw new InvalidParametersError('expected either path (Unix socket) or host/port (TCP), but got both; pass one of them')
    return
  }
  if (init.host != null && (typeof init.host !== 'string' || init.host === '')) throw new InvalidParametersError(`expected host to be a host name or IP address, but got ${String(init.host)}`)
  if (init.port === undefined && portMin > 0) throw new InvalidParametersError('expected a port (with an optional host) or a Unix socket path, but got neither')
  checkInt('port', init.port, portMin, 65535)
}

/** Checks the options every connection takes. */
export function checkConnectionInit (init: ConnectionInit): void {
  checkMs('closeTimeout', init.closeTimeout)
}
