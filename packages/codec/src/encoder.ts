import { Uint8ArrayList } from 'uint8arraylist'
import { ZERO_COPY_THRESHOLD } from './constants.js'
import { FrameTooLongError, InvalidFrameError } from './errors.js'
import { headerLength } from './format.js'
import { writeHeader } from './header.js'
import type { Frame } from './frame.js'
import type { Layout } from './format.js'

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
    const out = new Uint8Array(size)
    const off = writeHeader(this.layout, out, 0, frame.type, body.byteLength)
    out.set(body, off)
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
