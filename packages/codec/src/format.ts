import { validate } from '@proto/interface'
import { DEFAULT_MAX_FRAME_LENGTH, MAX_FRAME_LENGTH_LIMIT } from './constants.js'

/**
 * How a frame header is laid out on the wire. Every field is optional; the defaults give the `@proto`
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
export const formats: {
  /** The `@proto` wire format: `[u32be body length][u8 type][body]` (docs/PROTOCOL.md). */
  readonly proto: Readonly<FrameFormat>
  /** Byte-compatible with `it-length-prefixed`: `[varint body length][body]`, no type. */
  readonly lengthPrefixed: Readonly<FrameFormat>
  /** The classic Python `struct.pack('!BI', type, length)` header: `[u8 type][u32be body length][body]`. */
  readonly structBI: Readonly<FrameFormat>
  /** Netty `LengthFieldPrepender(4)` / Java `DataOutputStream.writeInt(len)`: `[u32be body length][body]`. */
  readonly int32: Readonly<FrameFormat>
} = {
  proto: { length: 4, endian: 'big', type: 'after', lengthCounts: 'body' },
  lengthPrefixed: { length: 'varint', type: 'none', lengthCounts: 'body' },
  structBI: { length: 4, endian: 'big', type: 'before', lengthCounts: 'body' },
  int32: { length: 4, endian: 'big', type: 'none', lengthCounts: 'body' }
}

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

const LENGTHS = ['varint', 1, 2, 4, 8] as const

/** Checks a format and a limit and returns the layout; throws `InvalidParametersError` on anything invalid. */
export function toLayout (format: FrameFormat | undefined, maxFrameLengthOption: number | undefined): Layout {
  validate.options('format', format)
  const length = validate.oneOf<'varint' | 1 | 2 | 4 | 8>('format.length', format?.length, LENGTHS, 4)
  const endian = validate.oneOf('format.endian', format?.endian, ['big', 'little'], 'big')
  const type = validate.oneOf('format.type', format?.type, ['before', 'after', 'none'], 'after')
  const counts = validate.oneOf('format.lengthCounts', format?.lengthCounts, ['body', 'type-and-body', 'frame'], 'body')
  const maxFrameLength = validate.integer('maxFrameLength', maxFrameLengthOption, DEFAULT_MAX_FRAME_LENGTH, { max: MAX_FRAME_LENGTH_LIMIT })
  if (length === 'varint' && counts === 'frame') {
    validate.invalid('format.lengthCounts', "'body' or 'type-and-body' with a varint length", counts, 'a varint cannot count itself; use a fixed-width length')
  }
  // a layout is a pure function of these; every codec with the same options (one per connection) shares it
  const key = `${length}|${endian}|${type}|${counts}|${maxFrameLength}`
  const known = LAYOUTS.get(key)
  if (known !== undefined) return known
  const width = length === 'varint' ? 0 : length
  const typeBytes = type === 'none' ? 0 : 1
  const adjust = counts === 'body' ? 0 : counts === 'type-and-body' ? typeBytes : width + typeBytes
  const fieldMax = width === 0 || width === 8 ? Number.MAX_SAFE_INTEGER : 2 ** (8 * width) - 1
  const layout: Layout = {
    width,
    littleEndian: endian === 'little',
    typeAt: type === 'none' ? 0 : type === 'before' ? 1 : 2,
    adjust,
    maxBody: Math.min(maxFrameLength, fieldMax - adjust),
    maxFrameLength,
    maxHeader: (width === 0 ? 8 : width) + typeBytes
  }
  if (LAYOUTS.size < MAX_SHARED_LAYOUTS) LAYOUTS.set(key, layout)
  return layout
}

/** Layouts already made, by their options; bounded, so options that keep changing are simply not shared. Never changed once made. */
const LAYOUTS = new Map<string, Layout>()
const MAX_SHARED_LAYOUTS = 32

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
