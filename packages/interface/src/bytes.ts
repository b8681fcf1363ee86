import type { ByteChunk } from './duplex.js'

/** Returns the bytes of a chunk as one `Uint8Array`, copying only when a list spans several buffers. */
export function toUint8Array (chunk: ByteChunk): Uint8Array {
  return chunk instanceof Uint8Array ? chunk : chunk.subarray()
}

/** Reads an unsigned 32-bit integer at `offset` (big-endian unless `littleEndian`). */
export function readUint32 (buf: Uint8Array, offset: number, littleEndian = false): number {
  return littleEndian
    ? (buf[offset] | (buf[offset + 1] << 8) | (buf[offset + 2] << 16) | (buf[offset + 3] << 24)) >>> 0
    : ((buf[offset] << 24) | (buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]) >>> 0
}

/** Writes `value` as an unsigned 32-bit integer at `offset`; returns the offset after it. */
export function writeUint32 (buf: Uint8Array, offset: number, value: number, littleEndian = false): number {
  if (littleEndian) {
    buf[offset] = value; buf[offset + 1] = value >>> 8; buf[offset + 2] = value >>> 16; buf[offset + 3] = value >>> 24
  } else {
    buf[offset] = value >>> 24; buf[offset + 1] = value >>> 16; buf[offset + 2] = value >>> 8; buf[offset + 3] = value
  }
  return offset + 4
}

const TWO_32 = 2 ** 32

/**
 * Reads an unsigned 64-bit integer as a `number`. Values above `Number.MAX_SAFE_INTEGER` (2^53 − 1) are
 * not exact; callers that must refuse them check `Number.isSafeInteger` on the result.
 */
export function readUint64 (buf: Uint8Array, offset: number, littleEndian = false): number {
  const first = readUint32(buf, offset, littleEndian)
  const second = readUint32(buf, offset + 4, littleEndian)
  return littleEndian ? second * TWO_32 + first : first * TWO_32 + second
}

/** Writes a whole number from 0 to 2^53 − 1 as an unsigned 64-bit integer; returns the offset after it. */
export function writeUint64 (buf: Uint8Array, offset: number, value: number, littleEndian = false): number {
  const hi = Math.floor(value / TWO_32)
  const lo = value >>> 0
  return littleEndian
    ? writeUint32(buf, writeUint32(buf, offset, lo, true), hi, true)
    : writeUint32(buf, writeUint32(buf, offset, hi), lo)
}
