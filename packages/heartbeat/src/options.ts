import { FrameType } from '@proto/codec'
import type { Clock, Timers } from '@proto/interface'
import { systemClock, systemTimers, validate } from '@proto/interface'
import {
  DEFAULT_ADAPTIVE_MAX_FACTOR, DEFAULT_ADAPTIVE_MIN_FACTOR, DEFAULT_ADAPTIVE_MULTIPLIER, DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_INTERVAL, DEFAULT_MAX_PING_STRIKES, DEFAULT_MAX_QUEUED_BYTES, DEFAULT_MAX_QUEUED_FRAMES,
  DEFAULT_RTT_SAMPLES, DEFAULT_STALL_THRESHOLD, DEFAULT_TIMEOUT, MAX_DURATION
} from './constants.js'
import { InvalidParametersError } from './errors.js'

/** Bounds of the adaptive dead-peer timeout: `timeout = clamp(interval + multiplier × p99(RTT), min, max)`. */
export interface AdaptiveInit {
  /**
   * The shortest timeout the adaptation may choose, in milliseconds. Must be above `interval`.
   * @default 1.5 × interval
   */
  min?: number
  /**
   * The longest timeout the adaptation may choose, in milliseconds.
   * @default 4 × timeout
   */
  max?: number
  /**
   * How many 99th-percentile round trips of slack to allow on top of the interval.
   * @default 4
   */
  multiplier?: number
}

/** Options of `heartbeat()`. Every field is optional; durations are in milliseconds. */
export interface HeartbeatInit {
  /**
   * Send a PING when nothing has been sent for this long. `0` never pings (only answers and watches).
   * @default 15000
   */
  interval?: number
  /**
   * Declare the peer dead when nothing has been received for this long. Must be above `interval`.
   * `0` never declares the peer dead.
   * @default 45000
   */
  timeout?: number
  /**
   * Let the timeout follow the measured RTT within bounds (see {@link AdaptiveInit}). `true` uses the
   * default bounds.
   * @default false
   */
  adaptive?: boolean | AdaptiveInit
  /**
   * Send a HELLO frame first and expect one from the peer; both sides then use the larger interval and the
   * larger timeout. Leave off to talk to peers that do not speak HELLO.
   * @default false
   */
  hello?: boolean
  /**
   * Feature bits OR-ed into the flags byte of our HELLO (with `hello: true`), announcing optional protocol
   * features to the peer (docs/PROTOCOL.md §3.1), e.g. `SESSION_FLAG` of `@proto/session`. A version 1
   * peer ignores bits it does not know. The peer's flags are in `peerHello`.
   * @default 0
   */
  helloFlags?: number
  /**
   * Frame type of pings.
   * @default FrameType.PING (0x02)
   */
  pingType?: number
  /**
   * Frame type of pongs.
   * @default FrameType.PONG (0x03)
   */
  pongType?: number
  /**
   * Body of the pings we send: `'sequence'` sends an 8-byte sequence number that the peer echoes, matched
   * for RTT; a fixed `Uint8Array` (e.g. empty) is sent as is and pongs are matched in order.
   * @default 'sequence'
   */
  pingBody?: 'sequence' | Uint8Array
  /**
   * Body of the pongs we send: `'echo'` repeats the ping's body; a fixed `Uint8Array` is sent as is.
   * @default 'echo'
   */
  pongBody?: 'echo' | Uint8Array
  /**
   * Frame type of GOAWAY, sent before closing a peer that pings too often; `null` closes without one
   * (for formats that have no GOAWAY).
   * @default FrameType.GOAWAY (0x04)
   */
  goAwayType?: number | null
  /**
   * Frame type of HELLO (used with `hello: true`).
   * @default FrameType.HELLO (0x01)
   */
  helloType?: number
  /**
   * Server-side guard: a peer whose pings come closer together than this (10 % tolerance) more than
   * `maxPingStrikes` times is sent GOAWAY `TOO_MANY_PINGS` and closed with `TooManyPingsError`. `0` is off.
   * @default 0
   */
  minPingInterval?: number
  /**
   * Too-early pings tolerated before the guard closes the connection. Strikes reset whenever we send data.
   * @default 2
   */
  maxPingStrikes?: number
  /**
   * A timer firing later than planned by more than this means the event loop was blocked: the stage
   * lets pending input be read before judging the peer, and emits `stall`.
   * @default 100
   */
  stallThreshold?: number
  /**
   * Data frames held for a consumer that is not reading; above it the stage stops reading from below.
   * @default 1024
   */
  maxQueuedFrames?: number
  /**
   * Data body bytes held for a consumer that is not reading; above it the stage stops reading from below.
   * @default 1048576 (1 MiB)
   */
  maxQueuedBytes?: number
  /**
   * RTT samples kept for `stats().rtt` and the adaptive timeout.
   * @default 32
   */
  rttSamples?: number
  /**
   * How long `close()` waits for both directions to finish before aborting with `CloseTimeoutError`.
   * @default 5000
   */
  closeTimeout?: number
  /**
   * Source of "now" in milliseconds.
   * @default systemClock (performance.now)
   */
  clock?: Clock
  /**
   * Where the stage's single timer is scheduled.
   * @default systemTimers (unref()ed setTimeout)
   */
  timers?: Timers
}

/** Options after defaults and validation. */
export interface HeartbeatConfig {
  interval: number
  timeout: number
  adaptive: { min: number, max: number, multiplier: number } | undefined
  hello: boolean
  helloFlags: number
  pingType: number
  pongType: number
  pingBody: Uint8Array | undefined
  pongBody: Uint8Array | undefined
  goAwayType: number | undefined
  helloType: number
  minPingInterval: number
  maxPingStrikes: number
  stallThreshold: number
  maxQueuedFrames: number
  maxQueuedBytes: number
  rttSamples: number
  closeTimeout: number
  clock: Clock
  timers: Timers
}

function duration (name: string, value: number | undefined, fallback: number, min = 0): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > MAX_DURATION) {
    throw new InvalidParametersError(`${name} must be a finite number of milliseconds from ${min} to ${MAX_DURATION}; got ${String(value)}`)
  }
  return v
}

function count (name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new InvalidParametersError(`${name} must be a whole number of at least ${min}; got ${String(value)}`)
  }
  return v
}

function frameType (name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || (v & 0xFF) !== v) throw new InvalidParametersError(`${name} must be a frame type from 0 to 255; got ${String(value)}`)
  return v
}

function body (name: string, value: unknown, keyword: string): Uint8Array | undefined {
  if (value === undefined || value === keyword) return undefined
  if (value instanceof Uint8Array) return value
  throw new InvalidParametersError(`${name} must be '${keyword}' or a Uint8Array; got ${String(value)}`)
}

function adaptiveBounds (init: HeartbeatInit['adaptive'], interval: number, timeout: number): HeartbeatConfig['adaptive'] {
  if (init === undefined || init === false) return undefined
  if (timeout === 0 || interval === 0) throw new InvalidParametersError('adaptive needs both interval and timeout above 0')
  const a = init === true ? {} : init
  const min = duration('adaptive.min', a.min, Math.ceil(interval * DEFAULT_ADAPTIVE_MIN_FACTOR), 1)
  const max = duration('adaptive.max', a.max, Math.min(MAX_DURATION, timeout * DEFAULT_ADAPTIVE_MAX_FACTOR), 1)
  const multiplier = a.multiplier ?? DEFAULT_ADAPTIVE_MULTIPLIER
  if (min <= interval) throw new InvalidParametersError(`adaptive.min (${min} ms) must be above interval (${interval} ms)`)
  if (max < min) throw new InvalidParametersError(`adaptive.max (${max} ms) must be at least adaptive.min (${min} ms)`)
  if (!Number.isFinite(multiplier) || multiplier <= 0) throw new InvalidParametersError(`adaptive.multiplier must be a finite number above 0; got ${multiplier}`)
  return { min, max, multiplier }
}

/** Applies defaults and throws `InvalidParametersError` for anything out of range. */
export function resolveConfig (init: HeartbeatInit): HeartbeatConfig {
  const interval = duration('interval', init.interval, DEFAULT_INTERVAL)
  const timeout = duration('timeout', init.timeout, DEFAULT_TIMEOUT)
  if (timeout !== 0 && interval !== 0 && timeout <= interval) {
    throw new InvalidParametersError(`timeout (${timeout} ms) must be above interval (${interval} ms), or the peer is declared dead before it is even pinged; a timeout of 2–3 intervals is usual`)
  }
  const pingType = frameType('pingType', init.pingType, FrameType.PING)
  const pongType = frameType('pongType', init.pongType, FrameType.PONG)
  if (pingType === pongType) throw new InvalidParametersError(`pingType and pongType must differ; both are ${pingType}`)
  const goAwayType = init.goAwayType === null ? undefined : frameType('goAwayType', init.goAwayType, FrameType.GOAWAY)
  const helloType = frameType('helloType', init.helloType, FrameType.HELLO)
  const hello = init.hello ?? false
  const helloFlags = validate.byte('helloFlags', init.helloFlags, 0)
  if (hello && (helloType === pingType || helloType === pongType)) throw new InvalidParametersError('helloType must differ from pingType and pongType')
  return {
    interval,
    timeout,
    adaptive: adaptiveBounds(init.adaptive, interval, timeout),
    hello,
    helloFlags,
    pingType,
    pongType,
    pingBody: body('pingBody', init.pingBody, 'sequence'),
    pongBody: body('pongBody', init.pongBody, 'echo'),
    goAwayType,
    helloType,
    minPingInterval: duration('minPingInterval', init.minPingInterval, 0),
    maxPingStrikes: count('maxPingStrikes', init.maxPingStrikes, DEFAULT_MAX_PING_STRIKES, 0),
    stallThreshold: duration('stallThreshold', init.stallThreshold, DEFAULT_STALL_THRESHOLD),
    maxQueuedFrames: count('maxQueuedFrames', init.maxQueuedFrames, DEFAULT_MAX_QUEUED_FRAMES, 1),
    maxQueuedBytes: count('maxQueuedBytes', init.maxQueuedBytes, DEFAULT_MAX_QUEUED_BYTES, 1),
    rttSamples: count('rttSamples', init.rttSamples, DEFAULT_RTT_SAMPLES, 1),
    closeTimeout: duration('closeTimeout', init.closeTimeout, DEFAULT_CLOSE_TIMEOUT, 1),
    clock: init.clock ?? systemClock,
    timers: init.timers ?? systemTimers
  }
}
