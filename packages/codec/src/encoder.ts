import { writeUint32 } from '@proto/interface'
import { isUint8ArrayList, Uint8ArrayList } from 'uint8arraylist'
import { allocChunk } from './alloc.js'
import { ZERO_COPY_THRESHOLD } from './constants.js'
import { FrameTooLongError, InvalidFrameError } from './errors.js'
import type { Layout } from './format.js'
import { headerLength } from './format.js'
import type { ListFrame } from './frame.js'
import { writeHeader } from './header.js'

/** Writes the pieces of a list body at `off`; returns the offset after them. */
function writeList (out: Uint8Array, off: number, body: Uint8ArrayList): number {
  for (const buf of body) {
    out.set(buf, off)
    off += buf.length
  }
  return off
}

/**
 * Turns frames into bytes. Header and body of a frame always travel in the same chunk: small frames are
 * packed together into one buffer, and bodies of `ZERO_COPY_THRESHOLD` bytes or more go by reference
 * between them, in a `Uint8ArrayList` that the transport writes in one call.
 */
export class FrameEncoder {
  /** Header size when every header has the same size (fixed-width lengths); 0 for varints. */
  private readonly fixedHeader: number
  /** Header size when the layout is `u32be` length counting the body, type after it or none; else 0. */
  private readonly fastHeader: number

  constructor (private readonly layout: Layout) {
    this.fixedHeader = layout.width === 0 ? 0 : layout.width + (layout.typeAt === 0 ? 0 : 1)
    const simple = layout.width === 4 && !layout.littleEndian && layout.adjust === 0 && layout.typeAt !== 1
    this.fastHeader = simple ? this.fixedHeader : 0
  }

  /** Throws a typed error if `frame` cannot be sent in this format; returns its encoded size. */
  check (frame: ListFrame): number {
    if (frame == null) throw new InvalidFrameError(`A frame must be an object { type, body }; got ${String(frame)}`)
    const type = frame.type
    if ((type & 0xFF) !== type || (this.layout.typeAt === 0 && type !== 0)) this.invalidType(type)
    const body = frame.body
    // any other typed array would be copied element by element, not byte by byte, short of its byteLength
    if (!(body instanceof Uint8Array) && !isUint8ArrayList(body)) this.invalidBody(body)
    const n = body.length // bytes, for a Uint8Array and a Uint8ArrayList alike
    if (n > this.layout.maxBody) this.tooLong(n)
    return (this.fixedHeader > 0 ? this.fixedHeader : headerLength(this.layout, n)) + n
  }

  /**
   * Encodes frames already checked (`size` is the sum of their `check()` results) as one chunk: one
   * buffer, or a `Uint8ArrayList` when `large` says some body goes by reference.
   */
  pack (frames: ListFrame[], size: number, large: boolean): Uint8Array | Uint8ArrayList {
    if (!large) return this.packSmall(frames, 0, frames.length, size)
    const out = new Uint8ArrayList()
    let start = 0
    let runSize = 0
    for (let i = 0; i < frames.length; i++) {
      const body = frames[i].body
      const n = body.length
      if (n < ZERO_COPY_THRESHOLD) {
        runSize += headerLength(this.layout, n) + n
        continue
      }
      if (i > start) out.append(this.packSmall(frames, start, i, runSize))
      out.append(this.header(frames[i].type, n), body)
      start = i + 1
      runSize = 0
    }
    if (frames.length > start) out.append(this.packSmall(frames, start, frames.length, runSize))
    return out
  }

  /** Encodes one frame checked as `size` bytes whose body goes by reference: header and body as one list. */
  packLarge (frame: ListFrame, size: number): Uint8ArrayList {
    const n = frame.body.length
    return new Uint8ArrayList(this.header(frame.type, n, size - n), frame.body)
  }

  private header (type: number, n: number, length = headerLength(this.layout, n)): Uint8Array {
    const header = new Uint8Array(length)
    writeHeader(this.layout, header, 0, type, n)
    return header
  }

  /** Writes `frames[from, to)`, `size` bytes in all, into one new buffer. */
  private packSmall (frames: ListFrame[], from: number, to: number, size: number): Uint8Array {
    const out = allocChunk(size)
    let off = 0
    const fast = this.fastHeader
    for (let i = from; i < to; i++) {
      const f = frames[i]
      const body = f.body
      const n = body.length
      if (fast > 0) {
        // the default layouts without the generic header writer: [u32be length][u8 type]
        off = writeUint32(out, off, n)
        if (fast === 5) out[off++] = f.type
      } else {
        off = writeHeader(this.layout, out, off, f.type, n)
      }
      if (body instanceof Uint8Array) {
        out.set(body, off)
        off += n
      } else {
        off = writeList(out, off, body)
      }
    }
    return out
  }

  private invalidType (type: number): never {
    if (this.layout.typeAt === 0 && (type & 0xFF) === type) {
      throw new InvalidFrameError(`This format has no type byte, so only DATA (0) frames can be sent; got type ${type}`)
    }
    throw new InvalidFrameError(`Frame type must be a whole number from 0 to 255; got ${type}`)
  }

  private invalidBody (body: unknown): never {
    const got = body == null ? String(body) : typeof body === 'object' ? (body.constructor?.name ?? 'an object') : typeof body
    throw new InvalidFrameError(`A frame body must be a Uint8Array (a Buffer is one) or a Uint8ArrayList; got ${got}`)
  }

  private tooLong (n: number): never {
    throw new FrameTooLongError(n, this.layout.maxFrameLength, n > this.layout.maxFrameLength
      ? undefined
      : `Frame body of ${n} bytes does not fit the ${this.layout.width}-byte length field (at most ${this.layout.maxBody})`)
  }
}
