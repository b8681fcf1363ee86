import type { BatchIterator, PushSource, PushTarget } from '@proto/interface'
import { DONE } from '@proto/interface'

/**
 * The queue of every read queue holding no chunk: an idle connection, and every one in push mode whose
 * consumer keeps up, keeps no array of its own (32 B). Never written to: a chunk queued makes an array.
 */
const NONE: never[] = []

/** Pauses and resumes the producer of a read queue (the socket). */
export interface FlowControl {
  pause(): void
  resume(): void
}

/** What a waiting consumer gets: one chunk (`next()`) or every chunk ready (`nextBatch()`). */
interface Waiter {
  batch: boolean
  resolve(value: IteratorResult<Uint8Array> | Uint8Array[] | undefined): void
  reject(err: Error): void
}

/**
 * A bounded queue between a socket's `'data'` events and one async-iterator consumer. Above
 * `highWaterMark` bytes the socket is paused, so the kernel buffer fills and TCP pushes back on the peer;
 * below `lowWaterMark` it resumes. `next()` returns an already-resolved promise when a chunk is queued;
 * `nextBatch()` hands out every queued chunk at once (a stage above, or `pipe(conn, conn)`, then moves
 * them in one hop). Ending iteration early only detaches the consumer: later chunks are discarded, the
 * socket stays open.
 *
 * In push mode (`subscribe()`, used by the stage above when it can) each chunk goes to the target inside
 * the socket's read callback; chunks queue only while the target asks to wait, under the same limits.
 */
export class ReadQueue implements AsyncIterableIterator<Uint8Array>, BatchIterator<Uint8Array>, PushSource<Uint8Array> {
  private chunks: Array<Uint8Array | undefined> = NONE
  private head = 0
  private bytes = 0
  private paused = false
  private ended = false
  private detached = false
  private error: Error | undefined
  /**
   * The consumer waiting for data, kept in fields (an idle connection's parked `next()` costs no extra
   * object); `batch` says whether it called `nextBatch()`.
   */
  private waitResolve: Waiter['resolve'] | undefined
  private waitReject: Waiter['reject'] | undefined
  private waitBatch = false
  /** Further waiters, only if the consumer asks again without awaiting. */
  private moreWaiters: Waiter[] | undefined
  /** Push mode: where chunks go; `targetFull` while it asked to wait; `targetEnded` once told the end. */
  private target: PushTarget<Uint8Array> | undefined
  private targetFull = false
  private targetEnded = false

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
    const target = this.target
    if (target !== undefined && !this.targetFull && this.head === this.chunks.length) {
      if (!target.push([chunk])) this.targetFull = true
      return
    }
    const resolve = this.waitResolve
    if (resolve !== undefined) {
      const batch = this.waitBatch
      const more = this.moreWaiters?.shift()
      this.waitResolve = more?.resolve
      this.waitReject = more?.reject
      this.waitBatch = more?.batch ?? false
      resolve(batch ? [chunk] : { done: false, value: chunk })
      return
    }
    if (this.chunks === NONE) this.chunks = [chunk]
    else this.chunks.push(chunk)
    this.bytes += chunk.length
    if (!this.paused && this.bytes >= this.highWaterMark) {
      this.paused = true
      this.flow.pause()
    }
  }

  /** The peer finished: the consumer gets what is queued, then the end. */
  end (): void {
    if (this.ended || this.error != null) return
    this.ended = true
    if (this.target !== undefined) this.deliver()
    else if (this.head === this.chunks.length) this.settleWaiters()
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
    if (this.target !== undefined) this.deliver()
    else if (this.head === this.chunks.length) this.settleWaiters()
  }

  /**
   * Push mode: from now on every chunk goes to `target.push()` as it arrives (those already queued at once),
   * then the end or the failure to `target.end()`. Called once, instead of reading with `next()`.
   */
  subscribe (target: PushTarget<Uint8Array>): void {
    if (this.target !== undefined) throw new Error('expected one subscriber per connection source, but subscribe() was called twice')
    this.target = target
    if (this.detached) return
    this.deliver()
  }

  /** Push mode: the target takes chunks again; what queued meanwhile goes first. */
  resume (): void {
    if (this.target === undefined || !this.targetFull) return
    this.targetFull = false
    this.deliver()
  }

  /** Push mode: hands the queued chunks to the target while it takes them, then the end or the failure. */
  private deliver (): void {
    const target = this.target as PushTarget<Uint8Array>
    if (this.targetFull || this.targetEnded || this.detached) return
    if (this.head < this.chunks.length) {
      const batch = (this.head === 0 ? this.chunks : this.chunks.slice(this.head)) as Uint8Array[]
      this.chunks = NONE
      this.head = 0
      this.took(this.bytes)
      if (!target.push(batch)) {
        this.targetFull = true
        return
      }
    }
    if (this.error == null && !this.ended) return
    this.targetEnded = true
    target.end(this.error)
  }

  next (): Promise<IteratorResult<Uint8Array>> {
    if (this.head < this.chunks.length) {
      const chunk = this.chunks[this.head] as Uint8Array
      this.chunks[this.head++] = undefined
      if (this.head === this.chunks.length) {
        this.chunks = NONE
        this.head = 0
      }
      this.took(chunk.length)
      return Promise.resolve({ done: false, value: chunk })
    }
    return this.wait(false) as Promise<IteratorResult<Uint8Array>>
  }

  /** Every chunk queued (at least one: waits for one when none is), or `undefined` at the end. */
  nextBatch (): Promise<Uint8Array[] | undefined> {
    if (this.head < this.chunks.length) {
      const batch = (this.head === 0 ? this.chunks : this.chunks.slice(this.head)) as Uint8Array[]
      this.chunks = NONE
      this.head = 0
      this.took(this.bytes)
      return Promise.resolve(batch)
    }
    return this.wait(true) as Promise<Uint8Array[] | undefined>
  }

  /** The consumer stops early (`break`, or a push target giving up): drop what is queued and discard what still comes. */
  async return (): Promise<IteratorResult<Uint8Array>> {
    this.detached = true
    this.clear()
    this.settleWaiters()
    return DONE
  }

  [Symbol.asyncIterator] (): this {
    return this
  }

  private took (bytes: number): void {
    this.bytes -= bytes
    if (this.paused && this.bytes <= this.lowWaterMark) {
      this.paused = false
      this.flow.resume()
    }
  }

  private wait (batch: boolean): Promise<IteratorResult<Uint8Array> | Uint8Array[] | undefined> {
    if (this.error != null) return Promise.reject(this.error)
    if (this.ended || this.detached) return Promise.resolve(batch ? undefined : DONE)
    return new Promise((resolve, reject) => {
      if (this.waitResolve === undefined) {
        this.waitResolve = resolve
        this.waitReject = reject
        this.waitBatch = batch
      } else {
        (this.moreWaiters ??= []).push({ batch, resolve, reject })
      }
    })
  }

  private clear (): void {
    this.chunks = NONE
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
    if (resolve === undefined || reject === undefined) return
    const waiters: Waiter[] = [{ batch: this.waitBatch, resolve, reject }, ...(this.moreWaiters ?? [])]
    this.waitResolve = undefined
    this.waitReject = undefined
    this.moreWaiters = undefined
    const err = this.error
    for (const w of waiters) {
      if (err != null) w.reject(err)
      else w.resolve(w.batch ? undefined : DONE)
    }
  }
}
