import { GoAwayCode, isFinalGoAway } from '@proto/codec'

export { InvalidParametersError, ProtocolVersionError } from '@proto/interface'

/** Nothing arrived from the peer for longer than the timeout: it is gone (or unreachable) and the link was destroyed. */
export class HeartbeatTimeoutError extends Error {
  static override name = 'HeartbeatTimeoutError'
  /** Milliseconds since the last frame from the peer, when it was declared dead. */
  readonly lastReceivedAge: number
  /** The timeout in force, in milliseconds. */
  readonly timeout: number

  constructor (lastReceivedAge: number, timeout: number, options?: ErrorOptions) {
    super(`expected a frame from the peer at least every ${timeout} ms, but none came for ${Math.round(lastReceivedAge)} ms: the peer is dead or unreachable and the connection was destroyed. Reconnect; raise timeout if the link is merely slow`, options)
    this.name = 'HeartbeatTimeoutError'
    this.lastReceivedAge = lastReceivedAge
    this.timeout = timeout
  }
}

/** The peer pinged more often than `minPingInterval` allows; it was sent GOAWAY `TOO_MANY_PINGS` and the connection was closed. */
export class TooManyPingsError extends Error {
  static override name = 'TooManyPingsError'
  /** Milliseconds between the last two pings from the peer. */
  readonly observedInterval: number
  /** The minimum accepted interval, in milliseconds. */
  readonly minPingInterval: number

  constructor (observedInterval: number, minPingInterval: number, options?: ErrorOptions) {
    super(`expected the peer's pings at least ${minPingInterval} ms apart, but one came ${Math.round(observedInterval)} ms after the previous one, too many times; it was sent GOAWAY TOO_MANY_PINGS and the connection was closed. The peer must raise its interval`, options)
    this.name = 'TooManyPingsError'
    this.observedInterval = observedInterval
    this.minPingInterval = minPingInterval
  }
}

/**
 * The peer broke the rules this stage enforces: a frame of a type not in `allowedTypes`, a PING or PONG
 * body longer than `maxPingBody`, a malformed GOAWAY or a second HELLO. The peer was sent GOAWAY
 * `PROTOCOL_ERROR` (where the format has one) and the connection was closed.
 */
export class ProtocolViolationError extends Error {
  static override name = 'ProtocolViolationError'
  /** Type of the offending frame. */
  readonly frameType: number
  /** Body length of the offending frame, in bytes. */
  readonly bodyLength: number

  constructor (message: string, frameType: number, bodyLength: number, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ProtocolViolationError'
    this.frameType = frameType
    this.bodyLength = bodyLength
  }
}

const CODE_NAMES = new Map<number, string>(Object.entries(GoAwayCode).map(([name, code]) => [code, name]))

/**
 * The peer sent GOAWAY (with a code other than `NORMAL`) and then its side of the connection ended, or
 * the connection failed (`cause`). `final` tells "do not reconnect" (`DO_NOT_RETRY`) from "come back
 * later" (every other code, e.g. `SHUTTING_DOWN`).
 */
export class GoAwayError extends Error {
  static override name = 'GoAwayError'
  /** The GOAWAY code (see `GoAwayCode`). */
  readonly code: number
  /** The peer's reason, as it sent it. */
  readonly reason: string
  /** Whether the peer asked not to reconnect (`isFinalGoAway(code)`). */
  readonly final: boolean

  constructor (code: number, reason: string, options?: ErrorOptions) {
    const final = isFinalGoAway(code)
    const name = CODE_NAMES.get(code) ?? `code ${code}`
    super(`The peer sent GOAWAY ${name}${reason !== '' ? ` (${JSON.stringify(reason)})` : ''} and ended the connection; ${final ? 'do not reconnect' : 'reconnect after a backoff'}`, options)
    this.name = 'GoAwayError'
    this.code = code
    this.reason = reason
    this.final = final
  }
}

/** `close()` made no progress for `closeTimeout`: the peer did not read our data or did not end its side, or the source yielded nothing and did not end. The connection was aborted. */
export class CloseTimeoutError extends Error {
  static override name = 'CloseTimeoutError'
  /** The timeout in force, in milliseconds. */
  readonly closeTimeout: number

  constructor (closeTimeout: number, options?: ErrorOptions) {
    super(`expected close() to make progress at least every ${closeTimeout} ms (our frames handed down, then the peer's end), but it did not; the connection was aborted. End the sink's source, make the peer read and finish, or raise closeTimeout`, options)
    this.name = 'CloseTimeoutError'
    this.closeTimeout = closeTimeout
  }
}
