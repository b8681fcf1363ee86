/**
 * @packageDocumentation
 *
 * The shared vocabulary of the @proto stage contract. Every @proto stage takes a duplex one level down
 * and returns a duplex one level up; the types here say what those duplexes look like, how they close,
 * and how logging, clocks and randomness are injected.
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

export { raceSignal } from './abort.js'
export { toUint8Array } from './bytes.js'
export type { Clock, TimerHandle, Timers } from './clock.js'
export { systemClock, systemTimers } from './clock.js'
export type { AbortOptions, ByteChunk, ByteDuplex, Closeable, StageDuplex } from './duplex.js'
export type { Logger, LoggerFactory } from './logger.js'
export { createLogger, DEBUG_ENV, setLoggerFactory, silentLogger } from './logger.js'
