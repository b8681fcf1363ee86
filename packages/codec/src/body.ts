import { Uint8ArrayList } from 'uint8arraylist'
import { allocFilledLater } from './alloc.js'
import { BODY_EAGER_BYTES, BODY_GROWTH_LIMIT, LIST_BLOCK_BYTES, LIST_VIEW_MIN } from './constants.js'

/** A body that spans reads, filled piece by piece as they arrive. */
export interface PendingBody {
  /** Bytes still to come. */
  readonly missing: number
  /** Takes the next piece (at most `missing` bytes). */
  add(piece: Uint8Array): void
  /** The whole body, once `missing` is 0. */
  finish(): Uint8Array | Uint8ArrayList
}

/**
 * Copies every piece straight into one buffer, so a completed body needs no second copy. The buffer is
 * bounded by what has arrived: at most `BODY_EAGER_BYTES` for the first piece, and never more than
 * `BODY_GROWTH_LIMIT` times the bytes received after that (it doubles, then takes the full length once
 * that is within the limit), so a header announcing a huge body costs nothing until its bytes arrive.
 */
export class CopiedBody implements PendingBody {
  missing: number
  private buf: Uint8Array
  private filled = 0

  constructor (private readonly length: number) {
    this.missing = length
    this.buf = allocFilledLater(Math.min(length, BODY_EAGER_BYTES))
  }

  add (piece: Uint8Array): void {
    const need = this.filled + piece.length
    if (need > this.buf.length) this.grow(need)
    this.buf.set(piece, this.filled)
    this.filled = need
    this.missing -= piece.length
  }

  finish (): Uint8Array {
    return this.buf
  }

  private grow (need: number): void {
    const length = this.length
    const size = need * BODY_GROWTH_LIMIT >= length ? length : Math.max(need, 2 * this.buf.length)
    const next = allocFilledLater(size)
    next.set(this.buf.subarray(0, this.filled))
    this.buf = next
  }
}

/**
 * Keeps the pieces of a body as a `Uint8ArrayList`, without copying them: pieces of at least
 * `LIST_VIEW_MIN` bytes stay views of the chunks they came in; shorter ones are copied into a block of up
 * to `LIST_BLOCK_BYTES` (sized to what is still missing), and each run of them becomes one view of it.
 * Memory held stays close to the bytes received, however the body is split.
 */
export class ListBody implements PendingBody {
  missing: number
  private readonly parts: Uint8Array[] = []
  private block: Uint8Array | undefined
  private blockFill = 0
  /** Where the run of short pieces being copied into `block` began. */
  private runStart = 0

  constructor (length: number) {
    this.missing = length
  }

  add (piece: Uint8Array): void {
    const n = piece.length
    if (n >= LIST_VIEW_MIN) {
      this.endRun()
      this.parts.push(piece)
      this.missing -= n
      return
    }
    let off = 0
    while (off < n) {
      let block = this.block
      if (block === undefined || this.blockFill === block.length) {
        this.endRun()
        block = this.block = allocFilledLater(Math.min(this.missing, LIST_BLOCK_BYTES))
        this.blockFill = this.runStart = 0
      }
      const take = Math.min(n - off, block.length - this.blockFill)
      block.set(off === 0 && take === n ? piece : piece.subarray(off, off + take), this.blockFill)
      this.blockFill += take
      this.missing -= take
      off += take
    }
  }

  finish (): Uint8Array | Uint8ArrayList {
    this.endRun()
    if (this.parts.length === 1) return this.parts[0]
    const list = new Uint8ArrayList()
    for (const part of this.parts) list.append(part)
    return list
  }

  /** Closes the run of short pieces copied so far as one part; the block's free space serves the next run. */
  private endRun (): void {
    const block = this.block
    if (block !== undefined && this.blockFill > this.runStart) {
      this.parts.push(block.subarray(this.runStart, this.blockFill))
      this.runStart = this.blockFill
    }
  }
}
