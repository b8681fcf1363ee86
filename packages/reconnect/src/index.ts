/**
 * @packageDocumentation
 *
 * A durable duplex: the user reads from and writes to one duplex for as long as they like while,
 * underneath, connections die and are redialled with capped, jittered exponential backoff. Writes made
 * while disconnected follow a bounded, explicit policy; order is kept; delivery is at-most-once and every
 * item that might have been lost is counted.
 *
 * @example
 *
 * ```ts
 * import { reconnect } from '@proto/reconnect'
 * import { pipe } from 'it-pipe'
 *
 * const link = reconnect(async ({ signal }) => await openConnection({ signal }), {
 *   maxDelay: 30_000,
 *   buffer: { maxMessages: 1_000, overflow: 'wait' }
 * })
 * link.addEventListener('disconnected', (evt) => { console.warn('lost link', evt.detail.reason) })
 *
 * void pipe(messagesToSend, link)                   // the sink lives across reconnections
 * for await (const message of link.source) handle(message)
 * await link.close()
 * ```
 */

import { Durable } from './durable.js'
import { InvalidParametersError } from './errors.js'
import { resolveOptions } from './options.js'
import type { DialFunction, DurableDuplex, ReconnectInit } from './types.js'

/**
 * Wraps `dial` in a durable duplex that redials whenever the connection is lost. The first dial starts
 * on the next microtask. Throws `InvalidParametersError` at once on a bad option.
 */
export function reconnect<T> (dial: DialFunction<T>, init: ReconnectInit<T> = {}): DurableDuplex<T> {
  if (typeof dial !== 'function') throw new InvalidParametersError('dial must be a function returning a promise of a duplex')
  return new Durable(dial, resolveOptions(init))
}

export type { BackoffInit, DelayFunction, JitterStrategy } from './backoff.js'
export { backoff, delayCeiling } from './backoff.js'
export * as defaults from './constants.js'
export type { FailureKind } from './errors.js'
export { BufferOverflowError, ClosedError, DialTimeoutError, InvalidParametersError, ReconnectFailedError } from './errors.js'
export { defaultSize } from './options.js'
export type {
  BufferInit, DialContext, DialFunction, DisconnectReason, DurableDuplex, ListenerOptions, OverflowPolicy, ReconnectEventMap,
  ReconnectEventType, ReconnectInit, ReconnectListener, ReconnectStats, ReconnectStatus, StatusEvent
} from './types.js'
