/**
 * @packageDocumentation
 *
 * A durable duplex: the user reads from and writes to one duplex for as long as they like while,
 * underneath, connections die and are redialled with capped, jittered exponential backoff. Writes made
 * while disconnected follow a bounded, explicit policy; order is kept. Delivery is at-most-once, or with
 * `retention` at-least-once: handed items are kept until confirmed and handed again after a reconnect.
 * Every item is counted, to the item, in one of the counters of `stats()`.
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

import { validate } from '@proto/interface'
import { Durable } from './durable.js'
import { resolveOptions } from './options.js'
import type { DialFunction, DurableDuplex, ReconnectInit } from './types.js'

/**
 * Wraps `dial` in a durable duplex that redials whenever the connection is lost. `TIn` is what the
 * connections' sources yield, `TOut` what their sinks take (the same type unless a stage above says
 * otherwise). The first dial starts on the next microtask. Throws `InvalidParametersError` at once on a
 * bad option.
 */
export function reconnect<TIn, TOut = TIn> (dial: DialFunction<TIn, TOut>, init: ReconnectInit<TOut> = {}): DurableDuplex<TIn, TOut> {
  validate.fn('dial', dial as DialFunction<TIn, TOut> | undefined)
  if (dial === undefined) validate.invalid('dial', 'a function returning a promise of a duplex', dial)
  const durable = new Durable(dial, resolveOptions(init))
  durable.start()
  return durable
}

export type { BackoffInit, DelayFunction, JitterStrategy } from './backoff.js'
export { backoff, delayCeiling } from './backoff.js'
export * as defaults from './constants.js'
export type { FailureKind } from './errors.js'
export {
  BufferOverflowError, ClosedError, ConnectionLostError, DialTimeoutError, ForcedReconnectError, InvalidParametersError,
  NotConnectedError, ReconnectFailedError
} from './errors.js'
export { defaultSize } from './options.js'
export type {
  BufferInit, DialContext, DialFunction, DisconnectReason, DurableDuplex, DurableSourceIterator, OverflowPolicy,
  ReconnectEventMap, ReconnectEventType, ReconnectInit, ReconnectStats, ReconnectStatus, RetentionInit, StatusEvent
} from './types.js'
export { ProtocolVersionError } from '@proto/interface'
