import type { ByteChunk } from '@proto/interface'
import { TruncatedFrameError } from './errors.js'
import type { Layout } from './format.js'
import type { Frame } from './frame.js'
import type { ParsedHeader } from './header.js'
import { readHeader } from './header.js'

/**
 * Turns a byte stream, pushed one chunk at a time in any split, into frames. Frames that lie inside one
 * chunk are views into it; a frame spread over chunks is copied once, when its last byte arrives. Nothing
 * is allocated for a frame until its bytes are here, so a header that announces a huge body costs nothing.
 */
export class FrameDecoder {
  private readonly layout: Layout
  private readonly header: ParsedHeader = { type: 0, bodyLength: 0 }
  /** Bytes of a header split across chunks. */
  private readonly headerBuf: Uint8Array
  private headerFill = 0
  /** Pieces of a body split across chunks; `bodyNeed` more bytes are missing. */
  private parts: Uint8Array[] = []
  private bodyType = 0
  private bodyLength = 0
  private bodyNeed = 0
  private inBody = false

  /** Header size when the layout is `u32be` length counting the body, type after it or none; else 0. */
  private readonly fastHeader: number

  constructor (layout: Layout) {
    this.layout = layout
    this.headerBuf = new Uint8Array(layout.maxHeader)
    const simple = layout.width === 4 && !layout.littleEndian && layout.adjust === 0 && layout.typeAt !== 1
    this.fastHeader = simple ? 4 + (layout.typeAt === 2 ? 1 : 0) : 0
  }

  /** Whether a frame has begun but not yet completed. */
  get midFrame (): boolean {
    return this.inBody || this.headerFill > 0
  }

  /** Decodes what `chunk` completes and appends those frames to `out`. Throws a typed error on bad input. */
  push (chunk: ByteChunk, out: Frame[]): void {
    if (chunk instanceof Uint8Array) {
      this.pushBytes(chunk, out)
    } else {
      for (const buf of chunk) this.pushBytes(buf, out)
    }
  }

  /** Declares the end of the stream; throws `TruncatedFrameError` if it ended inside a frame. */
  end (): void {
    if (this.inBody) throw new TruncatedFrameError(this.bodyLength - this.bodyNeed, this.bodyLength)
    if (this.headerFill > 0) throw new TruncatedFrameError(this.headerFill, undefined)
  }

  private pushBytes (chunk: Uint8Array, out: Frame[]): void {
    const end = chunk.byteLength
    let off = 0
    if (this.inBody) {
      off = this.continueBody(chunk, out)
      if (off === end) return
    }
    if (this.headerFill > 0) {
      off = this.continueHeader(chunk, off, out)
      if (off === end) return
    }
    const layout = this.layout
    const header = this.header
    if (this.fastHeader > 0) off = this.pushFast(chunk, off, out)
    while (off < end) {
      const h = readHeader(layout, chunk, off, end, header)
      if (h < 0) {
        this.headerBuf.set(chunk.subarray(off, end))
        this.headerFill = end - off
        return
      }
      off = this.startBody(chunk, off + h, out)
    }
  }

  /**
   * The common case of the default layouts (`u32be` body length, type byte after it or none): frames whose
   * header and body both lie in `chunk` are cut out in a tight loop. Returns where the generic path takes over.
   */
  private pushFast (chunk: Uint8Array, off: number, out: Frame[]): number {
    const end = chunk.byteLength
    const hdr = this.fastHeader
    const typed = hdr === 5
    const max = this.layout.maxBody
    while (end - off >= hdr) {
      const n = ((chunk[off] << 24) | (chunk[off + 1] << 16) | (chunk[off + 2] << 8) | chunk[off + 3]) >>> 0
      const start = off + hdr
      if (n > max || end - start < n) break
      out.push({ type: typed ? chunk[off + 4] : 0, body: chunk.subarray(start, start + n) })
      off = start + n
    }
    return off
  }

  /** After a header: emits the frame if its body is in `chunk`, else starts collecting. Returns the new offset. */
  private startBody (chunk: Uint8Array, off: number, out: Frame[]): number {
    const n = this.header.bodyLength
    const end = chunk.byteLength
    if (end - off >= n) {
      out.push({ type: this.header.type, body: chunk.subarray(off, off + n) })
      return off + n
    }
    this.inBody = true
    this.bodyType = this.header.type
    this.bodyLength = n
    this.bodyNeed = n - (end - off)
    if (end > off) this.parts.push(chunk.subarray(off))
    return end
  }

  private continueBody (chunk: Uint8Array, out: Frame[]): number {
    const take = Math.min(this.bodyNeed, chunk.byteLength)
    const piece = take === chunk.byteLength ? chunk : chunk.subarray(0, take)
    this.bodyNeed -= take
    if (this.bodyNeed === 0 && this.parts.length === 0) {
      // the whole body is in this chunk (e.g. a header+body list): no copy
      out.push({ type: this.bodyType, body: piece })
      this.inBody = false
      return take
    }
    this.parts.push(piece)
    if (this.bodyNeed === 0) {
      out.push({ type: this.bodyType, body: concat(this.parts, this.bodyLength) })
      this.parts = []
      this.inBody = false
    }
    return take
  }

  /** Completes a header split across chunks, one byte at a time (a header is at most 9 bytes). */
  private continueHeader (chunk: Uint8Array, off: number, out: Frame[]): number {
    const end = chunk.byteLength
    while (off < end) {
      this.headerBuf[this.headerFill++] = chunk[off++]
      const h = readHeader(this.layout, this.headerBuf, 0, this.headerFill, this.header)
      if (h >= 0) {
        this.headerFill = 0
        return this.startBody(chunk, off, out)
      }
    }
    return off
  }
}

/**
 * Allocates `length` bytes that are about to be overwritten in full. Where Node's `Buffer` is available
 * the memory is not zero-filled first (every byte is written by `concat` before anyone sees it).
 */
const allocFilledLater: (length: number) => Uint8Array = typeof globalThis.Buffer?.allocUnsafeSlow === 'function'
  ? length => new Uint8Array(globalThis.Buffer.allocUnsafeSlow(length).buffer, 0, length)
  : length => new Uint8Array(length)

function concat (parts: Uint8Array[], length: number): Uint8Array {
  const out = allocFilledLater(length)
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.byteLength
  }
  return out
}
