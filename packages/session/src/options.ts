import type { Frame } from '@proto/codec'
import { checkCodecInit, codec, maxBodyLength } from '@proto/codec'
import { checkHeartbeatInit, heartbeat } from '@proto/heartbeat'
import type { ByteDuplex, Clock, Timers } from '@proto/interface'
import { InvalidParametersError, systemClock, systemTimers, validate } from '@proto/interface'
import type { ReconnectInit } from '@proto/reconnect'
import type { AckPolicy } from './acks.js'
import {
  DEFAULT_ACK_BYTES, DEFAULT_ACK_DELAY, DEFAULT_ACK_FRAMES, DEFAULT_CLIENT_WINDOW_BYTES, DEFAULT_CLIENT_WINDOW_MESSAGES, DEFAULT_INBOUND_BYTES,
  DEFAULT_INBOUND_MESSAGES, DEFAULT_MAX_SESSIONS, DEFAULT_RESUME_TIMEOUT,
  DEFAULT_TTL, DEFAULT_WINDOW_BYTES, DEFAULT_WINDOW_MESSAGES, RESUME_LENGTH, SESSION_FLAG
} from './constants.js'
import type { SessionParams } from './state.js'
import type { SessionStore } from './store.js'
import { memoryStore } from './store.js'
import type { SessionFrames, SessionInit, SessionServerInit } from './types.js'

const U32_MAX = 0xFFFF_FFFF

/** What one side queues of the peer's items at most. */
export interface InboundLimits {
  maxMessages: number
  maxBytes: number
}

/** Options shared by both ends, validated, with defaults applied. */
export interface CommonOptions {
  params: SessionParams
  acks: AckPolicy
  /** What this side queues of the peer's items at most, whatever the peer's window. */
  inbound: InboundLimits
  /** Options of the durable duplex that are the same on both ends. */
  link: Pick<ReconnectInit<Frame>, 'retention' | 'peerEnd' | 'validate' | 'buffer' | 'closeTimeout' | 'clock' | 'timers'>
  stack: (conn: ByteDuplex) => SessionFrames
  clock: Clock
  timers: Timers
}

/**
 * What a session refuses to write (the link's `validate`): a frame it cannot number (control types would
 * make both sides count differently), a type that is no byte, or a body longer than the codec carries
 * (`maxBody`; `Infinity` for a stack of the application's own). Each of these would fail every connection
 * alike: refused at the sink instead, typed, and counted `rejected`.
 */
export function sequencedCheck (maxBody: number): (frame: Frame) => void {
  return (frame) => {
    if (frame == null || typeof frame.type !== 'number' || !(frame.body instanceof Uint8Array)) {
      throw new InvalidParametersError('expected a frame ({ type, body: Uint8Array }) to write into the session, but got something else')
    }
    const type = frame.type
    // DATA or an application type (0x40–0xFF): what a session writes, decided first
    if (type !== 0 && !(type >= 0x40 && type <= 0xFF && Number.isInteger(type))) {
      const byte = Number.isInteger(type) && type >= 0 && type <= 0xFF
      const why = byte ? `0x${type.toString(16).padStart(2, '0')}: control types cannot be numbered` : `${type}: a frame type is one byte`
      throw new InvalidParametersError(`expected a frame of type 0x00 (DATA) or 0x40–0xFF (application) to write into the session, but got type ${why}`)
    }
    if (frame.body.length > maxBody) {
      throw new InvalidParametersError(`expected a frame body of at most ${maxBody} bytes (the codec's maxFrameLength, or what its length field carries), but got ${frame.body.length}; split the item, or raise codec.maxFrameLength on both ends`)
    }
  }
}

/** Options of either end; `role` picks the window's default size in bytes. */
export function resolveCommon (init: SessionInit, role: 'client' | 'server', ttl: number): CommonOptions {
  const window = validate.options('window', init.window)
  const ack = validate.options('ack', init.ack)
  const maxMessages = validate.integer('window.maxMessages', window.maxMessages, role === 'client' ? DEFAULT_CLIENT_WINDOW_MESSAGES : DEFAULT_WINDOW_MESSAGES, { min: 1, max: U32_MAX })
  const maxBytes = validate.integer('window.maxBytes', window.maxBytes, role === 'client' ? DEFAULT_CLIENT_WINDOW_BYTES : DEFAULT_WINDOW_BYTES, { min: 1, max: U32_MAX })
  const inbound = validate.options('inbound', init.inbound)
  const inboundLimits = {
    maxMessages: validate.integer('inbound.maxMessages', inbound.maxMessages, DEFAULT_INBOUND_MESSAGES, { min: 1, max: U32_MAX }),
    maxBytes: validate.integer('inbound.maxBytes', inbound.maxBytes, DEFAULT_INBOUND_BYTES, { min: 1, max: U32_MAX })
  }
  const delay = validate.duration('ack.delay', ack.delay, DEFAULT_ACK_DELAY, { min: 0 })
  const acks = {
    delay,
    frames: validate.integer('ack.frames', ack.frames, DEFAULT_ACK_FRAMES, { min: 1 }),
    // by default a share of the peer's window, known at its RESUME
    bytes: ack.bytes === undefined ? undefined : validate.integer('ack.bytes', ack.bytes, DEFAULT_ACK_BYTES, { min: 1 })
  }
  const clock = validate.hook('clock', init.clock, 'now') ?? systemClock
  const timers = validate.hook('timers', init.timers, 'setTimeout') ?? systemTimers
  const codecInit = validate.options('codec', init.codec)
  const hbInit = validate.options('heartbeat', init.heartbeat)
  const helloFlags = validate.byte('heartbeat.helloFlags', hbInit.helloFlags, 0) | SESSION_FLAG
  const hbConfig = { ...hbInit, hello: true, helloFlags }
  // the stack is made per connection: its options are checked here, so a bad one is refused at once
  let maxBody = Infinity
  if (init.stack === undefined) {
    checkCodecInit(codecInit)
    checkHeartbeatInit(hbConfig)
    // a session tells its frames apart by type, and its RESUME must fit: options that could never carry one
    if ((codecInit.format as { type?: unknown } | undefined)?.type === 'none') validate.invalid('codec.format.type', '\'after\' or \'before\' (a session tells its frames apart by their type)', 'none')
    maxBody = maxBodyLength(codecInit)
    if (maxBody < RESUME_LENGTH) validate.invalid('codec.maxFrameLength', `a limit that lets a ${RESUME_LENGTH}-byte RESUME through`, codecInit.maxFrameLength)
  }
  const stack = validate.fn('stack', init.stack, (conn: ByteDuplex) => heartbeat(codec(conn, codecInit), hbConfig))
  return {
    params: { maxAckDelay: Math.ceil(delay), windowMessages: maxMessages, windowBytes: maxBytes, ttl },
    acks,
    inbound: inboundLimits,
    link: {
      retention: { maxMessages, maxBytes },
      peerEnd: 'end',
      validate: sequencedCheck(maxBody),
      buffer: { ...validate.options('buffer', init.buffer), size: (frame: Frame) => frame.body.length },
      ...(init.closeTimeout !== undefined ? { closeTimeout: init.closeTimeout } : {}),
      clock,
      timers
    },
    stack,
    clock,
    timers
  }
}

/** A server's own options, validated. */
export interface ServerOptions {
  store: SessionStore
  ttl: number
  maxSessions: number
  resumeTimeout: number
}

export function resolveServer (init: SessionServerInit): ServerOptions {
  const store = init.store ?? memoryStore()
  if (typeof store !== 'object' || store === null || typeof store.restore !== 'function' || typeof store.bind !== 'function') validate.invalid('store', 'a SessionStore (memoryStore(), redisStore(…))', store)
  return {
    store,
    ttl: validate.duration('ttl', init.ttl, DEFAULT_TTL, { min: 1 }),
    maxSessions: validate.integer('maxSessions', init.maxSessions, DEFAULT_MAX_SESSIONS, { min: 1 }),
    resumeTimeout: validate.duration('resumeTimeout', init.resumeTimeout, DEFAULT_RESUME_TIMEOUT, { min: 1 })
  }
}
