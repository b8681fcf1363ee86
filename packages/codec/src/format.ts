import { DEFAULT_MAX_FRAME_LENGTH, MAX_FRAME_LENGTH_LIMIT } from './constants.js'
import { InvalidParametersError } from './errors.js'

/**
 * How a frame header is laid out on the wire. Every field is optional; the defaults give the @proto
 * format `[u32be body length][u8 type][body]`.
 */
export interface FrameFormat {
  /**
   * The length field: `'varint'` (unsigned LEB128, as `it-length-prefixed`) or a fixed width in bytes.
   * @default 4
   */
  length?: 'varint' | 1 | 2 | 4 | 8
  /**
   * Byte order of a fixed-width length field.
   * @default 'big'
   */
  endian?: 'big' | 'little'
  /**
   * Where the one-byte frame type sits: `'after'` the length field, `'before'` it, or `'none'` (frames carry
   * no type; decoded frames are `FrameType.DATA` and only DATA frames can be encoded).
   * @default 'after'
   */
  type?: 'before' | 'after' | 'none'
  /**
   * What the length field counts: only the `'body'`; the `'type-and-body'`; or the whole `'frame'`
   * including the length field itself (Netty `lengthIncludesLengthFieldLength`). `'frame'` needs a
   * fixed-width length.
   * @default 'body'
   */
  lengthCounts?: 'body' | 'type-and-body' | 'frame'
}

/** Ready-made formats. */
export const formats = {
  /** The @proto wire format: `[u32be body length][u8 type][body]` (docs/PROTOCOL.md). */
  proto: { length: 4, endian: 'big', type: 'after', lengthCounts: 'body' },
  /** Byte-compatible with `it-length-prefixed`: `[varint body length][body]`, no type. */
  lengthPrefixed: { length: 'varint', type: 'none', lengthCounts: 'body' },
  /** The classic Python `struct.pack('!BI', type, length)` header: `[u8 type][u32be body length][body]`. */
  structBI: { length: 4, endian: 'big', type: 'before', lengthCounts: 'body' },
  /** Netty `LengthFieldPrepender(4)` / Java `DataOutputStream.writeInt(len)`: `[u32be body length][body]`. */
  int32: { length: 4, endian: 'big', type: 'none', lengthCounts: 'body' }
} as const satisfies Record<string, FrameFormat>

/** A validated format, reduced to the numbers the hot paths need. */
export interface Layout {
  /** 0 for varint, else the fixed width in bytes. */
  readonly width: 0 | 1 | 2 | 4 | 8
  readonly littleEndian: boolean
  /** 0: no type byte; 1: before the length; 2: after the length. */
  readonly typeAt: 0 | 1 | 2
  /** Added to the body length to give the value of the length field. */
  readonly adjust: number
  /** The largest body this layout may carry: `maxFrameLength`, or less where the field is narrower. */
  readonly maxBody: number
  /** The configured `maxFrameLength`. */
  readonly maxFrameLength: number
  /** The most bytes a header can take. */
  readonly maxHeader: number
}

const WIDTHS = new Set(['varint', 1, 2, 4, 8])

/** Checks a format and a limit and returns the layout; throws `InvalidParametersError` on anything invalid. */
export function toLayout (format: FrameFormat = {}, maxFrameLength = DEFAULT_MAX_FRAME_LENGTH): Layout {
  const length = format.length ?? 4
  if (!WIDTHS.has(length)) throw new InvalidParametersError(`format.length must be 'varint', 1, 2, 4 or 8; got ${String(length)}`)
  const endian = format.endian ?? 'big'
  if (endian !== 'big' && endian !== 'little') throw new InvalidParametersError(`format.endian must be 'big' or 'little'; got ${String(endian)}`)
  const type = format.type ?? 'after'
  if (type !== 'before' && type !== 'after' && type !== 'none') throw new InvalidParametersError(`format.type must be 'before', 'after' or 'none'; got ${String(type)}`)
  const counts = format.lengthCounts ?? 'body'
  if (counts !== 'body' && counts !== 'type-and-body' && counts !== 'frame') throw new InvalidParametersError(`format.lengthCounts must be 'body', 'type-and-body' or 'frame'; got ${String(counts)}`)
  if (!Number.isSafeInteger(maxFrameLength) || maxFrameLength < 0 || maxFrameLength > MAX_FRAME_LENGTH_LIMIT) {
    throw new InvalidParametersError(`maxFrameLength must be a whole number of bytes from 0 to ${MAX_FRAME_LENGTH_LIMIT}; got ${maxFrameLength}`)
  }
  const width = length === 'varint' ? 0 : length
  if (width === 0 && counts === 'frame') throw new InvalidParametersError("format.lengthCounts 'frame' needs a fixed-width length; a varint cannot count itself")
  const typeBytes = type === 'none' ? 0 : 1
  const adjust = counts === 'body' ? 0 : counts === 'type-and-body' ? typeBytes : width + typeBytes
  const fieldMax = width === 0 || width === 8 ? Number.MAX_SAFE_INTEGER : 2 ** (8 * width) - 1
  return {
    width,
    littleEndian: endian === 'little',
    typeAt: type === 'none' ? 0 : type === 'before' ? 1 : 2,
    adjust,
    maxBody: Math.min(maxFrameLength, fieldMax - adjust),
    maxFrameLength,
    maxHeader: (width === 0 ? 8 : width) + typeBytes
  }
}

/** Bytes the header takes for a body of `bodyLength` bytes. */
export function headerLength (layout: Layout, bodyLength: number): number {
  const typeBytes = layout.typeAt === 0 ? 0 : 1
  return (layout.width === 0 ? varintLength(bodyLength + layout.adjust) : layout.width) + typeBytes
}

/** Bytes an unsigned LEB128 varint of `value` takes. */
export function varintLength (value: number): number {
  let n = 1
  while (value >= 0x80) {
    value = Math.floor(value / 128)
    n++
  }
  return n
}
