/**
 * Hand-written framing for the raw `node:net` baselines: what a careful developer writes without a library.
 * `[u32be length][body]` (4-byte header) or the @proto wire format `[u32be length][u8 type][body]` (5 bytes).
 */

/** One `[u32be length][body]` frame in one buffer. */
export function frame4 (body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + body.byteLength)
  out.writeUInt32BE(body.byteLength, 0)
  out.set(body, 4)
  return out
}

/** One `[u32be length][u8 type][body]` frame in one buffer (the @proto default format). */
export function frame5 (type: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.allocUnsafe(5 + body.byteLength)
  out.writeUInt32BE(body.byteLength, 0)
  out[4] = type
  out.set(body, 5)
  return out
}

/**
 * Splits a byte stream into frames: `push` every chunk read from a socket; `onFrame` gets each body as a
 * view (no copy when a frame lies in one chunk) and, for 5-byte headers, its type.
 */
export class Deframer {
  private rest: Buffer | undefined
  constructor (
    private readonly header: 4 | 5,
    private readonly onFrame: (body: Buffer, type: number) => void
  ) {}

  push (chunk: Buffer): void {
    let buf = chunk
    if (this.rest !== undefined) { buf = Buffer.concat([this.rest, chunk]); this.rest = undefined }
    const h = this.header
    let off = 0
    const end = buf.byteLength
    while (end - off >= h) {
      const len = buf.readUInt32BE(off)
      if (end - off - h < len) break
      const type = h === 5 ? buf[off + 4] : 0
      this.onFrame(buf.subarray(off + h, off + h + len), type)
      off += h + len
    }
    if (off < end) this.rest = buf.subarray(off)
  }
}

/** Packs frames into ~`target`-byte buffers, copying bodies behind their headers (the "batched writes" baseline). */
export class Batcher4 {
  private buf: Buffer
  private off = 0
  constructor (private readonly target = 65536) { this.buf = Buffer.allocUnsafe(target) }

  /** Adds one frame; returns a full batch to write when the next frame would not fit, else undefined. */
  add (body: Uint8Array): Buffer | undefined {
    let full: Buffer | undefined
    const need = 4 + body.byteLength
    if (this.off + need > this.buf.byteLength && this.off > 0) full = this.flush()
    if (need > this.buf.byteLength) this.buf = Buffer.allocUnsafe(need)
    this.buf.writeUInt32BE(body.byteLength, this.off)
    this.buf.set(body, this.off + 4)
    this.off += need
    return full
  }

  /** The pending batch (or undefined); a new buffer is started, since the socket keeps the old one. */
  flush (): Buffer | undefined {
    if (this.off === 0) return undefined
    const out = this.buf.subarray(0, this.off)
    this.buf = Buffer.allocUnsafe(this.target)
    this.off = 0
    return out
  }
}
