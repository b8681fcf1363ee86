import type { Clock, Timers } from '@proto/interface'
import { systemClock, systemTimers } from '@proto/interface'
import type { DelayFunction } from './backoff.js'
import { backoff } from './backoff.js'
import {
  DEFAULT_BUFFER_MAX_BYTES, DEFAULT_BUFFER_MAX_MESSAGES, DEFAULT_CLOSE_TIMEOUT, DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_RETRY_TIME, DEFAULT_MIN_STABLE_TIME, DEFAULT_OVERFLOW, DEFAULT_PEER_END,
  DEFAULT_STATUS_BUFFER, MAX_TIMER_DELAY
} from './constants.js'
import { InvalidParametersError } from './errors.js'
import type { OverflowPolicy, ReconnectInit } from './types.js'

/** Every option of `reconnect()`, validated, with defaults applied. */
export interface ResolvedOptions<T> {
  delay: DelayFunction
  maxAttempts: number
  maxRetryTime: number
  connectTimeout: number
  minStableTime: number
  closeTimeout: number
  shouldRetry(err: Error): boolean
  maxMessages: number
  maxBytes: number
  overflow: OverflowPolicy
  size(item: T): number
  peerEnd: 'reconnect' | 'end'
  statusBuffer: number
  clock: Clock
  timers: Timers
}

const OVERFLOWS = new Set<string>(['wait', 'drop-oldest', 'drop-newest', 'error'])

function check (ok: boolean, message: string): void {
  if (!ok) throw new InvalidParametersError(message)
}

function count (name: string, value: number, allowInfinity: boolean): number {
  check(typeof value === 'number' && value >= 1 && (Number.isInteger(value) || (allowInfinity && value === Infinity)),
    `${name} must be a whole number of at least 1${allowInfinity ? ' or Infinity' : ''}, got ${String(value)}`)
  return value
}

function duration (name: string, value: number, min: number, allowInfinity: boolean): number {
  const finite = Number.isFinite(value) && value <= MAX_TIMER_DELAY
  check(typeof value === 'number' && value >= min && (finite || (allowInfinity && value === Infinity)),
    `${name} must be a number of ms from ${min} to ${MAX_TIMER_DELAY}${allowInfinity ? ' or Infinity' : ''}, got ${String(value)}`)
  return value
}

function fn<F> (name: string, value: F | undefined, fallback: F): F {
  check(value == null || typeof value === 'function', `${name} must be a function`)
  return value ?? fallback
}

/** `item.byteLength`, else `item.body.byteLength`, else 0. */
export function defaultSize (item: unknown): number {
  if (item == null || typeof item !== 'object') return 0
  const n = (item as { byteLength?: unknown }).byteLength
  if (typeof n === 'number') return n
  const body = (item as { body?: { byteLength?: unknown } }).body
  return typeof body?.byteLength === 'number' ? body.byteLength : 0
}

/** Validates `init` (throwing `InvalidParametersError` at once) and applies the defaults. */
export function resolveOptions<T> (init: ReconnectInit<T>): ResolvedOptions<T> {
  check(init != null && typeof init === 'object', 'init must be an object')
  const buffer = init.buffer ?? {}
  const overflow = buffer.overflow ?? DEFAULT_OVERFLOW
  const peerEnd = init.peerEnd ?? DEFAULT_PEER_END
  check(OVERFLOWS.has(overflow), `buffer.overflow must be wait, drop-oldest, drop-newest or error; got ${String(overflow)}`)
  check(peerEnd === 'reconnect' || peerEnd === 'end', `peerEnd must be reconnect or end; got ${String(peerEnd)}`)
  const clock = init.clock ?? systemClock
  const timers = init.timers ?? systemTimers
  check(typeof clock.now === 'function', 'clock must have now()')
  check(typeof timers.setTimeout === 'function', 'timers must have setTimeout()')
  const maxBytes = buffer.maxBytes ?? DEFAULT_BUFFER_MAX_BYTES
  check(typeof maxBytes === 'number' && Number.isFinite(maxBytes) && maxBytes >= 1, `buffer.maxBytes must be a finite number of at least 1, got ${String(maxBytes)}`)
  return {
    delay: backoff(init),
    maxAttempts: count('maxAttempts', init.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, true),
    maxRetryTime: duration('maxRetryTime', init.maxRetryTime ?? DEFAULT_MAX_RETRY_TIME, 1, true),
    connectTimeout: duration('connectTimeout', init.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT, 1, true),
    minStableTime: duration('minStableTime', init.minStableTime ?? DEFAULT_MIN_STABLE_TIME, 0, true),
    closeTimeout: duration('closeTimeout', init.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT, 0, false),
    shouldRetry: fn('shouldRetry', init.shouldRetry, () => true),
    maxMessages: count('buffer.maxMessages', buffer.maxMessages ?? DEFAULT_BUFFER_MAX_MESSAGES, false),
    maxBytes,
    overflow,
    size: fn('buffer.size', buffer.size, defaultSize),
    peerEnd,
    statusBuffer: count('statusBuffer', init.statusBuffer ?? DEFAULT_STATUS_BUFFER, false),
    clock,
    timers
  }
}
