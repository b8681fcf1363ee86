import type { BatchIterator, ByteChunk, PushTarget } from '@proto/interface'
import { isBatchIterator, isPushSource, toError } from '@proto/interface'
import type { FrameDecoder } from './decoder.js'
import type { ListFrame } from './frame.js'

/** Told of a decoding error, after the frames decoded before it were pushed (the codec aborts the connection). */
export interface DecodeFailureOwner {
  abort(err: Error): void
}

function release (lower: AsyncIterator<ByteChunk>): void {
  try {
    const r = lower.return?.()
    if (r != null) r.then(undefined, () => {})
  } catch {}
}

/**
 * The decoded side in push mode: chunks from the lower source are decoded as they arrive and the frames
 * they complete go to the target in one batch per read. A lower source that can push (the transport's)
 * is subscribed to, so a read goes from the socket's callback to the target in one synchronous call chain;
 * any other is read here, one `nextBatch()` (or `next()`) at a time, while the target takes frames. A
 * decoding error reaches the target after the frames decoded before it; then the owner aborts the
 * connection.
 */
export class PushDecoding<F extends ListFrame> implements PushTarget<ByteChunk> {
  /** The target asked to wait. */
  private paused = false
  /** Nothing more goes to the target (it was told the end, or gave up). */
  private stopped = false
  private reading = false
  private onRead: ((read: unknown) => void) | undefined
  private onReadError: ((err: unknown) => void) | undefined

  constructor (
    private readonly lower: AsyncIterator<ByteChunk>,
    private readonly decoder: FrameDecoder<F>,
    private readonly target: PushTarget<F>,
    private readonly owner: DecodeFailureOwner | undefined
  ) {}

  start (): void {
    if (isPushSource<ByteChunk>(this.lower)) this.lower.subscribe(this)
    else this.pull()
  }

  /** The target takes frames again. */
  resume (): void {
    if (!this.paused || this.stopped) return
    this.paused = false
    if (isPushSource<ByteChunk>(this.lower)) this.lower.resume()
    else if (!this.reading) this.pull()
  }

  /** The target gives up: the lower source is released, nothing more is pushed. */
  stop (): void {
    if (this.stopped) return
    this.stopped = true
    release(this.lower)
  }

  /** Chunks from below: decoded at once; the frames they complete go up. */
  push (chunks: ByteChunk[]): boolean {
    if (this.stopped) return false
    const out: F[] = []
    let failure: Error | undefined
    for (let i = 0; i < chunks.length; i++) {
      try {
        this.decoder.push(chunks[i] as ByteChunk, out)
      } catch (err) {
        failure = toError(err)
        break
      }
    }
    const more = out.length === 0 || this.target.push(out)
    if (failure !== undefined) {
      this.fail(failure)
      return false
    }
    if (!more) this.paused = true
    return more
  }

  /** The lower source ended or failed. */
  end (err?: Error): void {
    if (this.stopped) return
    if (err !== undefined) {
      this.stopped = true
      this.decoder.release()
      this.target.end(err)
      return
    }
    try {
      this.decoder.end()
    } catch (e) {
      this.fail(toError(e))
      return
    }
    this.stopped = true
    this.target.end()
  }

  private fail (err: Error): void {
    this.stopped = true
    this.decoder.release()
    release(this.lower)
    this.target.end(err)
    this.owner?.abort(err)
  }

  /** A lower source that cannot push: one read at a time, while the target takes frames. */
  private pull (): void {
    this.reading = true
    const lower = this.lower
    let read: Promise<unknown>
    try {
      read = isBatchIterator(lower) ? (lower as BatchIterator<ByteChunk>).nextBatch() : lower.next()
    } catch (err) {
      this.readFailed(err)
      return
    }
    read.then(this.onRead ??= (r) => { this.read(r) }, this.onReadError ??= (err) => { this.readFailed(err) })
  }

  private read (read: unknown): void {
    this.reading = false
    if (this.stopped) return
    let chunks: ByteChunk[] | undefined
    if (isBatchIterator(this.lower)) chunks = read as ByteChunk[] | undefined
    else chunks = (read as IteratorResult<ByteChunk>).done === true ? undefined : [(read as IteratorYieldResult<ByteChunk>).value]
    if (chunks === undefined) {
      this.end()
      return
    }
    if (this.push(chunks) && !this.stopped) this.pull()
  }

  private readFailed (err: unknown): void {
    this.reading = false
    if (this.stopped) return
    this.stopped = true
    this.target.end(toError(err))
  }
}
