import type { Clock, Timers } from '@proto/interface'
import { systemClock, systemTimers, validate } from '@proto/interface'
import type { DelayFunction } from './backoff.js'
import { backoff } from './backoff.js'
import {
  DEFAULT_BUFFER_MAX_BYTES, DEFAULT_BUFFER_MAX_MESSAGES, DEFAULT_CLOSE_TIMEOUT, DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_RETRY_TIME, DEFAULT_MIN_STABLE_TIME, DEFAULT_OVERFLOW, DEFAULT_PEER_END,
  DEFAULT_RETAIN_MAX_BYTES, DEFAULT_RETAIN_MAX_MESSAGES, DEFAULT_STATUS_BUFFER
} from './constants.js'
import type { OverflowPolicy, ReconnectInit, StatusEvent } from './types.js'

/** The bounds of the outbound buffer and of retention (`undefined`: no retention). */
export interface Limits {
  maxMessages: number
  maxBytes: number
  retention: { maxMessages: number, maxBytes: number } | undefined
}

/** Every option of `reconnect()`, validated, with defaults applied. */
export interface ResolvedOptions<T> {
  delay: DelayFunction
  maxAttempts: number
  maxRetryTime: number
  connectTimeout: number
  minStableTime: number
  closeTimeout: number
  shouldRetry(err: Error): boolean
  limits: Limits
  overflow: OverflowPolicy
  failFast: boolean
  size(item: T): number
  validate: ((item: T) => void) | undefined
  peerEnd: 'reconnect' | 'end'
  statusBuffer: number
  onStatus: ((event: StatusEvent) => void) | undefined
  signal: AbortSignal | undefined
  clock: Clock
  timers: Timers
}

const OVERFLOWS: readonly OverflowPolicy[] = ['wait', 'drop-oldest', 'drop-newest', 'error']
const PEER_ENDS: ReadonlyArray<'reconnect' | 'end'> = ['reconnect', 'end']

/** `item.byteLength`, else `item.body.byteLength`, else 0. */
export function defaultSize (item: unknown): number {
  // a Uint8Array's length is its byteLength, and far cheaper to read on Node 20 (bench/FINDINGS.md)
  if (item instanceof Uint8Array) return item.length
  if (item == null || typeof item !== 'object') return 0
  const n = (item as { byteLength?: unknown }).byteLength
  if (typeof n === 'number') return n
  const body = (item as { body?: unknown }).body
  if (body instanceof Uint8Array) return body.length // a frame's
  const m = (body as { byteLength?: unknown } | null | undefined)?.byteLength
  return typeof m === 'number' ? m : 0
}

function retentionLimits (init: ReconnectInit<unknown>['retention']): Limits['retention'] {
  if (init === undefined || init === false) return undefined
  if (init !== true && (init === null || typeof init !== 'object')) validate.invalid('retention', 'a boolean or an object of options', init)
  const r = init === true ? {} : init
  return {
    maxMessages: validate.integer('retention.maxMessages', r.maxMessages, DEFAULT_RETAIN_MAX_MESSAGES, { min: 1 }),
    maxBytes: validate.integer('retention.maxBytes', r.maxBytes, DEFAULT_RETAIN_MAX_BYTES, { min: 1 })
  }
}

/** Validates `init` (throwing `InvalidParametersError` at once) and applies the defaults. */
export function resolveOptions<T> (init: ReconnectInit<T>): ResolvedOptions<T> {
  if (init === null || typeof init !== 'object') validate.invalid('init', 'an object of options', init)
  const buffer = validate.options('buffer', init.buffer)
  const clock = validate.hook('clock', init.clock, 'now') ?? systemClock
  const timers = validate.hook('timers', init.timers, 'setTimeout') ?? systemTimers
  return {
    delay: backoff(init),
    maxAttempts: validate.integer('maxAttempts', init.maxAttempts, DEFAULT_MAX_ATTEMPTS, { min: 1, infinity: true }),
    maxRetryTime: validate.duration('maxRetryTime', init.maxRetryTime, DEFAULT_MAX_RETRY_TIME, { min: 1, infinity: true }),
    connectTimeout: validate.duration('connectTimeout', init.connectTimeout, DEFAULT_CONNECT_TIMEOUT, { min: 1, infinity: true }),
    minStableTime: validate.duration('minStableTime', init.minStableTime, DEFAULT_MIN_STABLE_TIME, { infinity: true }),
    closeTimeout: validate.duration('closeTimeout', init.closeTimeout, DEFAULT_CLOSE_TIMEOUT),
    shouldRetry: validate.fn('shouldRetry', init.shouldRetry, () => true),
    limits: {
      maxMessages: validate.integer('buffer.maxMessages', buffer.maxMessages, DEFAULT_BUFFER_MAX_MESSAGES, { min: 1 }),
      maxBytes: validate.number('buffer.maxBytes', buffer.maxBytes, DEFAULT_BUFFER_MAX_BYTES, { min: 1 }),
      retention: retentionLimits(init.retention)
    },
    overflow: validate.oneOf('buffer.overflow', buffer.overflow, OVERFLOWS, DEFAULT_OVERFLOW),
    failFast: validate.flag('failFast', init.failFast, false),
    size: validate.fn('buffer.size', buffer.size, defaultSize),
    validate: validate.fn('validate', init.validate),
    peerEnd: validate.oneOf('peerEnd', init.peerEnd, PEER_ENDS, DEFAULT_PEER_END),
    statusBuffer: validate.integer('statusBuffer', init.statusBuffer, DEFAULT_STATUS_BUFFER, { min: 1 }),
    onStatus: validate.fn('onStatus', init.onStatus),
    signal: validate.signal('signal', init.signal),
    clock,
    timers
  }
}
