import { Uint8ArrayList } from 'uint8arraylist'
import { ZERO_COPY_THRESHOLD } from './constants.js'
import { FrameTooLongError, InvalidFrameError } from './errors.js'
import type { Layout } from './format.js'
import { headerLength } from './format.js'
import type { Frame } from './frame.js'
import { writeHeader } from './header.js'

/** Small encoded frames are carved out of slabs of this size instead of one allocation each. */
const SLAB_BYTES = 64 * 1024
/** Frames up to this size come from the slab; larger ones get their own buffer. */
const SLAB_MAX_FRAME = 4 * 1024

/**
 * A typed array over 64 bytes lives outside V8's heap and costs a separate allocation (about 1 µs);
 * carving small frames out of a slab costs one view instead. One slab serves every encoder in the process
 * (so an idle connection holds none), and no byte of it is written twice: once full it is left to the
 * chunks that view it and a new one is started.
 */
let slab = new Uint8Array(0)
let slabOffset = 0

function alloc (size: number): Uint8Array {
  if (size > SLAB_MAX_FRAME) return new Uint8Array(size)
  if (slab.byteLength - slabOffset < size) {
    slab = new Uint8Array(SLAB_BYTES)
    slabOffset = 0
  }
  const out = slab.subarray(slabOffset, slabOffset + size)
  slabOffset += size
  return out
}

/** Turns frames into bytes: one chunk per frame, or one chunk per batch of frames. */
export class FrameEncoder {
  private readonly layout: Layout

  constructor (layout: Layout) {
    this.layout = layout
  }

  /** Throws a typed error if `frame` cannot be sent in this format; returns its encoded size. */
  check (frame: Frame): number {
    const type = frame.type
    if ((type & 0xFF) !== type) throw new InvalidFrameError(`Frame type must be a whole number from 0 to 255; got ${type}`)
    if (this.layout.typeAt === 0 && type !== 0) {
      throw new InvalidFrameError(`This format has no type byte, so only DATA (0) frames can be sent; got type ${type}`)
    }
    const n = frame.body.byteLength
    if (n > this.layout.maxBody) {
      throw new FrameTooLongError(n, this.layout.maxFrameLength, n > this.layout.maxFrameLength
        ? undefined
        : `Frame body of ${n} bytes does not fit the ${this.layout.width}-byte length field (at most ${this.layout.maxBody})`)
    }
    return headerLength(this.layout, n) + n
  }

  /**
   * Encodes one frame as one chunk. Small bodies are copied behind the header into one buffer; large ones
   * travel as a two-part `Uint8ArrayList` (header, body) that the transport writes in one go.
   */
  encode (frame: Frame): Uint8Array | Uint8ArrayList {
    const size = this.check(frame)
    const body = frame.body
    if (body.byteLength >= ZERO_COPY_THRESHOLD) {
      const header = new Uint8Array(size - body.byteLength)
      writeHeader(this.layout, header, 0, frame.type, body.byteLength)
      return new Uint8ArrayList(header, body)
    }
    const out = alloc(size)
    const off = writeHeader(this.layout, out, 0, frame.type, body.byteLength)
    out.set(body, off)
    return out
  }

  /**
   * Encodes a batch as one chunk: small frames packed together, large bodies uncopied between them (a
   * `Uint8ArrayList` when there are any). Checks every frame before encoding any.
   */
  encodeMany (frames: Frame[]): Uint8Array | Uint8ArrayList {
    if (frames.length === 1) return this.encode(frames[0])
    let size = 0
    let large = false
    for (const f of frames) {
      size += this.check(f)
      if (f.body.byteLength >= ZERO_COPY_THRESHOLD) large = true
    }
    if (!large) return this.encodeBatch(frames, size)
    const out = new Uint8ArrayList()
    let run: Frame[] = []
    let runSize = 0
    for (const f of frames) {
      if (f.body.byteLength < ZERO_COPY_THRESHOLD) {
        run.push(f)
        runSize += headerLength(this.layout, f.body.byteLength) + f.body.byteLength
        continue
      }
      if (run.length > 0) out.append(this.encodeBatch(run, runSize))
      run = []
      runSize = 0
      out.append(this.encode(f))
    }
    if (run.length > 0) out.append(this.encodeBatch(run, runSize))
    return out
  }

  /** Encodes several frames into one buffer of `size` bytes (the sum of `check()` results). */
  encodeBatch (frames: Frame[], size: number): Uint8Array {
    const out = new Uint8Array(size)
    let off = 0
    for (const f of frames) {
      off = writeHeader(this.layout, out, off, f.type, f.body.byteLength)
      out.set(f.body, off)
      off += f.body.byteLength
    }
    return out
  }
}
