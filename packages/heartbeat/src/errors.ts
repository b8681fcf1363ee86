/** An option was out of range or of the wrong kind. Thrown at once by `heartbeat()`. */
export class InvalidParametersError extends Error {
  static override name = 'InvalidParametersError'

  constructor (message = 'Invalid parameters', options?: ErrorOptions) {
    super(message, options)
    this.name = 'InvalidParametersError'
  }
}

/** Nothing arrived from the peer for longer than the timeout: it is gone (or unreachable) and the link was destroyed. */
export class HeartbeatTimeoutError extends Error {
  static override name = 'HeartbeatTimeoutError'
  /** Milliseconds since the last frame from the peer, when it was declared dead. */
  readonly lastReceivedAge: number
  /** The timeout in force, in milliseconds. */
  readonly timeout: number

  constructor (lastReceivedAge: number, timeout: number, options?: ErrorOptions) {
    super(`No frame from the peer for ${Math.round(lastReceivedAge)} ms (timeout ${timeout} ms): the peer is dead or unreachable, the connection was destroyed. Reconnect; raise timeout if the link is merely slow`, options)
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
    super(`The peer pinged ${Math.round(observedInterval)} ms after its previous ping, more often than the minimum of ${minPingInterval} ms, too many times; it was sent GOAWAY TOO_MANY_PINGS. The peer must raise its interval`, options)
    this.name = 'TooManyPingsError'
    this.observedInterval = observedInterval
    this.minPingInterval = minPingInterval
  }
}

/** With `hello: true`, the peer's first frame was not a HELLO this SDK understands (another protocol, or another version). */
export class ProtocolVersionError extends Error {
  static override name = 'ProtocolVersionError'

  constructor (message = 'The peer does not speak this protocol version', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ProtocolVersionError'
  }
}

/** `close()` did not finish within `closeTimeout`: the peer did not end its side, or nobody read our source. The connection was aborted. */
export class CloseTimeoutError extends Error {
  static override name = 'CloseTimeoutError'

  constructor (closeTimeout: number, options?: ErrorOptions) {
    super(`close() did not complete within ${closeTimeout} ms (the peer kept its side open or the source was not drained); the connection was aborted`, options)
    this.name = 'CloseTimeoutError'
  }
}
