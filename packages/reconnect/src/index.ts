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
import type { ResolvedOptions } from './options.js'
import { resolveOptions } from './options.js'
import type { DialFunction, DurableDuplex, LinkInit, ReconnectInit, Reconnector } from './types.js'

/**
 * Wraps `dial` in a durable duplex that redials whenever the connection is lost. `TIn` is what the
 * connections' sources yield, `TOut` what their sinks take (the same type unless a stage above says
 * otherwise). The first dial starts on the next microtask. Throws `InvalidParametersError` at once on a
 * bad option.
 */
export function reconnect<TIn, TOut = TIn> (dial: DialFunction<TIn, TOut>, init: ReconnectInit<TOut> = {}): DurableDuplex<TIn, TOut> {
  return start(dial, resolveOptions(init), undefined)
}

/**
 * Makes durable duplexes that share one set of options, validated once: for a process that holds many
 * links with the same settings (a server's sessions, a client per shard). Each link keeps only its own
 * state, not a copy of the options (about 0.3 KiB a link). `onStatus` and `signal` may be given per link
 * (`LinkInit`); what a link leaves out comes from `init`. Throws `InvalidParametersError` at once
 * on a bad option, as `reconnect()` does.
 *
 * @example
 *
 * ```ts
 * const link = reconnector({ retention: true, maxDelay: 5_000 })
 * const a = link(dialA, { onStatus: (event) => { track('a', event) } })
 * const b = link(dialB, { signal: shutdown.signal })
 * ```
 */
export function reconnector<TOut> (init: ReconnectInit<TOut> = {}): Reconnector<TOut> {
  const opts = resolveOptions(init)
  return <TIn>(dial: DialFunction<TIn, TOut>, link?: LinkInit) => start(dial, opts, link)
}

/** Makes a durable duplex with `link`'s own options (none: those of `opts`). */
function start<TIn, TOut> (dial: DialFunction<TIn, TOut>, opts: ResolvedOptions<TOut>, link: LinkInit | undefined): DurableDuplex<TIn, TOut> {
  validate.fn('dial', dial as DialFunction<TIn, TOut> | undefined)
  if (dial === undefined) validate.invalid('dial', 'a function returning a promise of a duplex', dial)
  let own: Pick<ResolvedOptions<TOut>, 'onStatus' | 'signal'> = opts
  if (link !== undefined) {
    if (link === null || typeof link !== 'object') validate.invalid('link', 'an object of options', link)
    own = {
      onStatus: validate.fn('onStatus', link.onStatus) ?? opts.onStatus,
      signal: validate.signal('signal', link.signal) ?? opts.signal
    }
  }
  const durable = new Durable(dial, opts, own.onStatus, own.signal)
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
  AbortWatcher, BufferInit, DialContext, DialFunction, DisconnectReason, DurableDuplex, DurableSourceIterator, EndConfirming, LinkInit,
  OverflowPolicy, ReconnectEventMap, ReconnectEventType, ReconnectInit, Reconnector, ReconnectStats, ReconnectStatus, RetentionInit,
  StatusEvent
} from './types.js'
export { ProtocolVersionError } from '@proto/interface'
