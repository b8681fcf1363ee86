import type { Frame, FrameFormat } from '../src/index.js'

/**
 * A deliberately naive encoder written straight from docs/PROTOCOL.md §4, sharing no code with the
 * codec: builds each header with DataView and BigInt, one frame at a time.
 */
export function referenceEncode (frames: Frame[], format: FrameFormat = {}): Uint8Array {
  const width = format.length ?? 4
  const little = format.endian === 'little'
  const type = format.type ?? 'after'
  const counts = format.lengthCounts ?? 'body'
  const bytes: number[] = []
  for (const f of frames) {
    const typeBytes = type === 'none' ? 0 : 1
    let value = f.body.byteLength
    if (counts === 'type-and-body') value += typeBytes
    if (counts === 'frame') value += typeBytes + (width as number)
    const len: number[] = []
    if (width === 'varint') {
      let v = BigInt(value)
      do {
        let b = Number(v & 0x7Fn)
        v >>= 7n
        if (v > 0n) b |= 0x80
        len.push(b)
      } while (v > 0n)
    } else {
      const buf = new DataView(new ArrayBuffer(8))
      buf.setBigUint64(0, BigInt(value), little)
      const all = Array.from(new Uint8Array(buf.buffer))
      len.push(...(little ? all.slice(0, width) : all.slice(8 - width)))
    }
    if (type === 'before') bytes.push(f.type)
    bytes.push(...len)
    if (type === 'after') bytes.push(f.type)
    for (const b of f.body) bytes.push(b)
  }
  return Uint8Array.from(bytes)
}
