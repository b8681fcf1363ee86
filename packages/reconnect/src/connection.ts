import type { BatchIterator, PushSource, PushTarget, StageDuplex } from '@proto/interface'
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

/** Tears a lower duplex down without letting its failure escape. */
export function safeAbort (duplex: { abort?(err: Error): void }, err: Error): void {
  try {
    duplex.abort?.(err)
  } catch {
    // the lower stage's abort failing leaves nothing more we can do
  }
}

export const noop = (): void => {}
