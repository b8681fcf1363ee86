import type { BatchIterator, ByteChunk } from '@proto/interface'
import { afterReady, DONE, isBatchIterator, RESOLVED_DONE, toError } from '@proto/interface'
import { BATCH_BYTES, ZERO_COPY_THRESHOLD } from './constants.js'
import type { FrameEncoder } from './encoder.js'
import type { ListFrame } from './frame.js'

function stop (producer: AsyncIterator<ListFrame>): void {
  try {
    const r = producer.return?.()
    if (r != null) r.then(undefined, () => {})
  } catch {}
}

/**
 * Encodes an async source of frames, packing every frame the producer has ready into one chunk. It reads
 * ahead of its consumer, through `next()` or, when the producer offers it, `nextBatch()`, until
 * `BATCH_BYTES` are packed. A consumer gets a full chunk at once; otherwise its chunk is sealed as soon as
 * the producer has nothing more ready (once the microtasks queued meanwhile have run), so a lone frame
 * still leaves in the same turn of the event loop. Per frame it costs the producer's own step and a `then()`
 * with callbacks made once per stream (none with a `nextBatch()` producer): no result object, promise of
 * its own to resolve or async function.
 */
export class EncodingSource implements AsyncIterableIterator<ByteChunk> {
  /** Checked frames of the chunk being gathered, `bytes` long once encoded. */
  private frames: ListFrame[] = []
  private bytes = 0
  private large = false
  /** A full chunk waiting for the consumer; reading ahead pauses while it waits. */
  private ready: ByteChunk | undefined
  private pulling = false
  /** Nothing more will be read from the producer. */
  private ended = false
  /** What the producer threw, or an invalid frame; handed out after the frames accepted before it. */
  private failure: { error: unknown } | undefined
  /** The consumer's pending `next()`, and how to settle it. */
  private waiting: Promise<IteratorResult<ByteChunk>> | undefined
  private resolveWaiting: ((r: IteratorResult<ByteChunk>) => void) | undefined
  private rejectWaiting: ((err: unknown) => void) | undefined
  private flushQueued = false
  private readonly batches: boolean

  constructor (private readonly producer: AsyncIterator<ListFrame>, private readonly encoder: FrameEncoder) {
    this.batches = isBatchIterator(producer)
  }

  [Symbol.asyncIterator] (): this {
    return this
  }

  next (): Promise<IteratorResult<ByteChunk>> {
    if (this.waiting !== undefined) return this.waiting.then(this.retry, this.retry)
    const ready = this.ready
    if (ready !== undefined) {
      this.ready = undefined
      this.pull()
      return Promise.resolve({ done: false, value: ready })
    }
    if (this.ended) {
      const chunk = this.take()
      if (chunk !== undefined) return Promise.resolve({ done: false, value: chunk })
      const failure = this.failure
      if (failure === undefined) return RESOLVED_DONE
      this.failure = undefined
      return Promise.reject(failure.error)
    }
    // while the producer runs, frames gathered so far wait for the rest of what it has ready
    this.waiting = new Promise(this.park)
    this.pull()
    if (this.frames.length > 0) this.queueFlush()
    return this.waiting
  }

  /**
   * Stops: what was gathered is dropped and the producer is told to return. When a read of the producer
   * is in flight (it is busy producing ahead), its return cannot complete before that read does, so it is
   * requested without waiting for it.
   */
  return (): Promise<IteratorResult<ByteChunk>> {
    const wasEnded = this.ended
    this.ended = true
    this.frames = []
    this.ready = undefined
    this.failure = undefined
    this.settle()
    if (wasEnded) return RESOLVED_DONE
    if (this.pulling) {
      stop(this.producer)
      return RESOLVED_DONE
    }
    try {
      return Promise.resolve(this.producer.return?.()).then(() => DONE)
    } catch (err) {
      return Promise.reject(toError(err))
    }
  }

  private readonly retry = (): Promise<IteratorResult<ByteChunk>> => this.next()

  private readonly park = (resolve: (r: IteratorResult<ByteChunk>) => void, reject: (err: unknown) => void): void => {
    this.resolveWaiting = resolve
    this.rejectWaiting = reject
  }

  /** Reads the producer's next frame (or batch), unless a full chunk waits or the producer is done. */
  private pull (): void {
    if (this.pulling || this.ended || this.ready !== undefined) return
    this.pulling = true
    let read: Promise<unknown>
    try {
      read = this.batches ? (this.producer as BatchIterator<ListFrame>).nextBatch() : this.producer.next()
    } catch (err) {
      this.onFailure(err)
      return
    }
    read.then(this.onRead, this.onFailure)
  }

  private readonly onRead = (read: unknown): void => {
    this.pulling = false
    if (this.ended) return
    if (this.batches) {
      const frames = read as ListFrame[] | undefined
      if (frames === undefined) this.ended = true
      else for (let i = 0; i < frames.length && !this.ended; i++) this.add(frames[i])
    } else {
      const r = read as IteratorResult<ListFrame>
      if (r.done === true) this.ended = true
      // (a value that is no frame, or has no body, goes to add(), whose check refuses it)
      else if (this.frames.length === 0 && (r.value?.body?.length ?? 0) >= BATCH_BYTES) this.sealAlone(r.value)
      else this.add(r.value)
    }
    if (this.bytes >= BATCH_BYTES) this.seal()
    this.pull()
    if (this.waiting === undefined) return
    if (this.ready !== undefined || this.ended) this.settle()
    else this.queueFlush()
  }

  private queueFlush (): void {
    if (this.flushQueued) return
    this.flushQueued = true
    afterReady(this.flush)
  }

  private readonly onFailure = (err: unknown): void => {
    this.pulling = false
    if (this.ended) return
    this.ended = true
    this.failure = { error: err }
    this.settle()
  }

  private readonly flush = (): void => {
    this.flushQueued = false
    this.settle()
  }

  /** Accepts a frame into the chunk being gathered. */
  private add (frame: ListFrame): void {
    const size = this.check(frame)
    if (size < 0) return
    this.frames.push(frame)
    this.bytes += size
    if (frame.body.length >= ZERO_COPY_THRESHOLD) this.large = true
  }

  /** A frame that fills a chunk by itself, with nothing gathered before it: its chunk directly. */
  private sealAlone (frame: ListFrame): void {
    const size = this.check(frame)
    if (size >= 0) this.ready = this.encoder.packLarge(frame, size)
  }

  /** A frame's encoded size, or -1 when it is invalid: the stream then ends after what came before it. */
  private check (frame: ListFrame): number {
    try {
      return this.encoder.check(frame)
    } catch (err) {
      this.ended = true
      this.failure = { error: err }
      stop(this.producer)
      return -1
    }
  }

  private seal (): void {
    this.ready = this.encoder.pack(this.frames, this.bytes, this.large)
    this.frames = []
    this.bytes = 0
    this.large = false
  }

  /** The chunk to hand out now, if there is anything: a full one, or all frames gathered so far. */
  private take (): ByteChunk | undefined {
    if (this.ready === undefined && this.frames.length > 0) this.seal()
    const chunk = this.ready
    if (chunk !== undefined) {
      this.ready = undefined
      this.pull()
    }
    return chunk
  }

  /** Answers a waiting consumer if there is an answer: a chunk, then any failure, then the end. */
  private settle (): void {
    if (this.waiting === undefined) return
    const chunk = this.take()
    if (chunk === undefined && !this.ended) return
    const resolve = this.resolveWaiting as (r: IteratorResult<ByteChunk>) => void
    const reject = this.rejectWaiting as (err: unknown) => void
    this.waiting = this.resolveWaiting = this.rejectWaiting = undefined
    if (chunk !== undefined) {
      resolve({ done: false, value: chunk })
    } else if (this.failure !== undefined) {
      const { error } = this.failure
      this.failure = undefined
      reject(error)
    } else {
      resolve(DONE)
    }
  }
}
