/**
 * @packageDocumentation
 *
 * The shared vocabulary of the `@proto` stage contract. Every `@proto` stage takes a duplex one level down
 * and returns a duplex one level up; the types here say what those duplexes look like, how they close and
 * how they hand out batches, and the pieces every package shares live here once: the errors thrown across
 * packages, the option validators, the event base class, logging, and the injectable clock and timers.
 *
 * @example
 *
 * ```ts
 * import type { ByteDuplex } from '@proto/interface'
 * import { pipe } from 'it-pipe'
 *
 * async function echo (conn: ByteDuplex): Promise<void> {
 *   await pipe(conn, conn)
 * }
 * ```
 */

export { abortReason, onAbortOf, raceSignal } from './abort.js'
export type { ConnectionAddress, ConnectionAddresses } from './address.js'
export { formatAddress, tcpAddress } from './address.js'
export type { BatchIterator, BatchSource } from './batch.js'
export { afterIo, afterReady, DONE, isBatchIterator, RESOLVED_DONE } from './batch.js'
export { readUint32, readUint64, toUint8Array, writeUint32, writeUint64 } from './bytes.js'
export type { Clock, TimerHandle, TimerOptions, Timers } from './clock.js'
export { systemClock, systemTimers } from './clock.js'
export type { AbortOptions, ByteChunk, ByteDuplex, Closeable, StageDuplex } from './duplex.js'
export { InvalidParametersError, ProtocolVersionError } from './errors.js'
export type { AnyListener, ListenerOptions, TypedEventListener } from './events.js'
export { TypedEventTarget } from './events.js'
export type { GoingAwayWatchable, GoingAwayWatcher } from './going-away.js'
export { isGoingAwayWatchable } from './going-away.js'
export type { Logger, LoggerFactory } from './logger.js'
export { createLogger, DEBUG_ENV, NAMESPACE, protoDebugNamespaces, silentLogger } from './logger.js'
export { setLoggerFactory } from './logger-factory.js'
export type { PushSinkable, PushSource, PushTarget, SinkWatcher } from './push.js'
export { isPushSinkable, isPushSource, settleSinkRun, sinkWatched, tellSinkEnd } from './push.js'
export type { Pushable, PushableInit } from './pushable.js'
export { DEFAULT_PUSHABLE_MAX_ITEMS, pushable } from './pushable.js'
export { PushableEndedError, PushableFullError } from './pushable-errors.js'
export type { Slot } from './slot.js'
export { slotAdd, slotEach, slotRemove } from './slot.js'
export { asyncIteratorOf, iteratorOf, SourceError, toError } from './source-error.js'
export * as validate from './validate.js'
