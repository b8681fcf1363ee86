import type { BatchIterator, PushSource, PushTarget, SinkWatcher, StageDuplex } from '@proto/interface'
import { toError } from '@proto/interface'
import type { DialAttempt } from './attempt.js'
import type { Feed } from './feed.js'

/** One live connection and everything scoped to it (its dial's attempt is its lifetime). */
export interface Connection<TIn, TOut> extends PushTarget<TIn> {
  readonly epoch: number
  readonly attempt: number
  readonly dial: DialAttempt
  readonly duplex: StageDuplex<TIn, TOut>
  readonly connectedAt: number
  /** What its sink drains. */
  readonly feed: Feed<TOut>
  iter: (AsyncIterator<TIn> & Partial<Pick<BatchIterator<TIn>, 'nextBatch'>>) | undefined
  /** Items handed to this connection's sink (re-handed ones included). */
  handed: number
  /** A read from its source is outstanding. */
  reading: boolean
  /** Its source pushes (this object subscribed to it) instead of being read; `paused` while it was asked to wait. */
  pusher: PushSource<TIn> | undefined
  paused: boolean
  /** Its source ended cleanly; what that means is decided once the reader has caught up. */
  peerEnded: boolean
  /** Declared lost (or released): nothing it does acts any more. */
  lost: boolean
  /** Its sink settled; `sinkFailed` when it rejected. */
  sinkDone: boolean
  sinkFailed: boolean
  onRead(result: IteratorResult<TIn>): void
  onBatch(batch: TIn[] | undefined): void
  onReadError(err: unknown): void
}

/** Where a connection's reads and pushes go: the durable source. */
export interface ReadTarget<TIn, TOut> {
  received(c: Connection<TIn, TOut>, items: TIn[] | undefined): void
  pushed(c: Connection<TIn, TOut>, items: TIn[]): boolean
  readFailed(c: Connection<TIn, TOut>, err: Error): void
}

/** Told how a connection's sink ended (the durable duplex). */
export interface SinkEndTarget<TIn, TOut> {
  sinkEnded(c: Connection<TIn, TOut>, err?: Error): void
}

/**
 * A live connection: itself the target its source pushes to (`push`, `end`) and the watcher of its sink
 * written with `sinkPush` (`onSinkEnd`), with the callbacks of a read made only when its source is read
 * instead (a source that pushes never needs them).
 */
export class LiveConnection<TIn, TOut> implements Connection<TIn, TOut>, SinkWatcher {
  readonly feed: Feed<TOut>
  iter: Connection<TIn, TOut>['iter'] = undefined
  handed = 0
  reading = false
  pusher: PushSource<TIn> | undefined = undefined
  paused = false
  peerEnded = false
  lost = false
  sinkDone = false
  sinkFailed = false
  #onRead: ((result: IteratorResult<TIn>) => void) | undefined
  #onBatch: ((batch: TIn[] | undefined) => void) | undefined
  #onReadError: ((err: unknown) => void) | undefined

  constructor (
    readonly epoch: number,
    readonly dial: DialAttempt,
    readonly duplex: StageDuplex<TIn, TOut>,
    readonly connectedAt: number,
    private readonly reads: ReadTarget<TIn, TOut>,
    private readonly sinks: SinkEndTarget<TIn, TOut>,
    feed: (c: LiveConnection<TIn, TOut>) => Feed<TOut>
  ) {
    this.feed = feed(this)
  }

  get attempt (): number { return this.dial.attempt }

  get onRead (): (result: IteratorResult<TIn>) => void {
    return this.#onRead ??= (result) => { this.reads.received(this, result.done === true ? undefined : [result.value]) }
  }

  get onBatch (): (batch: TIn[] | undefined) => void {
    return this.#onBatch ??= (batch) => { this.reads.received(this, batch) }
  }

  get onReadError (): (err: unknown) => void {
    return this.#onReadError ??= (err) => { this.reads.readFailed(this, toError(err)) }
  }

  push (items: TIn[]): boolean {
    return this.reads.pushed(this, items)
  }

  /**
   * The source's end or failure, acted on from a microtask, as a read's would be: a stage that fails tells
   * its subscriber from within its own failure handling (before it queues a GOAWAY, say), and reconnect's
   * answer (releasing the feed, aborting the connection) must not cut into that.
   */
  end (err?: Error): void {
    queueMicrotask(() => {
      if (err === undefined) this.reads.received(this, undefined)
      else this.reads.readFailed(this, err)
    })
  }

  onSinkEnd (err?: Error): void {
    this.sinks.sinkEnded(this, err)
  }
}

/** Tears a lower duplex down without letting its failure escape. */
export function safeAbort (duplex: { abort?(err: Error): void }, err: Error): void {
  try {
    duplex.abort?.(err)
  } catch {
    // the lower stage's abort failing leaves nothing more we can do
  }
}

export const noop = (): void => {}
