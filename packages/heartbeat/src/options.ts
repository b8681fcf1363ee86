import { ADAPTIVE_FLAG, FrameType } from '@proto/codec'
import type { Clock, Timers } from '@proto/interface'
import { systemClock, systemTimers, validate } from '@proto/interface'
import {
  ANNOUNCED_PING_BODY_LENGTH, DEFAULT_ADAPTIVE_INTERVAL_MAX_FACTOR, DEFAULT_ADAPTIVE_INTERVAL_MIN_DIVISOR,
  DEFAULT_ADAPTIVE_MAX_FACTOR, DEFAULT_ADAPTIVE_MIN_FACTOR, DEFAULT_ADAPTIVE_MULTIPLIER, DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_GROW_AFTER, DEFAULT_GROW_FACTOR, DEFAULT_INTERVAL, DEFAULT_JITTER, DEFAULT_MAX_PING_BODY,
  DEFAULT_MAX_PING_STRIKES, DEFAULT_MAX_QUEUED_BYTES, DEFAULT_MAX_QUEUED_FRAMES, DEFAULT_PEER_TIMEOUT_FACTOR,
  DEFAULT_PEER_TIMEOUT_FLOOR, DEFAULT_RTT_SAMPLES, DEFAULT_STALL_THRESHOLD, DEFAULT_TIMEOUT, PING_BODY_LENGTH
} from './constants.js'
import type { HeartbeatInit } from './init.js'
import type { FrameKinds } from './kinds.js'
import { frameKinds } from './kinds.js'
import { PathMemory } from './memory.js'

/** `adaptiveInterval` after defaults and validation. */
export interface AdaptiveIntervalConfig {
  /** Where the interval starts: the configured `interval`. */
  readonly start: number
  readonly min: number
  readonly max: number
  readonly grace: number
  readonly growAfter: number
  readonly growFactor: number
  readonly jitter: number
  readonly memory: PathMemory | undefined
  readonly probeIdleLimit: boolean
  /** Whether we yield when our ping crosses the peer's (`crossing`, with `random` as the coin). */
  readonly yields: () => boolean
}

/** Options after defaults and validation: what the stage's parts read. */
export interface HeartbeatConfig {
  readonly keepalive: boolean
  readonly interval: number
  readonly timeout: number
  readonly adaptive: { readonly min: number, readonly max: number, readonly multiplier: number } | undefined
  readonly adaptiveInterval: AdaptiveIntervalConfig | undefined
  readonly hello: boolean
  readonly helloFlags: number
  readonly pingType: number
  readonly pongType: number
  readonly pingBody: Uint8Array | undefined
  readonly pongBody: Uint8Array | undefined
  readonly goAwayType: number | undefined
  readonly helloType: number
  readonly kinds: FrameKinds
  readonly maxPingBody: number
  readonly minPingInterval: number
  /** This side's longest timeout: what it asks of a peer in its HELLO, and the ping guard's allowance. */
  readonly ownTimeout: number
  /** The longest timeout or interval a peer's HELLO may ask for. */
  readonly maxPeerTimeout: number
  readonly maxPingStrikes: number
  readonly stallThreshold: number
  readonly maxQueuedFrames: number
  readonly maxQueuedBytes: number
  readonly rttSamples: number
  /** Whether we yield when our ping crosses the peer's (`crossing`, with `random` as the coin). */
  readonly yields: () => boolean
  readonly closeTimeout: number
  readonly clock: Clock
  readonly timers: Timers
}

const { duration, integer, byte, flag, invalid } = validate

function body (name: string, value: unknown, keyword: string): Uint8Array | undefined {
  if (value === undefined || value === keyword) return undefined
  if (value instanceof Uint8Array) return value
  return invalid(name, `'${keyword}' or a Uint8Array`, value)
}

function adaptiveBounds (init: HeartbeatInit['adaptive'], interval: number, timeout: number): HeartbeatConfig['adaptive'] {
  if (init === undefined || init === false) return undefined
  if (timeout === 0 || interval === 0) invalid('adaptive', 'off when interval or timeout is 0', init, 'adapting needs pings and a timeout')
  const a = init === true ? {} : validate.options('adaptive', init)
  const min = duration('adaptive.min', a.min, Math.ceil(interval * DEFAULT_ADAPTIVE_MIN_FACTOR), { min: interval, exclusiveMin: true })
  const max = duration('adaptive.max', a.max, Math.min(validate.MAX_TIMER_DELAY, timeout * DEFAULT_ADAPTIVE_MAX_FACTOR), { min })
  const multiplier = validate.number('adaptive.multiplier', a.multiplier, DEFAULT_ADAPTIVE_MULTIPLIER, { exclusiveMin: true })
  return { min, max, multiplier }
}

/** What `crossing` decides when our ping crosses the peer's: yield (only answer from then on) or keep pinging. */
function crossingRule (crossing: 'toss' | 'keep' | 'yield', random: () => number): () => boolean {
  if (crossing === 'keep') return () => false
  if (crossing === 'yield') return () => true
  return () => random() < 0.5
}

function adaptiveInterval (init: HeartbeatInit, interval: number, timeout: number, crossing: 'toss' | 'keep' | 'yield', random: () => number): AdaptiveIntervalConfig | undefined {
  const given = init.adaptiveInterval
  if (given === undefined || given === false) return undefined
  if (timeout === 0 || interval === 0) invalid('adaptiveInterval', 'off when interval or timeout is 0', given, 'adapting needs pings and a timeout')
  if (init.adaptive !== undefined && init.adaptive !== false) invalid('adaptive', 'off with adaptiveInterval', init.adaptive, 'with an adaptive interval the timeout already follows the interval')
  const a = given === true ? {} : validate.options('adaptiveInterval', given)
  const min = duration('adaptiveInterval.min', a.min, interval / DEFAULT_ADAPTIVE_INTERVAL_MIN_DIVISOR, { exclusiveMin: true, max: interval })
  const max = duration('adaptiveInterval.max', a.max, Math.min(validate.MAX_TIMER_DELAY, interval * DEFAULT_ADAPTIVE_INTERVAL_MAX_FACTOR), { min: interval })
  const grace = duration('adaptiveInterval.grace', a.grace, (timeout / interval - 1) * min, { exclusiveMin: true })
  const memory = a.memory
  if (memory !== undefined && !(memory instanceof PathMemory)) invalid('adaptiveInterval.memory', 'made by intervalMemory()', memory)
  const path = memory as PathMemory | undefined
  const probeIdleLimit = flag('adaptiveInterval.probeIdleLimit', a.probeIdleLimit, false)
  if (probeIdleLimit && memory === undefined) invalid('adaptiveInterval.memory', 'given with probeIdleLimit', memory, 'what was learned must outlive the connection that learned it')
  return {
    start: interval,
    min,
    max,
    grace,
    growAfter: integer('adaptiveInterval.growAfter', a.growAfter, DEFAULT_GROW_AFTER, { min: 1, max: 1000 }),
    growFactor: validate.number('adaptiveInterval.growFactor', a.growFactor, DEFAULT_GROW_FACTOR, { min: 1, exclusiveMin: true, max: 100 }),
    jitter: duration('adaptiveInterval.jitter', a.jitter, DEFAULT_JITTER),
    memory: path,
    probeIdleLimit,
    yields: crossingRule(crossing, validate.fn('adaptiveInterval.random', a.random, random))
  }
}

function allowedTypes (value: Iterable<number> | undefined): ReadonlySet<number> | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof (value as Partial<Iterable<number>>)[Symbol.iterator] !== 'function') invalid('allowedTypes', 'an iterable of frame types', value)
  const set = new Set<number>()
  let i = 0
  for (const type of value) set.add(byte(`allowedTypes[${i++}]`, type, 0))
  return set
}

/** Options that only have a meaning when pings and pongs are exchanged. */
const PING_ONLY = ['hello', 'helloFlags', 'maxPeerTimeout', 'adaptive', 'adaptiveInterval', 'pingType', 'pongType', 'pingBody', 'pongBody', 'minPingInterval', 'maxPingBody', 'crossing', 'random'] as const

const cache = new Map<string, HeartbeatConfig>()
const MAX_CACHED = 64
let defaults: HeartbeatConfig | undefined
const ids = new WeakMap<object, number>()
let nextId = 0

/**
 * A key for the value of `init`: its own fields in order, each tagged with its type so that a value of the
 * wrong type never shares a key with the valid one it prints like (`1000` and `'1000'`). Numbers, strings,
 * booleans, `null`, and number arrays and sets (which the configuration copies) by value, so changing
 * one afterwards gives later stages the new value; plain objects (`adaptive`) field by field; anything
 * else (a body, a clock, a function) by identity, as the configuration keeps it. `undefined` when a
 * field cannot be keyed (another kind of iterable, read once): such options are not cached.
 */
function valueKey (init: object, depth = 0): string | undefined {
  let key = ''
  for (const [name, value] of Object.entries(init)) {
    let part: string | undefined
    if (value === null || value === undefined || typeof value === 'boolean') part = String(value)
    else if (typeof value === 'number') part = `n${value}`
    else if (typeof value === 'string') part = `s${JSON.stringify(value)}`
    else if (Array.isArray(value) && value.every(v => typeof v === 'number')) part = `a[${value.join(',')}]`
    else if (value instanceof Set && [...value].every(v => typeof v === 'number')) part = `S[${[...value].join(',')}]`
    else if (depth === 0 && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      const inner = valueKey(value, 1)
      part = inner === undefined ? undefined : `{${inner}}`
    } else if ((typeof value === 'object' && (value instanceof Uint8Array || !(Symbol.iterator in value))) || typeof value === 'function') {
      let id = ids.get(value)
      if (id === undefined) ids.set(value, id = nextId++)
      part = `#${id}`
    }
    if (part === undefined) return undefined
    key += `${name}=${part};`
  }
  return key
}

/**
 * The configuration for `init`, validated (`InvalidParametersError`). A server makes every stage with the
 * same options, so stages with equal options share one frozen configuration (options are read at each
 * call: changing an options object afterwards affects later stages only).
 */
export function resolveConfig (init: HeartbeatInit | undefined): HeartbeatConfig {
  if (init === undefined) return defaults ??= Object.freeze(buildConfig(undefined))
  if (typeof init !== 'object' || init === null) return buildConfig(init)
  const key = valueKey(init)
  if (key === undefined) return Object.freeze(buildConfig(init))
  let cfg = cache.get(key)
  if (cfg === undefined) {
    cfg = Object.freeze(buildConfig(init))
    if (cache.size >= MAX_CACHED) cache.clear()
    cache.set(key, cfg)
  }
  return cfg
}

/** Applies defaults and throws `InvalidParametersError` for anything out of range or contradictory. */
function buildConfig (given: HeartbeatInit | undefined): HeartbeatConfig {
  const init = validate.options('init', given)
  const keepalive = validate.oneOf('mode', init.mode, ['ping', 'keepalive'], 'ping') === 'keepalive'
  if (keepalive) {
    for (const name of PING_ONLY) if (init[name] !== undefined) invalid(name, "absent with mode 'keepalive'", init[name], "keep-alive frames are never answered; use mode 'ping' for pings and pongs")
  }
  const interval = duration('interval', init.interval, DEFAULT_INTERVAL)
  const timeout = duration('timeout', init.timeout, DEFAULT_TIMEOUT)
  if (timeout !== 0 && interval !== 0 && timeout <= interval) {
    invalid('timeout', `above interval (${interval} ms)`, timeout, 'or the peer is declared dead before it is even pinged; 2–3 intervals is usual')
  }
  const pingType = byte('pingType', init.pingType, FrameType.PING)
  const pongType = byte('pongType', init.pongType, FrameType.PONG)
  if (pingType === pongType) invalid('pongType', `different from pingType (${pingType})`, pongType)
  const goAwayType = init.goAwayType === null || (keepalive && init.goAwayType === undefined) ? undefined : byte('goAwayType', init.goAwayType, FrameType.GOAWAY)
  const helloType = byte('helloType', init.helloType, FrameType.HELLO)
  const hello = flag('hello', init.hello, false)
  const helloFlags = byte('helloFlags', init.helloFlags, 0)
  if ((helloFlags & ADAPTIVE_FLAG) !== 0) invalid('helloFlags', `without bit 0x0${ADAPTIVE_FLAG} (ADAPTIVE)`, helloFlags, 'the stage sets it itself with adaptiveInterval')
  if (hello && (helloType === pingType || helloType === pongType)) invalid('helloType', 'different from pingType and pongType', helloType)
  if (!keepalive && goAwayType !== undefined && (goAwayType === pingType || goAwayType === pongType)) invalid('goAwayType', 'different from pingType and pongType', goAwayType)
  const pingBody = body('pingBody', init.pingBody, 'sequence')
  const maxPingBody = integer('maxPingBody', init.maxPingBody, DEFAULT_MAX_PING_BODY, { infinity: true })
  const crossing = validate.oneOf('crossing', init.crossing, ['toss', 'keep', 'yield'], 'toss')
  const random = validate.fn('random', init.random, Math.random)
  const adaptiveIv = adaptiveInterval(init, interval, timeout, crossing, random)
  if (adaptiveIv !== undefined && hello && pingBody !== undefined) invalid('pingBody', "'sequence' with adaptiveInterval and hello", pingBody, 'PINGs carry the interval after the sequence number (docs/PROTOCOL.md §3.4)')
  const ownPing = pingBody?.byteLength ?? (adaptiveIv !== undefined && hello ? ANNOUNCED_PING_BODY_LENGTH : PING_BODY_LENGTH)
  if (!keepalive && maxPingBody < ownPing) invalid('maxPingBody', `at least ${ownPing} (the body of our own pings, which pongs echo)`, maxPingBody)
  const adaptive = adaptiveBounds(init.adaptive, interval, timeout)
  const ownTimeout = adaptiveIv !== undefined ? adaptiveIv.max + adaptiveIv.grace : Math.max(timeout, adaptive?.max ?? 0)
  const peerDefault = ownTimeout === 0 ? Infinity : Math.min(validate.MAX_TIMER_DELAY, Math.max(DEFAULT_PEER_TIMEOUT_FLOOR, DEFAULT_PEER_TIMEOUT_FACTOR * ownTimeout))
  return {
    keepalive,
    interval,
    timeout,
    adaptive,
    adaptiveInterval: adaptiveIv,
    hello,
    helloFlags,
    pingType,
    pongType,
    pingBody,
    pongBody: body('pongBody', init.pongBody, 'echo'),
    goAwayType,
    helloType,
    kinds: frameKinds({ keepalive, pingType, pongType, helloType: hello ? helloType : undefined, goAwayType, allowed: allowedTypes(init.allowedTypes) }),
    maxPingBody,
    minPingInterval: duration('minPingInterval', init.minPingInterval, 0),
    ownTimeout,
    maxPeerTimeout: duration('maxPeerTimeout', init.maxPeerTimeout, peerDefault, { min: Math.min(ownTimeout, validate.MAX_TIMER_DELAY), infinity: true }),
    maxPingStrikes: integer('maxPingStrikes', init.maxPingStrikes, DEFAULT_MAX_PING_STRIKES),
    stallThreshold: duration('stallThreshold', init.stallThreshold, DEFAULT_STALL_THRESHOLD),
    maxQueuedFrames: integer('maxQueuedFrames', init.maxQueuedFrames, DEFAULT_MAX_QUEUED_FRAMES, { min: 1 }),
    maxQueuedBytes: integer('maxQueuedBytes', init.maxQueuedBytes, DEFAULT_MAX_QUEUED_BYTES, { min: 1 }),
    rttSamples: integer('rttSamples', init.rttSamples, DEFAULT_RTT_SAMPLES, { min: 1, max: 100_000 }),
    // one rule for the stage: the adaptive interval's when there is one (it may have a coin of its own)
    yields: adaptiveIv?.yields ?? crossingRule(crossing, random),
    closeTimeout: duration('closeTimeout', init.closeTimeout, DEFAULT_CLOSE_TIMEOUT, { exclusiveMin: true }),
    clock: validate.hook('clock', init.clock, 'now') ?? systemClock,
    timers: validate.hook('timers', init.timers, 'setTimeout') ?? systemTimers
  }
}
