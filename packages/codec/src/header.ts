import { readUint32, readUint64, writeUint32, writeUint64 } from '@proto/interface'
import { FrameTooLongError, InvalidHeaderError } from './errors.js'
import type { Layout } from './format.js'

/** Where `readHeader` puts what it parsed, to avoid allocating per frame. */
export interface ParsedHeader {
  type: number
  bodyLength: number
}

/** Writes the header for a frame of `type` with a body of `bodyLength` bytes at `off`; returns the offset after it. */
export function writeHeader (layout: Layout, buf: Uint8Array, off: number, type: number, bodyLength: number): number {
  if (layout.typeAt === 1) buf[off++] = type
  let value = bodyLength + layout.adjust
  switch (layout.width) {
    case 0:
      while (value >= 0x80) {
        buf[off++] = (value & 0x7F) | 0x80
        value = Math.floor(value / 128)
      }
      buf[off++] = value
      break
    case 1:
      buf[off++] = value
      break
    case 2:
      if (layout.littleEndian) { buf[off++] = value; buf[off++] = value >>> 8 } else { buf[off++] = value >>> 8; buf[off++] = value }
      break
    case 4:
      off = writeUint32(buf, off, value, layout.littleEndian)
      break
    case 8:
      off = writeUint64(buf, off, value, layout.littleEndian)
      break
  }
  if (layout.typeAt === 2) buf[off++] = type
  return off
}

/**
 * Parses a header from `buf[off, end)` into `out`. Returns the header's length in bytes, or -1 when more
 * bytes are needed. The announced length is checked against the limit as soon as the length field is
 * complete, before the type byte or any of the body has arrived.
 */
export function readHeader (layout: Layout, buf: Uint8Array, off: number, end: number, out: ParsedHeader): number {
  const start = off
  if (layout.typeAt === 1) {
    if (off >= end) return -1
    out.type = buf[off++]
  }
  let value: number
  switch (layout.width) {
    case 0: {
      value = 0
      let scale = 1
      for (let i = 0; ; i++) {
        if (off >= end) return -1
        const byte = buf[off++]
        value += (byte & 0x7F) * scale
        if (byte < 0x80) break
        if (i === 7) throw new InvalidHeaderError('Malformed varint length: more than 8 bytes without an end; the peer does not speak this framing')
        scale *= 128
        if (value > layout.maxBody + layout.adjust) throw new FrameTooLongError(value - layout.adjust, layout.maxFrameLength)
      }
      break
    }
    case 1:
      if (end - off < 1) return -1
      value = buf[off++]
      break
    case 2:
      if (end - off < 2) return -1
      value = layout.littleEndian ? buf[off] | (buf[off + 1] << 8) : (buf[off] << 8) | buf[off + 1]
      off += 2
      break
    case 4:
      if (end - off < 4) return -1
      value = readUint32(buf, off, layout.littleEndian)
      off += 4
      break
    default:
      if (end - off < 8) return -1
      value = readUint64(buf, off, layout.littleEndian)
      off += 8
  }
  const bodyLength = value - layout.adjust
  if (bodyLength < 0) {
    throw new InvalidHeaderError(`Frame length field says ${value}, less than the ${layout.adjust} header bytes it must count; the peer does not speak this framing`)
  }
  if (bodyLength > layout.maxBody) throw new FrameTooLongError(bodyLength, layout.maxFrameLength)
  out.bodyLength = bodyLength
  if (layout.typeAt === 2) {
    if (off >= end) return -1
    out.type = buf[off++]
  } else if (layout.typeAt === 0) {
    out.type = 0
  }
  return off - start
}
