export { InvalidParametersError } from '@proto/interface'

/** Why the durable duplex stopped redialling. */
export type FailureKind = 'attempts' | 'deadline' | 'fatal'

/**
 * The durable duplex gave up: attempts exhausted, the outage outlasted `maxRetryTime`, or `shouldRetry`
 * called an error fatal. `cause` is the last error seen. Both the source and the sink fail with it.
 */
export class ReconnectFailedError extends Error {
  static override name = 'ReconnectFailedError'
  /** Dial attempts made in the outage that ended in this failure. */
  readonly attempts: number
  /** What ended the retries. */
  readonly kind: FailureKind

  constructor (message = 'Reconnect failed', options: ErrorOptions & { attempts?: number, kind?: FailureKind } = {}) {
    super(message, options)
    this.name = 'ReconnectFailedError'
    this.attempts = options.attempts ?? 0
    this.kind = options.kind ?? 'attempts'
  }
}

/** A write found the outbound buffer full while disconnected, under `overflow: 'error'`. */
export class BufferOverflowError extends Error {
  static override name = 'BufferOverflowError'

  constructor (message = 'The outbound buffer is full', options?: ErrorOptions) {
    super(message, options)
    this.name = 'BufferOverflowError'
  }
}

/** With `failFast`, a write while no connection is up; the item was not accepted. */
export class NotConnectedError extends Error {
  static override name = 'NotConnectedError'

  constructor (message = 'No connection is up and failFast is set: the write was refused', options?: ErrorOptions) {
    super(message, options)
    this.name = 'NotConnectedError'
  }
}

/** A write after `close()` (or after the write side ended), or items left unsent by `close()`. */
export class ClosedError extends Error {
  static override name = 'ClosedError'

  constructor (message = 'The durable duplex is closed', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ClosedError'
  }
}

/** One dial took longer than `connectTimeout`; its signal was aborted with this error. */
export class DialTimeoutError extends Error {
  static override name = 'DialTimeoutError'

  constructor (message = 'The dial timed out', options?: ErrorOptions) {
    super(message, options)
    this.name = 'DialTimeoutError'
  }
}

/** `link.reconnect()` replaced the connection; the `disconnected` event's default error. */
export class ForcedReconnectError extends Error {
  static override name = 'ForcedReconnectError'

  constructor (message = 'reconnect() replaced this connection', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ForcedReconnectError'
  }
}

/** What a lost connection's lower duplex is aborted with when nothing more specific ended it. */
export class ConnectionLostError extends Error {
  static override name = 'ConnectionLostError'

  constructor (message = 'The connection was lost', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ConnectionLostError'
  }
}
