import type { BatchIterator, ByteChunk, PushSource, PushTarget } from '@proto/interface'
import { asyncIteratorOf, isBatchIterator, iteratorOf, SourceError, toError } from '@proto/interface'
import type { Source } from 'it-stream-types'
import type { Writer } from './writer.js'

function isAsync (source: Source<ByteChunk>): source is AsyncIterable<ByteChunk> {
  return typeof (source as AsyncIterable<ByteChunk>)[Symbol.asyncIterator] === 'function'
}

function stopProducer (iterator: Iterator<ByteChunk> | AsyncIterator<ByteChunk>): void {
  try {
    const r = iterator.return?.()
    if (r != null && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, () => {})
  } catch {}
}

/** What the sink loop asks of its connection. */
export interface SinkOwner {
  /** The connection's failure, once there is one. */
  sinkFailure(): Error | undefined
  /** The source threw `err`, or gave a chunk that is not bytes: abort the connection with it (unless it already failed). */
  abortFromSource(err: Error): void
  /** The source ended and everything was queued: send FIN; resolves once it is handed to the kernel. */
  finishSink(): Promise<void>
  /** The sink is over: `err` is what it fails with, `undefined` on success. Called once. */
  settleSink(err: Error | undefined): void
}

/**
 * Pulls `source` into `writer` until it ends, then FIN, and reports the outcome to `owner.settleSink`
 * (never rejects). Synchronous sources are drained without a microtask per item; an async source whose
 * iterator offers `nextBatch()` is drained a batch per step; all wait for `'drain'` whenever the socket
 * pushes back. If the source throws or gives a chunk that is not bytes (`InvalidParametersError`), the
 * connection is aborted with that error and the sink fails with it; if the connection fails, the producer
 * is told to stop and the sink fails with the connection's error. One async function per running sink: an
 * idle connection with an open sink parks one frame.
 */
export async function runSink (source: Source<ByteChunk>, writer: Writer, owner: SinkOwner): Promise<void> {
  const async = isAsync(source)
  // a source that throws as its iterator is made fails at its first read below, as any source that throws
  const iterator: AsyncIterator<ByteChunk> | Iterator<ByteChunk> = async ? asyncIteratorOf(source) : iteratorOf(source)
  const nextBatch = async && isBatchIterator(iterator) ? (iterator as BatchIterator<ByteChunk>).nextBatch : undefined
  try {
    for (;;) {
      let chunks: ByteChunk[] | undefined
      let step: IteratorResult<ByteChunk> | undefined
      try {
        if (nextBatch !== undefined) chunks = await nextBatch.call(iterator)
        else step = async ? await (iterator as AsyncIterator<ByteChunk>).next() : (iterator as Iterator<ByteChunk>).next()
      } catch (err) {
        throw new SourceError(toError(err))
      }
      if (nextBatch !== undefined ? chunks === undefined : step?.done === true) break
      try {
        if (chunks !== undefined) {
          for (let i = 0; i < chunks.length; i++) writer.push(chunks[i] as ByteChunk)
        } else {
          writer.push((step as IteratorYieldResult<ByteChunk>).value)
        }
        if (writer.blocked) await writer.waitDrain()
      } catch (err) {
        stopProducer(iterator)
        throw err
      }
    }
    const failure = owner.sinkFailure()
    if (failure != null) throw failure
    await owner.finishSink()
    owner.settleSink(undefined)
  } catch (err) {
    // What the source threw, or the writer's refusal of a chunk that is not bytes, aborts the connection;
    // anything else is the connection's own failure (aborting is then a no-op).
    const error = err instanceof SourceError ? err.error : toError(err)
    owner.abortFromSource(error)
    owner.settleSink(owner.sinkFailure() ?? error)
  }
}

/**
 * The sink of a source in push mode (`subscribe()`): the source hands its chunks over synchronously as they
 * become ready and ends with `end()`; nothing waits on a promise in between, so an idle connection parks
 * nothing. While the socket pushes back, `push()` answers `false` and the source waits for `drained()`.
 * The outcome goes to `owner.settleSink` as with `runSink`.
 */
export class PushSink implements PushTarget<ByteChunk> {
  /** The source was told to wait for `'drain'`. */
  private waiting = false
  private done = false

  constructor (private readonly source: PushSource<ByteChunk>, private readonly writer: Writer, private readonly owner: SinkOwner) {}

  /** Subscribes to the source; chunks it has ready may arrive at once. */
  start (): void {
    this.source.subscribe(this)
  }

  push (chunks: ByteChunk[]): boolean {
    if (this.done) return false
    try {
      for (let i = 0; i < chunks.length; i++) this.writer.push(chunks[i] as ByteChunk)
    } catch (err) {
      // a chunk that is not bytes aborts the connection; a connection that failed has settled the sink already
      this.owner.abortFromSource(toError(err))
      this.stop()
      this.owner.settleSink(this.owner.sinkFailure() ?? toError(err))
      return false
    }
    if (!this.writer.blocked) return true
    this.waiting = true
    return false
  }

  end (err?: Error): void {
    if (this.done) return
    this.done = true
    if (err !== undefined) {
      this.owner.abortFromSource(err)
      this.owner.settleSink(this.owner.sinkFailure() ?? err)
      return
    }
    const failure = this.owner.sinkFailure()
    if (failure != null) {
      this.owner.settleSink(failure)
      return
    }
    this.owner.finishSink().then(() => { this.owner.settleSink(undefined) }, (e: unknown) => { this.owner.settleSink(this.owner.sinkFailure() ?? toError(e)) })
  }

  /** The socket drained: a source told to wait may push again. */
  drained (): void {
    if (!this.waiting || this.done) return
    this.waiting = false
    this.source.resume()
  }

  /** The connection failed: the source stops. */
  stop (): void {
    if (this.done) return
    this.done = true
    try {
      const r = this.source.return?.()
      if (r != null && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, () => {})
    } catch {}
  }
}
