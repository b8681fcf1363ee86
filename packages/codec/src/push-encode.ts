import type { ByteChunk, PushSource, PushTarget } from '@proto/interface'
import { DONE, RESOLVED_DONE, toError } from '@proto/interface'
import { BATCH_BYTES, NO_FRAMES, ZERO_COPY_THRESHOLD } from './constants.js'
import type { FrameEncoder } from './encoder.js'
import type { ListFrame } from './frame.js'

/**
 * The encoding side for a producer that pushes (the heartbeat stage's outbound): each batch it pushes is
 * checked and encoded into one chunk at once. A lower sink that can take pushes (the transport's) subscribes,
 * and a ping goes from the stage to the socket's writer in one synchronous call chain, with nothing parked
 * while the connection is idle. A lower sink that pulls reads the chunks through the async iterator: the
 * producer's batches are gathered (up to `BATCH_BYTES`, then it is told to wait) and handed out together.
 * An invalid frame ends the stream with its error after the frames before it.
 */
export class PushEncoding implements PushSource<ByteChunk>, PushTarget<ListFrame>, AsyncIterableIterator<ByteChunk> {
  private target: PushTarget<ByteChunk> | undefined
  private subscribed = false
  /** Nothing more will come from the producer. */
  private over = false
  // pulled by the lower sink: what was gathered, the end, and the waiting consumer
  private frames: ListFrame[] = NO_FRAMES // an array of its own only once a pulling consumer makes it gather
  private bytes = 0
  private large = false
  private failure: Error | undefined
  private producerWaits = false
  private resolveWait: ((r: IteratorResult<ByteChunk>) => void) | undefined
  private rejectWait: ((err: unknown) => void) | undefined

  constructor (private readonly producer: PushSource<ListFrame>, private readonly encoder: FrameEncoder) {}

  [Symbol.asyncIterator] (): this {
    return this
  }

  subscribe (target: PushTarget<ByteChunk>): void {
    if (this.subscribed) throw new Error('expected subscribe() once, before any next()')
    this.target = target
    this.subscribed = true
    this.producer.subscribe(this)
  }

  resume (): void {
    this.producer.resume()
  }

  /** From the producer: frames to encode (pushed down at once, or gathered for a pulling consumer). */
  push (frames: ListFrame[]): boolean {
    if (this.over) return false
    let size = 0
    let large = false
    let valid = frames.length
    let failure: Error | undefined
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i] as ListFrame
      try {
        size += this.encoder.check(frame)
      } catch (err) {
        failure = toError(err)
        valid = i
        break
      }
      if (frame.body.length >= ZERO_COPY_THRESHOLD) large = true
    }
    const target = this.target
    if (target !== undefined) {
      const more = valid === 0 || target.push([this.encoder.pack(valid === frames.length ? frames : frames.slice(0, valid), size, large)])
      if (failure === undefined) return more
      this.over = true
      this.stopProducer()
      target.end(failure)
      return false
    }
    if (valid > 0 && this.frames === NO_FRAMES) this.frames = []
    for (let i = 0; i < valid; i++) this.frames.push(frames[i] as ListFrame)
    this.bytes += size
    if (large) this.large = true
    if (failure !== undefined) {
      this.over = true
      this.failure = failure
      this.stopProducer()
    }
    this.settle()
    if (this.bytes < BATCH_BYTES) return true
    this.producerWaits = true
    return false
  }

  /** From the producer: the end (or its failure). */
  end (err?: Error): void {
    if (this.over) return
    this.over = true
    if (this.target !== undefined) {
      this.target.end(err)
      return
    }
    this.failure = err
    this.settle()
  }

  next (): Promise<IteratorResult<ByteChunk>> {
    if (!this.subscribed) {
      this.subscribed = true
      this.producer.subscribe(this)
    }
    const chunk = this.take()
    if (chunk !== undefined) return Promise.resolve({ done: false, value: chunk })
    if (this.over) return this.finish()
    return new Promise((resolve, reject) => {
      this.resolveWait = resolve
      this.rejectWait = reject
    })
  }

  /** The consumer stops: nothing more is taken, the producer is released. */
  return (): Promise<IteratorResult<ByteChunk>> {
    const wasOver = this.over
    this.over = true
    this.frames = NO_FRAMES
    this.bytes = 0
    this.failure = undefined
    const resolve = this.resolveWait
    this.resolveWait = this.rejectWait = undefined
    resolve?.(DONE)
    if (!wasOver) this.stopProducer()
    return RESOLVED_DONE
  }

  private stopProducer (): void {
    try {
      const r = this.producer.return?.()
      if (r != null && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, () => {})
    } catch {}
  }

  /** Everything gathered, as one chunk; the producer may push again. */
  private take (): ByteChunk | undefined {
    if (this.frames.length === 0) return undefined
    const chunk = this.encoder.pack(this.frames, this.bytes, this.large)
    this.frames = NO_FRAMES
    this.bytes = 0
    this.large = false
    if (this.producerWaits && !this.over) {
      this.producerWaits = false
      this.producer.resume()
    }
    return chunk
  }

  /** After the gathered frames: the failure, or the end. */
  private finish (): Promise<IteratorResult<ByteChunk>> {
    const failure = this.failure
    if (failure === undefined) return RESOLVED_DONE
    this.failure = undefined
    return Promise.reject(failure)
  }

  /** A waiting consumer gets what was gathered, or the end. */
  private settle (): void {
    const resolve = this.resolveWait
    const reject = this.rejectWait
    if (resolve === undefined || reject === undefined) return
    const chunk = this.take()
    if (chunk === undefined && !this.over) return
    this.resolveWait = this.rejectWait = undefined
    if (chunk !== undefined) resolve({ done: false, value: chunk })
    else this.finish().then(resolve, reject)
  }
}
