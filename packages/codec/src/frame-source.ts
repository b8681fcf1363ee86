import type { BatchIterator, ByteChunk } from '@proto/interface'
import { DONE, isBatchIterator, RESOLVED_DONE, toError } from '@proto/interface'
import type { FrameDecoder } from './decoder.js'
import type { Frame, ListFrame } from './frame.js'

/**
 * The decoded side of a byte stream: an async iterable of frames that also hands out whole batches
 * (`nextBatch()`, the batch contract of `@proto/interface`). `next()` and `nextBatch()` give the same frames
 * in the same order and may be mixed; a decoding error comes after every frame decoded before it.
 */
export interface FrameSource<F extends ListFrame = Frame> extends AsyncIterableIterator<F>, BatchIterator<F> {
  /**
   * Resolves with every frame decoded that `next()` has not returned yet, or, when there are none, with
   * the frames of the next chunk that completes any; `undefined` once the stream has ended. Never an
   * empty array.
   */
  nextBatch(): Promise<F[] | undefined>
  /** Stops reading: the lower source is told to return; frames not handed out yet are dropped. */
  return(): Promise<IteratorResult<F>>
}

type Settle<R> = (read: unknown) => R | Promise<R>

const RESOLVED_END: Promise<undefined> = Promise.resolve(undefined)

function stop (lower: AsyncIterator<ByteChunk>): void {
  try {
    const r = lower.return?.()
    if (r != null) r.then(undefined, () => {})
  } catch {}
}

/**
 * Pulls chunks from `lower`, decodes them, and serves the frames one by one or in batches. No async
 * function runs per chunk: a read is the lower `next()` (or `nextBatch()`, when the lower source offers it)
 * with a callback made once per source, and frames already decoded are served with resolved promises.
 */
export class DecodingSource<F extends ListFrame = Frame> implements FrameSource<F> {
  private batch: F[] = []
  private index = 0
  /** No chunk will be read again: the lower source ended or failed, or it was stopped. */
  private finished = false
  /** A decoding error, delivered once the frames decoded before it have been handed out. */
  private failure: Error | undefined
  /** The read in progress: a call made meanwhile waits for it, so frames go out in call order. */
  private reading: Promise<unknown> | undefined
  private readonly lowerBatch: boolean

  constructor (
    private readonly lower: AsyncIterator<ByteChunk>,
    private readonly decoder: FrameDecoder<F>,
    private readonly onError?: (err: Error) => void
  ) {
    this.lowerBatch = isBatchIterator(lower)
  }

  [Symbol.asyncIterator] (): this {
    return this
  }

  next (): Promise<IteratorResult<F>> {
    if (this.index < this.batch.length) return Promise.resolve({ done: false, value: this.batch[this.index++] })
    if (this.reading !== undefined) return this.reading.then(this.retryNext, this.retryNext)
    return this.read(this.forNext, RESOLVED_DONE)
  }

  nextBatch (): Promise<F[] | undefined> {
    if (this.index < this.batch.length) return Promise.resolve(this.takeBatch())
    if (this.reading !== undefined) return this.reading.then(this.retryBatch, this.retryBatch)
    return this.read(this.forBatch, RESOLVED_END)
  }

  return (): Promise<IteratorResult<F>> {
    this.batch = []
    this.index = 0
    this.failure = undefined
    if (this.finished) return RESOLVED_DONE
    this.finished = true
    if (this.reading !== undefined) {
      // a read is in flight: the lower source's return waits for it, so it is only requested
      stop(this.lower)
      return RESOLVED_DONE
    }
    try {
      return Promise.resolve(this.lower.return?.()).then(() => DONE)
    } catch (err) {
      return Promise.reject(toError(err))
    }
  }

  throw (err?: unknown): Promise<IteratorResult<F>> {
    return this.return().then(() => { throw err })
  }

  private readonly retryNext = (): Promise<IteratorResult<F>> => this.next()
  private readonly retryBatch = (): Promise<F[] | undefined> => this.nextBatch()

  private readonly forNext: Settle<IteratorResult<F>> = (read) => {
    this.reading = undefined
    return this.decodeRead(read) ? { done: false, value: this.batch[this.index++] } : this.read(this.forNext, RESOLVED_DONE)
  }

  private readonly forBatch: Settle<F[] | undefined> = (read) => {
    this.reading = undefined
    return this.decodeRead(read) ? this.takeBatch() : this.read(this.forBatch, RESOLVED_END)
  }

  private readonly onLowerError = (err: unknown): never => {
    this.reading = undefined
    this.finished = true
    throw err
  }

  /**
   * Reads from below until a frame is ready: `settle` turns what was read into the caller's result, `end`
   * is the result once nothing more will come.
   */
  private read<R> (settle: Settle<R>, end: Promise<R>): Promise<R> {
    const failure = this.failure
    if (failure !== undefined) {
      this.failure = undefined
      // only now, once every frame decoded before the error has been handed out
      this.onError?.(failure)
      return Promise.reject(failure)
    }
    if (this.finished) return end
    const pending = (this.lowerBatch ? (this.lower as BatchIterator<ByteChunk>).nextBatch() : this.lower.next()).then(settle, this.onLowerError)
    this.reading = pending
    return pending
  }

  /** Decodes what a read brought (a chunk, a batch of chunks, or the end); true when frames are ready. */
  private decodeRead (read: unknown): boolean {
    if (this.batch.length > 0) this.batch = []
    this.index = 0
    if (this.finished) return false
    if (this.lowerBatch) {
      const chunks = read as ByteChunk[] | undefined
      if (chunks === undefined) this.decode(undefined)
      else for (let i = 0; i < chunks.length && this.failure === undefined; i++) this.decode(chunks[i])
    } else {
      const r = read as IteratorResult<ByteChunk>
      this.decode(r.done === true ? undefined : r.value)
    }
    return this.batch.length > 0
  }

  /** Decodes one chunk (or the end, for `undefined`) into `batch`, holding an error back until the batch is served. */
  private decode (chunk: ByteChunk | undefined): void {
    try {
      if (chunk === undefined) {
        this.finished = true
        this.decoder.end()
      } else {
        this.decoder.push(chunk, this.batch)
      }
    } catch (err) {
      this.failure = toError(err)
      if (!this.finished) {
        this.finished = true
        stop(this.lower)
      }
    }
  }

  private takeBatch (): F[] {
    const out = this.index === 0 ? this.batch : this.batch.slice(this.index)
    this.batch = []
    this.index = 0
    return out
  }
}
