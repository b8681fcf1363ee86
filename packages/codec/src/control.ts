import { validate } from '@proto/interface'
import { GoAwayCode, HELLO_MAGIC, PROTOCOL_VERSION } from './constants.js'
import { InvalidControlFrameError, ProtocolVersionError } from './errors.js'

/** What a HELLO frame carries (docs/PROTOCOL.md §HELLO). */
export interface Hello {
  /** Protocol version; this SDK speaks 1. */
  version: number
  /** Feature flags; none are defined in version 1, so senders send 0 and receivers ignore unknown bits. */
  flags: number
  /** The sender's heartbeat ping interval, in milliseconds (0: no heartbeat). */
  interval: number
  /** The sender's dead-peer timeout, in milliseconds (0: no heartbeat). */
  timeout: number
  /**
   * The shortest gap between pings the sender accepts from its peer, in milliseconds (its ping guard);
   * present when the body carries the extension (docs/PROTOCOL.md §3.1).
   */
  minPingInterval?: number
  /**
   * With flag `ADAPTIVE_FLAG`: the sender adapts its ping interval between `interval` (its shortest) and
   * `adaptive.max`, and its PINGs carry the interval it uses (docs/PROTOCOL.md §3.4).
   */
  adaptive?: HelloAdaptive
}

/** The adaptive-interval extension of HELLO (docs/PROTOCOL.md §3.1, §3.4). */
export interface HelloAdaptive {
  /** The interval the sender starts with, in milliseconds. */
  interval: number
  /** The longest interval the sender may use, in milliseconds. */
  max: number
  /** How long the sender waits beyond the interval in force before it declares its peer dead, in milliseconds. */
  grace: number
}

/** What a GOAWAY frame carries (docs/PROTOCOL.md §GOAWAY). */
export interface GoAway {
  /** Why the sender is closing; see `GoAwayCode`. Unknown codes are treated like `NORMAL`. */
  code: number
  /** Human-readable detail, UTF-8, at most 1024 bytes. */
  reason: string
}

/** HELLO bodies are exactly this long in version 1; longer bodies carry extensions that v1 readers skip. */
export const HELLO_LENGTH = 14
/** A HELLO carrying `minPingInterval` is this long. */
export const HELLO_MIN_PING_LENGTH = 18
/** A HELLO carrying the adaptive-interval extension (flag `ADAPTIVE_FLAG`) is this long. */
export const HELLO_ADAPTIVE_LENGTH = 30
/**
 * HELLO flag: the sender adapts its ping interval, its HELLO carries the adaptive extension, and its PINGs
 * carry the interval it uses (docs/PROTOCOL.md §3.4).
 */
export const ADAPTIVE_FLAG = 0x02
/** The longest GOAWAY reason, in UTF-8 bytes. */
export const MAX_GOAWAY_REASON = 1024

const U32 = { max: 0xFFFF_FFFF }

/**
 * Encodes a HELLO body: magic `PRTO`, version u8, flags u8, interval u32be, timeout u32be; then, when given,
 * the extension: `minPingInterval` u32be, and with `adaptive` (which sets `ADAPTIVE_FLAG`) its interval,
 * max and grace, u32be each. Without them the body is the 14 bytes of version 1.
 */
export function encodeHello (hello: Partial<Pick<Hello, 'version' | 'flags' | 'minPingInterval' | 'adaptive'>> & Pick<Hello, 'interval' | 'timeout'>): Uint8Array {
  const version = validate.byte('HELLO version', hello.version, PROTOCOL_VERSION)
  let flags = validate.byte('HELLO flags', hello.flags, 0)
  const interval = validate.integer('HELLO interval', hello.interval, NaN, U32)
  const timeout = validate.integer('HELLO timeout', hello.timeout, NaN, U32)
  const minPing = validate.integer('HELLO minPingInterval', hello.minPingInterval, 0, U32)
  const adaptive = hello.adaptive
  if (adaptive !== undefined) flags |= ADAPTIVE_FLAG
  else if ((flags & ADAPTIVE_FLAG) !== 0) validate.invalid('HELLO flags', `without ADAPTIVE_FLAG (0x0${ADAPTIVE_FLAG}) when adaptive is absent`, flags, 'the flag announces the adaptive extension; give adaptive instead')
  const length = adaptive !== undefined ? HELLO_ADAPTIVE_LENGTH : minPing > 0 ? HELLO_MIN_PING_LENGTH : HELLO_LENGTH
  const out = new Uint8Array(length)
  out.set(HELLO_MAGIC, 0)
  const view = new DataView(out.buffer)
  view.setUint8(4, version)
  view.setUint8(5, flags)
  view.setUint32(6, interval)
  view.setUint32(10, timeout)
  if (length > HELLO_LENGTH) view.setUint32(14, minPing)
  if (adaptive !== undefined) {
    view.setUint32(18, validate.integer('HELLO adaptive.interval', adaptive.interval, NaN, U32))
    view.setUint32(22, validate.integer('HELLO adaptive.max', adaptive.max, NaN, U32))
    view.setUint32(26, validate.integer('HELLO adaptive.grace', adaptive.grace, NaN, U32))
  }
  return out
}

/**
 * Decodes a HELLO body. Throws `InvalidControlFrameError` when it is not a HELLO, and
 * `ProtocolVersionError` when the version is not one this SDK speaks (`supported`, default 1). Reads the
 * extension where the body carries it (`minPingInterval` from 18 bytes on; `adaptive` from 30 bytes on, with
 * `ADAPTIVE_FLAG`) and ignores any bytes after what it knows.
 */
export function decodeHello (body: Uint8Array, supported: number = PROTOCOL_VERSION): Hello {
  if (body.byteLength < HELLO_LENGTH || HELLO_MAGIC.some((b, i) => body[i] !== b)) {
    throw new InvalidControlFrameError(`Expected a HELLO body of at least ${HELLO_LENGTH} bytes starting with "PRTO"; got ${body.byteLength} bytes — the peer does not speak the @proto protocol`)
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const version = view.getUint8(4)
  if (version !== supported) {
    throw new ProtocolVersionError(`Peer speaks @proto protocol version ${version}; this SDK speaks version ${supported}. Upgrade the older side`, { version, supported })
  }
  const flags = view.getUint8(5)
  const hello: Hello = { version, flags, interval: view.getUint32(6), timeout: view.getUint32(10) }
  if (body.byteLength >= HELLO_MIN_PING_LENGTH) hello.minPingInterval = view.getUint32(14)
  if ((flags & ADAPTIVE_FLAG) !== 0 && body.byteLength >= HELLO_ADAPTIVE_LENGTH) {
    hello.adaptive = { interval: view.getUint32(18), max: view.getUint32(22), grace: view.getUint32(26) }
  }
  return hello
}

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder('utf-8', { fatal: false })

/** Encodes a GOAWAY body: code u16be, then the reason in UTF-8. */
export function encodeGoAway (goAway: Partial<GoAway> & Pick<GoAway, 'code'>): Uint8Array {
  const code = validate.integer('GOAWAY code', goAway.code, NaN, { max: 0xFFFF })
  const reason = utf8.encode(goAway.reason ?? '')
  if (reason.byteLength > MAX_GOAWAY_REASON) {
    validate.invalid('GOAWAY reason length', `at most ${MAX_GOAWAY_REASON} bytes of UTF-8`, reason.byteLength, 'shorten the reason')
  }
  const out = new Uint8Array(2 + reason.byteLength)
  out[0] = code >>> 8
  out[1] = code & 0xFF
  out.set(reason, 2)
  return out
}

/** Decodes a GOAWAY body. Throws `InvalidControlFrameError` if it is shorter than its code or the reason is too long. */
export function decodeGoAway (body: Uint8Array): GoAway {
  if (body.byteLength < 2) throw new InvalidControlFrameError(`Expected a GOAWAY body of at least 2 bytes (u16 code); got ${body.byteLength}`)
  if (body.byteLength - 2 > MAX_GOAWAY_REASON) throw new InvalidControlFrameError(`GOAWAY reason is ${body.byteLength - 2} bytes; at most ${MAX_GOAWAY_REASON} are allowed`)
  return { code: (body[0] << 8) | body[1], reason: fromUtf8.decode(body.subarray(2)) }
}

/** Whether a GOAWAY code asks the client not to reconnect. */
export function isFinalGoAway (code: number): boolean {
  return code === GoAwayCode.DO_NOT_RETRY
}
