import type { LoggerFactory } from './logger.js'
import { setLoggerFactory as setFactory } from './logger.js'
import { invalid } from './validate.js'

/**
 * Replaces how every `@proto` component gets its logger. Pass `undefined` to go back to `DEBUG`/`PROTO_DEBUG`.
 * Throws `InvalidParametersError` at once for anything else that is not a function: every later
 * `createLogger()` would fail on it.
 */
export function setLoggerFactory (next: LoggerFactory | undefined): void {
  if (next !== undefined && typeof next !== 'function') invalid('setLoggerFactory(factory)', 'a function (component) => Logger, or undefined for the default', next)
  setFactory(next)
}
