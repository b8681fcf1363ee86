interface Waiter {
  resolve(result: IteratorResult<Uint8Array>): void
  reject(err: Error): void
}

type Resolve = (result: IteratorResult<Uint8Array>) => void
type Reject = (err: Error) => void

const DONE: IteratorResult<Uint8Array> = Object.freeze({ done: true, value: undefined })

/** Pauses and resumes the producer of a read queue (the socket). */
export interface FlowControl {
  pause(): void
  resume(): void
}

/**
 * A bounded queue between a socket's `'data'` events and one async-iterator consumer. Above
 * `highWaterMark` bytes the socket is paused, so the kernel buffer fills and TCP pushes back on the peer;
 * below `lowWaterMark` it resumes. `next()` returns an already-resolved promise when a chunk is queued.
 * Ending iteration early only detaches the consumer: later chunks are discarded, the socket stays open.
 */
export class ReadQueue implements AsyncIterableIterator<Uint8Array> {
  private chunks: Array<Uint8Array | undefined> = []
  private head = 0
  private bytes = 0
  private paused = false
  private ended = false
  private detached = false
  private error: Error | undefined
  /** The consumer waiting in `next()` (its promise's resolvers, kept without a wrapper object). */
  private waitResolve: Resolve | undefined
  private waitReject: Reject | undefined
  /** Further waiters, only if `next()` is called again without awaiting. */
  private moreWaiters: Waiter[] | undefined

  constructor (
    private readonly flow: FlowControl,
    private readonly highWaterMark: number,
    private readonly lowWaterMark: number
  ) {}

  /** Bytes queued and not yet taken by the consumer. */
  get queuedBytes (): number {
    return this.bytes
  }

  /** Whether a consumer ended iteration early (or the queue finished): incoming bytes are dropped. */
  get isDetached (): boolean {
    return this.detached
  }

  push (chunk: Uint8Array): void {
    if (this.detached || this.ended || this.error != null) return
    const resolve = this.waitResolve
    if (resolve != null) {
      const more = this.moreWaiters?.shift()
      this.waitResolve = more?.resolve
      this.waitReject = more?.reject
      resolve({ done: false, value: chunk })
      return
    }
    this.chunks.push(chunk)
    this.bytes += chunk.byteLength
    if (!this.paused && this.bytes >= this.highWaterMark) {
      this.paused = true
      this.flow.pause()
    }
  }

  /** The peer finished: the consumer gets what is queued, then `done`. */
  end (): void {
    if (this.ended || this.error != null) return
    this.ended = true
    if (this.head === this.chunks.length) this.settleWaiters()
  }

  /**
   * Fails the consumer with `err`: at once when `discard` is true (local abort), otherwise after the
   * chunks already queued (the peer's bytes arrived before its failure). No effect once ended.
   */
  fail (err: Error, discard: boolean): void {
    if (this.error != null || (this.ended && this.head === this.chunks.length)) return
    this.error = err
    this.ended = false
    if (discard) this.clear()
    if (this.head === this.chunks.length) this.settleWaiters()
  }

  next (): Promise<IteratorResult<Uint8Array>> {
    if (this.head < this.chunks.length) {
      const chunk = this.chunks[this.head] as Uint8Array
      this.chunks[this.head++] = undefined
      this.bytes -= chunk.byteLength
      if (this.head === this.chunks.length) {
        this.chunks = []
        this.head = 0
      }
      if (this.paused && this.bytes <= this.lowWaterMark) {
        this.paused = false
        this.flow.resume()
      }
      return Promise.resolve({ done: false, value: chunk })
    }
    if (this.error != null) {
      return Promise.reject(this.error)
    }
    if (this.ended || this.detached) return Promise.resolve(DONE)
    return new Promise((resolve, reject) => {
      if (this.waitResolve == null) {
        this.waitResolve = resolve
        this.waitReject = reject
      } else {
        (this.moreWaiters ??= []).push({ resolve, reject })
      }
    })
  }

  /** The consumer stops early (`break`): drop what is queued and discard what still comes. */
  async return (): Promise<IteratorResult<Uint8Array>> {
    this.detached = true
    this.clear()
    this.settleWaiters()
    return DONE
  }

  [Symbol.asyncIterator] (): this {
    return this
  }

  private clear (): void {
    this.chunks = []
    this.head = 0
    this.bytes = 0
    if (this.paused) {
      this.paused = false
      this.flow.resume()
    }
  }

  private settleWaiters (): void {
    const resolve = this.waitResolve
    const reject = this.waitReject
    if (resolve == null || reject == null) return
    const waiters: Waiter[] = [{ resolve, reject }, ...(this.moreWaiters ?? [])]
    this.waitResolve = undefined
    this.waitReject = undefined
    this.moreWaiters = undefined
    const err = this.error
    for (const w of waiters) {
      if (err != null) w.reject(err)
      else w.resolve(DONE)
    }
  }
}
