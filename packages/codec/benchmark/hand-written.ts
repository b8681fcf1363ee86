/**
 * The baseline for large bodies: a decoder for `[u32be length][u8 type][body]` written by hand for this
 * one format, as a careful application would. It allocates each body when its header arrives
 * (`Buffer.allocUnsafe`, after the length check), copies every piece straight into it, and hands frames to
 * a callback: one copy, no per-frame promise. It is driven like @proto is: from the same async generator
 * of chunks with `for await`, or from the array of chunks in a plain loop (the decoding work alone).
 */
import type { ByteChunk } from '@proto/interface'
import type { Run } from './workloads.js'
import { deliverFresh, now } from './workloads.js'

const HEADER = 5

class HandDecoder {
  msgs = 0
  bytes = 0
  private readonly header = new Uint8Array(HEADER)
  private headerFill = 0
  private body: Uint8Array | undefined
  private bodyFill = 0

  constructor (private readonly maxFrameLength: number) {}

  push (buf: Uint8Array): void {
    let off = 0
    while (off < buf.byteLength) {
      const body = this.body
      if (body !== undefined) {
        const take = Math.min(body.byteLength - this.bodyFill, buf.byteLength - off)
        body.set(take === buf.byteLength ? buf : buf.subarray(off, off + take), this.bodyFill)
        this.bodyFill += take
        off += take
        if (this.bodyFill === body.byteLength) {
          this.onFrame(this.header[4], body)
          this.body = undefined
        }
        continue
      }
      this.header[this.headerFill++] = buf[off++]
      if (this.headerFill < HEADER) continue
      this.headerFill = 0
      const h = this.header
      const length = ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0
      if (length > this.maxFrameLength) throw new Error(`frame of ${length} bytes is too long`)
      if (buf.byteLength - off >= length) {
        this.onFrame(h[4], buf.subarray(off, off + length))
        off += length
      } else {
        this.body = Buffer.allocUnsafe(length)
        this.bodyFill = 0
      }
    }
  }

  private onFrame (_type: number, body: Uint8Array): void {
    this.msgs++
    this.bytes += body.byteLength
  }
}

const toBytes = (chunk: ByteChunk): Uint8Array => chunk instanceof Uint8Array ? chunk : chunk.subarray()

/** Decodes chunks delivered by an async generator (each in a new buffer), one `for await` step per chunk. */
export async function decodeByHand (pieces: ByteChunk[], maxFrameLength = 16 << 20): Promise<Run> {
  const t = now()
  const d = new HandDecoder(maxFrameLength)
  for await (const chunk of deliverFresh(pieces)) d.push(toBytes(chunk))
  return { msgs: d.msgs, bytes: d.bytes, seconds: now() - t }
}

/** Decodes the chunks in a plain loop: the decoding work without any async delivery. */
export function decodeByHandSync (pieces: ByteChunk[], maxFrameLength = 16 << 20): Run {
  const t = now()
  const d = new HandDecoder(maxFrameLength)
  for (let i = 0; i < pieces.length; i++) d.push(toBytes(pieces[i]))
  return { msgs: d.msgs, bytes: d.bytes, seconds: now() - t }
}
