/**
 * @packageDocumentation
 *
 * Framing for byte streams that never loses a message boundary. `codec(conn)` turns any byte duplex into
 * a duplex of frames (a type byte and a body); `encode` and `decode` are the two halves as `it-pipe`
 * transforms. The default wire format is `[u32be body length][u8 type][body]` (docs/PROTOCOL.md), and the
 * header layout is configurable to speak `it-length-prefixed`, Netty/Java fixed-width prefixes or
 * Python's `struct.pack('!BI', type, length)`.
 *
 * @example
 *
 * ```ts
 * import { codec, FrameType } from '@proto/codec'
 * import { connect } from '@proto/transport'
 * import { pipe } from 'it-pipe'
 *
 * const frames = codec(await connect({ host: '127.0.0.1', port: 7000 }))
 * await pipe(
 *   [{ type: FrameType.DATA, body: new TextEncoder().encode('hello') }],
 *   frames,
 *   async (source) => {
 *     for await (const frame of source) console.log(frame.type, frame.body)
 *   }
 * )
 * ```
 */

export {
  APP_TYPE_MAX, APP_TYPE_MIN, DEFAULT_MAX_FRAME_LENGTH, FrameType, GoAwayCode, MAX_FRAME_LENGTH_LIMIT,
  PROTOCOL_VERSION} from './constants.js'
export type { GoAway, Hello, HelloAdaptive } from './control.js'
export {
  ADAPTIVE_FLAG, decodeGoAway, decodeHello, encodeGoAway, encodeHello, HELLO_ADAPTIVE_LENGTH, HELLO_LENGTH, HELLO_MIN_PING_LENGTH, isFinalGoAway,
  MAX_GOAWAY_REASON
} from './control.js'
export {
  FrameTooLongError, InvalidControlFrameError, InvalidFrameError,
  InvalidHeaderError, InvalidParametersError, isUndecodable, ProtocolVersionError,
  TruncatedFrameError} from './errors.js'
export type { FrameFormat } from './format.js'
export { formats } from './format.js'
export type { Frame, ListFrame } from './frame.js'
export { frame } from './frame.js'
export type { FrameSource } from './frame-source.js'
export type { CodecInit, CopyCodecInit, ListCodecInit } from './options.js'
export type { CodecDuplex, FrameDuplex, FrameProgress } from './stage.js'
export { checkCodecInit, codec, frameCheck, maxBodyLength } from './stage.js'
export { decode, encode } from './transforms.js'
