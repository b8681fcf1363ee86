import type { ByteChunk } from '@proto/interface'
import type { FrameDecoder } from './decoder.js'
import type { Frame } from './frame.js'

/**
 * The decoded side of a byte stream: an async iterable of frames that also hands out whole batches.
 * Frames decoded from one chunk are served from memory with already-resolved promises, so iterating
 * costs one microtask per frame rather than an async-generator round trip.
 */
export interface FrameSource extends AsyncIterableIterator<Frame> {
  /**
   * Resolves with every frame decoded so far that `next()` has not returned yet, or with the frames of
   * the next chunk that completes any; `undefined` once the stream has ended. For stages that pass batches
   * between themselves; mixing it with `next()` is allowed.
   */
  nextBatch(): Promise<Frame[] | undefined>
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

/** Pulls chunks from `chunks`, decodes them, and serves the frames one by one or in batches. */
export class DecodingSource implements FrameSource {
  private batch: Frame[] = []
  private index = 0
  private finished = false
  /** An error found while decoding, delivered after the frames decoded before it. */
  private failure: { error: unknown } | undefined

  constructor (
    private readonly chunks: AsyncIterator<ByteChunk> | Iterator<ByteChunk>,
    private readonly decoder: FrameDecoder,
    private readonly onError?: (err: Error) => void
  ) {}

  [Symbol.asyncIterator] (): this {
    return this
  }

  next (): Promise<IteratorResult<Frame>> {
    if (this.index < this.batch.length) {
      return Promise.resolve({ done: false, value: this.batch[this.index++] })
    }
    return this.fill().then(more => more ? { done: false, value: this.batch[this.index++] } : DONE)
  }

  async nextBatch (): Promise<Frame[] | undefined> {
    if (this.index >= this.batch.length && !(await this.fill())) return undefined
    const out = this.index === 0 ? this.batch : this.batch.slice(this.index)
    this.batch = []
    this.index = 0
    return out
  }

  async return (): Promise<IteratorResult<Frame>> {
    if (!this.finished) {
      this.finished = true
      this.batch = []
      this.index = 0
      await this.chunks.return?.()
    }
    return DONE
  }

  async throw (err?: unknown): Promise<IteratorResult<Frame>> {
    await this.return()
    throw err
  }

  /** Reads chunks until at least one frame is decoded (true) or the stream is over (false). */
  private async fill (): Promise<boolean> {
    this.batch = []
    this.index = 0
    for (;;) {
      if (this.failure != null) {
        const { error } = this.failure
        this.failure = undefined
        this.finished = true
        // only now, once every frame decoded before the error has been handed out
        this.onError?.(error as Error)
        throw error
      }
      if (this.finished) return false
      const result = await this.chunks.next()
      if (result.done === true) {
        this.finished = true
        this.decode(null)
      } else {
        this.decode(result.value)
      }
      if (this.batch.length > 0) return true
    }
  }

  /** Decodes one chunk (or the end, for `null`) into `batch`, holding any error back until the batch is served. */
  private decode (chunk: ByteChunk | null): void {
    try {
      if (chunk == null) this.decoder.end()
      else this.decoder.push(chunk, this.batch)
    } catch (err) {
      this.failure = { error: err }
      this.finished = true
      if (chunk != null) void Promise.resolve(this.chunks.return?.()).catch(() => {})
    }
  }
}
