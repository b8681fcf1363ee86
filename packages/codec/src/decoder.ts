import type { ByteChunk } from '@proto/interface'
import { readUint32 } from '@proto/interface'
import type { PendingBody } from './body.js'
import { CopiedBody, ListBody } from './body.js'
import { TruncatedFrameError } from './errors.js'
import type { Layout } from './format.js'
import type { Frame, ListFrame } from './frame.js'
import type { ParsedHeader } from './header.js'
import { readHeader } from './header.js'

/**
 * Where `readHeader` puts what it parsed. One for every decoder: it is read at once, within the same
 * synchronous `push()`, and never across calls.
 */
const HEADER: ParsedHeader = { type: 0, bodyLength: 0 }

/**
 * Turns a byte stream, pushed one chunk at a time in any split, into frames. A frame that lies inside one
 * chunk is a view into it. A body that spans chunks is copied piece by piece, as each arrives, into a
 * buffer of its own (`CopiedBody`: the completed body needs no second copy), or kept as a list of its
 * pieces with `bodyList` (`ListBody`). Nothing is allocated for a body before its first bytes arrive, and
 * what is allocated stays bounded by what has arrived (see `CopiedBody`).
 *
 * `F` is `Frame` unless the decoder was made with `bodyList`, when bodies may be `Uint8ArrayList`s.
 */
export class FrameDecoder<F extends ListFrame = Frame> {
  /** Bytes of a header split across chunks; made the first time one is (most connections never need it). */
  private headerBuf: Uint8Array | undefined
  private headerFill = 0
  /** A header was read and its body is not complete yet. */
  private inBody = false
  private bodyType = 0
  private bodyLength = 0
  /** The body being filled, once its first bytes arrived (in a chunk that did not complete it). */
  private pending: PendingBody | undefined
  /** Header size when the layout is `u32be` length counting the body, type after it or none; else 0. */
  private readonly fastHeader: number

  constructor (private readonly layout: Layout, private readonly bodyList = false) {
    const simple = layout.width === 4 && !layout.littleEndian && layout.adjust === 0 && layout.typeAt !== 1
    this.fastHeader = simple ? 4 + (layout.typeAt === 2 ? 1 : 0) : 0
  }

  /** Whether a frame has begun but not yet completed. */
  get midFrame (): boolean {
    return this.inBody || this.headerFill > 0
  }

  /**
   * How far the frame in progress has come: grows with every byte of it that arrives (its header's, then
   * its body's), `0` between frames. Only its growth means anything.
   */
  get frameProgress (): number {
    return this.inBody ? this.layout.maxHeader + 1 + this.bodyLength - (this.pending?.missing ?? this.bodyLength) : this.headerFill
  }

  /** Decodes what `chunk` completes and appends those frames to `out`. Throws a typed error on bad input. */
  push (chunk: ByteChunk, out: F[]): void {
    if (chunk instanceof Uint8Array) {
      this.pushBytes(chunk, out)
    } else {
      for (const buf of chunk) this.pushBytes(buf, out)
    }
  }

  /**
   * Declares the end of the stream; throws `TruncatedFrameError` if it ended inside a frame. What a frame
   * in progress had received is let go either way.
   */
  end (): void {
    const truncated = this.inBody
      ? new TruncatedFrameError(this.bodyLength - (this.pending?.missing ?? this.bodyLength), this.bodyLength)
      : this.headerFill > 0 ? new TruncatedFrameError(this.headerFill, undefined) : undefined
    this.release()
    if (truncated !== undefined) throw truncated
  }

  /**
   * Lets go of a frame in progress (a body that spans reads may hold up to its full length): the stream
   * ended or failed, and nothing more will be decoded. Whoever still holds the decoder (a closed
   * connection kept by the application, through its stages) holds no body.
   */
  release (): void {
    this.pending = undefined
    this.headerBuf = undefined
    this.inBody = false
    this.headerFill = 0
  }

  private pushBytes (chunk: Uint8Array, out: F[]): void {
    const end = chunk.length
    let off = 0
    if (this.inBody) {
      off = this.continueBody(chunk, out)
      if (off === end) return
    }
    if (this.headerFill > 0) {
      off = this.continueHeader(chunk, off, out)
      if (off === end) return
    }
    if (this.fastHeader > 0) off = this.pushFast(chunk, off, out)
    while (off < end) {
      const h = readHeader(this.layout, chunk, off, end, HEADER)
      if (h < 0) {
        (this.headerBuf ??= new Uint8Array(this.layout.maxHeader)).set(chunk.subarray(off, end))
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
  private pushFast (chunk: Uint8Array, off: number, out: F[]): number {
    const end = chunk.length
    const hdr = this.fastHeader
    const typed = hdr === 5
    const max = this.layout.maxBody
    // read once: each read of a view's buffer or byteOffset is a call of its own on Node 20 (bench/FINDINGS.md)
    const buffer = chunk.buffer
    const base = chunk.byteOffset
    while (end - off >= hdr) {
      const n = readUint32(chunk, off)
      const start = off + hdr
      if (n > max || end - start < n) break
      out.push({ type: typed ? chunk[off + 4] : 0, body: new Uint8Array(buffer, base + start, n) } as F)
      off = start + n
    }
    return off
  }

  /** After a header: emits the frame if its body is in `chunk`, else starts the body. Returns the new offset. */
  private startBody (chunk: Uint8Array, off: number, out: F[]): number {
    const n = HEADER.bodyLength
    const end = chunk.length
    if (end - off >= n) {
      out.push({ type: HEADER.type, body: new Uint8Array(chunk.buffer, chunk.byteOffset + off, n) } as F)
      return off + n
    }
    this.inBody = true
    this.bodyType = HEADER.type
    this.bodyLength = n
    if (end > off) this.startPending().add(chunk.subarray(off))
    return end
  }

  private startPending (): PendingBody {
    const body = this.bodyList ? new ListBody(this.bodyLength) : new CopiedBody(this.bodyLength)
    this.pending = body
    return body
  }

  private continueBody (chunk: Uint8Array, out: F[]): number {
    const pending = this.pending
    const missing = pending?.missing ?? this.bodyLength
    const take = Math.min(missing, chunk.length)
    if (pending === undefined && take === missing) {
      // the whole body follows its header in this chunk (e.g. a header+body list): no copy
      out.push({ type: this.bodyType, body: new Uint8Array(chunk.buffer, chunk.byteOffset, take) } as F)
      this.inBody = false
      return take
    }
    const body = pending ?? this.startPending()
    body.add(take === chunk.length ? chunk : chunk.subarray(0, take))
    if (body.missing === 0) {
      out.push({ type: this.bodyType, body: body.finish() } as F)
      this.pending = undefined
      this.inBody = false
    }
    return take
  }

  /** Completes a header split across chunks, one byte at a time (a header is at most 9 bytes). */
  private continueHeader (chunk: Uint8Array, off: number, out: F[]): number {
    const end = chunk.length
    const buf = this.headerBuf as Uint8Array // made when the header began
    while (off < end) {
      buf[this.headerFill++] = chunk[off++]
      const h = readHeader(this.layout, buf, 0, this.headerFill, HEADER)
      if (h >= 0) {
        this.headerFill = 0
        return this.startBody(chunk, off, out)
      }
    }
    return off
  }
}
