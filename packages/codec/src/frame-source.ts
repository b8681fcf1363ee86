import type { BatchIterator, ByteChunk, PushSource, PushTarget } from '@proto/interface'
import { DONE, isBatchIterator, RESOLVED_DONE, toError } from '@proto/interface'
import { NO_FRAMES } from './constants.js'
import type { FrameDecoder } from './decoder.js'
import type { Frame, ListFrame } from './frame.js'
import type { DecodeFailureOwner } from './push-decode.js'
import { PushDecoding } from './push-decode.js'

/**
 * The decoded side of a byte stream: an async iterable of frames that also hands out whole batches
 * (`nextBatch()`, the batch contract of `@proto/interface`). `next()` and `nextBatch()` give the same frames
 * in the same order and may be mixed; a decoding error comes after every frame decoded before it.
 */
export interface FrameSource<F extends ListFrame = Frame> extends AsyncIterableIterator<F>, BatchIterator<F>, PushSource<F> {
  /**
   * Resolves with every frame decoded that `next()` has not returned yet, or, when there are none, with
   * the frames of the next chunk that completes any; `undefined` once the stream has ended. Never an
   * empty array.
   */
  nextBatch(): Promise<F[] | undefined>
  /** Stops reading: the lower source is told to return; frames not handed out yet are dropped. */
  return(): Promise<IteratorResult<F>>
  /**
   * Push mode, for the stage above: every frame goes to `target` as soon as the chunk that completes it is
   * decoded, one batch per read, and the end or the decoding error after them (see `PushSource`). Instead
   * of `next()`/`nextBatch()`, not after them.
   */
  subscribe(target: PushTarget<F>): void
}

const RESOLVED_END: Promise<undefined> = Promise.resolve(undefined)

function stop (lower: AsyncIterator<ByteChunk>): void {
  try {
    const r = lower.return?.()
    if (r != null) r.then(undefined, () => {})
  } catch {}
}

/**
 * Pulls chunks from `lower`, decodes them, and serves the frames one by one or in batches. No async
 * function runs per chunk (see {@link PullDecoding}). The pull state is made at the first `next()`,
 * `nextBatch()` or `return()`; in push mode (`subscribe()`) the work goes to a {@link PushDecoding}
 * instead, and a source in push mode, as a stage's is, holds no pull state at all.
 */
export class DecodingSource<F extends ListFrame = Frame> implements FrameSource<F> {
  private pulled: PullDecoding<F> | undefined
  private pushed: PushDecoding<F> | undefined

  constructor (
    private readonly lower: AsyncIterator<ByteChunk>,
    private readonly decoder: FrameDecoder<F>,
    private readonly owner?: DecodeFailureOwner
  ) {}

  /** How far the frame being received has come (see `FrameDecoder.frameProgress`). */
  get frameProgress (): number {
    return this.decoder.frameProgress
  }

  private get pull (): PullDecoding<F> {
    return this.pulled ??= new PullDecoding(this.lower, this.decoder, this.owner)
  }

  subscribe (target: PushTarget<F>): void {
    const pulled = this.pulled
    if (this.pushed !== undefined || pulled?.busy === true) throw new Error('expected subscribe() once, before any next() or nextBatch()')
    this.pushed = new PushDecoding(this.lower, this.decoder, target, this.owner)
    if (pulled?.finished === true) {
      // stopped before: nothing will come
      target.end()
      return
    }
    this.pushed.start()
  }

  resume (): void {
    this.pushed?.resume()
  }

  [Symbol.asyncIterator] (): this {
    return this
  }

  next (): Promise<IteratorResult<F>> {
    // the pull side is closed for good once subscribed
    return this.pushed !== undefined ? RESOLVED_DONE : this.pull.next()
  }

  nextBatch (): Promise<F[] | undefined> {
    return this.pushed !== undefined ? RESOLVED_END : this.pull.nextBatch()
  }

  return (): Promise<IteratorResult<F>> {
    if (this.pushed !== undefined) {
      this.pushed.stop()
      return RESOLVED_DONE
    }
    return this.pull.return()
  }

  throw (err?: unknown): Promise<IteratorResult<F>> {
    return this.return().then(() => { throw err })
  }
}

/**
 * The pull side of a {@link DecodingSource}: a read is the lower `next()` (or `nextBatch()`, when the lower
 * source offers it) with a callback made once per source (on first use), and frames already decoded are
 * served with resolved promises.
 */
class PullDecoding<F extends ListFrame> {
  /** `NO_FRAMES` until a read decodes: a source in push mode never does. */
  private batch: F[] = NO_FRAMES
  private index = 0
  /** No chunk will be read again: the lower source ended or failed, or it was stopped. */
  finished = false
  /** A decoding error, delivered once the frames decoded before it have been handed out. */
  private failure: Error | undefined
  /** The read in progress: a call made meanwhile waits for it, so frames go out in call order. */
  private reading: Promise<unknown> | undefined
  private readonly lowerBatch: boolean
  // callbacks, made on first use (push mode needs none of them)
  private forNextFn: ((read: unknown) => IteratorResult<F> | Promise<IteratorResult<F>>) | undefined
  private forBatchFn: ((read: unknown) => F[] | undefined | Promise<F[] | undefined>) | undefined
  private onLowerErrorFn: ((err: unknown) => never) | undefined
  private retryNextFn: (() => Promise<IteratorResult<F>>) | undefined
  private retryBatchFn: (() => Promise<F[] | undefined>) | undefined
  private onMoreFn: ((read: unknown) => void) | undefined
  private onMoreErrorFn: ((err: unknown) => void) | undefined

  constructor (
    private readonly lower: AsyncIterator<ByteChunk>,
    private readonly decoder: FrameDecoder<F>,
    private readonly owner?: DecodeFailureOwner
  ) {
    this.lowerBatch = isBatchIterator(lower)
  }

  /** A read in flight, or frames not handed out: too late to subscribe. */
  get busy (): boolean {
    return this.reading !== undefined || this.batch.length > 0
  }

  next (): Promise<IteratorResult<F>> {
    if (this.index < this.batch.length) return Promise.resolve({ done: false, value: this.batch[this.index++] })
    if (this.reading !== undefined) {
      const retry = this.retryNextFn ??= () => this.next()
      return this.reading.then(retry, retry)
    }
    return this.answer(false) ?? this.read(this.forNextFn ??= read => this.forNext(read))
  }

  nextBatch (): Promise<F[] | undefined> {
    if (this.index < this.batch.length) return Promise.resolve(this.takeBatch())
    if (this.reading !== undefined) {
      const retry = this.retryBatchFn ??= () => this.nextBatch()
      return this.reading.then(retry, retry)
    }
    return this.answer(true) ?? this.read(this.forBatchFn ??= read => this.forBatch(read))
  }

  return (): Promise<IteratorResult<F>> {
    this.batch = NO_FRAMES
    this.index = 0
    this.failure = undefined
    if (this.finished) return RESOLVED_DONE
    this.finished = true
    this.decoder.release()
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

  /** The first read for a caller: most chunks complete a frame, and then this is all it costs. */
  private read<R> (settle: (read: unknown) => R | Promise<R>): Promise<R> {
    const pending = this.pull().then(settle, this.onLowerErrorFn ??= err => this.onLowerError(err))
    this.reading = pending
    return pending
  }

  /** The lower source's next read; one that throws instead of rejecting fails the same way. */
  private pull (): Promise<unknown> {
    try {
      return this.lowerBatch ? (this.lower as BatchIterator<ByteChunk>).nextBatch() : this.lower.next()
    } catch (err) {
      return Promise.reject(err)
    }
  }

  private forNext (read: unknown): IteratorResult<F> | Promise<IteratorResult<F>> {
    this.reading = undefined
    return this.decodeRead(read) ? { done: false, value: this.batch[this.index++] } : this.readOn<IteratorResult<F>>(false)
  }

  private forBatch (read: unknown): F[] | undefined | Promise<F[] | undefined> {
    this.reading = undefined
    return this.decodeRead(read) ? this.takeBatch() : this.readOn<F[] | undefined>(true)
  }

  private onLowerError (err: unknown): never {
    this.reading = undefined
    this.finished = true
    this.decoder.release()
    throw err
  }

  /** What a caller gets without reading: the held-back error (aborting the connection now), or the end. */
  private answer (batch: false): Promise<IteratorResult<F>> | undefined
  private answer (batch: true): Promise<F[] | undefined> | undefined
  private answer (batch: boolean): Promise<IteratorResult<F> | F[] | undefined> | undefined {
    const failure = this.failure
    if (failure !== undefined) {
      this.failure = undefined
      // only now, once every frame decoded before the error has been handed out
      this.owner?.abort(failure)
      return Promise.reject(failure)
    }
    if (this.finished) return batch ? RESOLVED_END : RESOLVED_DONE
    return undefined
  }

  /**
   * A read completed no frame (a body spanning many reads): the caller is parked on one promise and the
   * following reads go through a callback made once, instead of a chain of promises, one per chunk.
   */
  private readOn<R> (batch: boolean): Promise<R> {
    const now = batch ? this.answer(true) : this.answer(false)
    if (now !== undefined) return now as Promise<R>
    this.waitBatch = batch
    const parked = new Promise<R>((resolve, reject) => {
      this.resolveWait = resolve as (value: unknown) => void
      this.rejectWait = reject
    })
    this.reading = parked
    this.pullMore()
    return parked
  }

  private waitBatch = false
  private resolveWait: ((value: unknown) => void) | undefined
  private rejectWait: ((err: unknown) => void) | undefined

  private pullMore (): void {
    this.pull().then(this.onMoreFn ??= (read) => { this.onMore(read) }, this.onMoreErrorFn ??= (err) => { this.onMoreError(err) })
  }

  private onMore (read: unknown): void {
    if (this.decodeRead(read)) {
      this.wake(this.waitBatch ? this.takeBatch() : { done: false, value: this.batch[this.index++] })
    } else if (this.failure !== undefined || this.finished) {
      this.wake(this.waitBatch ? this.answer(true) : this.answer(false))
    } else {
      this.pullMore()
    }
  }

  private onMoreError (err: unknown): void {
    this.finished = true
    this.decoder.release()
    const reject = this.rejectWait
    this.reading = this.resolveWait = this.rejectWait = undefined
    reject?.(err)
  }

  private wake (value: unknown): void {
    const resolve = this.resolveWait
    this.reading = this.resolveWait = this.rejectWait = undefined
    resolve?.(value)
  }

  /** Decodes what a read brought (a chunk, a batch of chunks, or the end); true when frames are ready. */
  private decodeRead (read: unknown): boolean {
    if (this.batch.length > 0 || this.batch === NO_FRAMES) this.batch = []
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
        this.decoder.release()
        stop(this.lower)
      }
    }
  }

  private takeBatch (): F[] {
    const out = this.index === 0 ? this.batch : this.batch.slice(this.index)
    this.batch = NO_FRAMES
    this.index = 0
    return out
  }
}
