/**
 * The errors of the codec. `InvalidParametersError` (bad options, thrown at once) and `ProtocolVersionError`
 * (a HELLO with another version) are the classes shared by every `@proto` package, re-exported here.
 */
export { InvalidParametersError, ProtocolVersionError } from '@proto/interface'

/** A frame's header announced a body longer than `maxFrameLength` (decode), or a frame to send is too long (encode). */
export class FrameTooLongError extends Error {
  static override name = 'FrameTooLongError'
  /** The body length that was announced or offered, in bytes. */
  readonly length: number
  /** The configured limit, in bytes. */
  readonly maxFrameLength: number

  constructor (length: number, maxFrameLength: number, message?: string, options?: ErrorOptions) {
    super(message ?? `Frame body of ${length} bytes exceeds maxFrameLength ${maxFrameLength}; raise maxFrameLength on both peers or split the message`, options)
    this.name = 'FrameTooLongError'
    this.length = length
    this.maxFrameLength = maxFrameLength
  }
}

/** A frame header could not be parsed: a varint that never ends, or a length smaller than the header it must count. */
export class InvalidHeaderError extends Error {
  static override name = 'InvalidHeaderError'

  constructor (message = 'Malformed frame header', options?: ErrorOptions) {
    super(message, options)
    this.name = 'InvalidHeaderError'
  }
}

/** The byte stream ended inside a frame: the peer went away mid-message or truncated it. */
export class TruncatedFrameError extends Error {
  static override name = 'TruncatedFrameError'
  /** Bytes of the frame that had arrived. */
  readonly received: number
  /** Bytes the frame needed, when the header was complete; `undefined` when the stream ended inside the header. */
  readonly expected: number | undefined

  constructor (received: number, expected: number | undefined, options?: ErrorOptions) {
    super(expected == null
      ? `Stream ended inside a frame header after ${received} header bytes; the peer closed mid-frame`
      : `Stream ended inside a frame: expected ${expected} body bytes, received ${received}; the peer closed mid-frame`, options)
    this.name = 'TruncatedFrameError'
    this.received = received
    this.expected = expected
  }
}

/** A frame offered for encoding is not valid for the configured format (type out of range, a type where the format has none). */
export class InvalidFrameError extends Error {
  static override name = 'InvalidFrameError'

  constructor (message = 'Invalid frame', options?: ErrorOptions) {
    super(message, options)
    this.name = 'InvalidFrameError'
  }
}

/** A control frame body (HELLO, GOAWAY) did not follow docs/PROTOCOL.md. */
export class InvalidControlFrameError extends Error {
  static override name = 'InvalidControlFrameError'

  constructor (message = 'Invalid control frame', options?: ErrorOptions) {
    super(message, options)
    this.name = 'InvalidControlFrameError'
  }
}

/**
 * Whether `err` says the peer's bytes are no frame of this codec (a bad header, a body over
 * `maxFrameLength`, an invalid frame or control frame): the peer broke the wire format, and may be told so.
 * A stream that ended inside a frame (`TruncatedFrameError`) is the peer leaving, not that.
 */
export function isUndecodable (err: unknown): err is FrameTooLongError | InvalidHeaderError | InvalidFrameError | InvalidControlFrameError {
  return err instanceof FrameTooLongError || err instanceof InvalidHeaderError || err instanceof InvalidFrameError || err instanceof InvalidControlFrameError
}
