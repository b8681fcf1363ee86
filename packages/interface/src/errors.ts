/**
 * An option or argument was missing, of the wrong kind or out of range. Thrown at once by the factory or
 * method that received it, before any I/O. Every `@proto` package throws this one class, so `instanceof`
 * works across packages.
 */
export class InvalidParametersError extends Error {
  static override name = 'InvalidParametersError'

  constructor (message = 'Invalid parameters', options?: ErrorOptions) {
    super(message, options)
    this.name = 'InvalidParametersError'
  }
}

/**
 * The peer does not speak a protocol version this side speaks: its HELLO carried another version, was not
 * a HELLO at all, or negotiated values that cannot work. The connection is closed.
 */
export class ProtocolVersionError extends Error {
  static override name = 'ProtocolVersionError'
  /** The version the peer announced, when it announced one. */
  readonly version: number | undefined
  /** The version this side speaks, when the mismatch is about versions. */
  readonly supported: number | undefined

  constructor (message = 'The peer does not speak this protocol version', options: ErrorOptions & { version?: number, supported?: number } = {}) {
    super(message, options)
    this.name = 'ProtocolVersionError'
    this.version = options.version
    this.supported = options.supported
  }
}
