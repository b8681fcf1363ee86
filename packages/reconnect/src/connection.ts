import type { StageDuplex } from '@proto/interface'

/** A resolved "end of iteration", shared. */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<undefined>
export const RESOLVED_DONE: Promise<IteratorReturnResult<undefined>> = Promise.resolve(DONE)

/** One live connection and everything scoped to it (its dial's controller is its lifetime signal). */
export interface Connection<T> {
  readonly epoch: number
  readonly attempt: number
  readonly controller: AbortController
  readonly duplex: StageDuplex<T>
  readonly connectedAt: number
  iter: (AsyncIterator<T> & { nextBatch?: () => Promise<T[] | undefined> }) | undefined
  /** Items handed to this connection's sink. */
  handed: number
  /** A read from its source is outstanding. */
  reading: boolean
  /** Declared lost (or released): nothing it does acts any more. */
  lost: boolean
  /** Our feed told its sink "done" because the write side ended. */
  feedEnded: boolean
  /** Its sink settled; `sinkFailed` when it rejected. */
  sinkDone: boolean
  sinkFailed: boolean
  /** Resolves (never rejects) once its sink has settled and the outcome was handled. */
  sinkSettled: Promise<void>
  onRead(result: IteratorResult<T>): void
  onBatch(batch: T[] | undefined): void
  onReadError(err: unknown): void
}

/** Tears a lower duplex down without letting its failure escape. */
export function safeAbort<T> (duplex: StageDuplex<T>, err: Error): void {
  try {
    duplex.abort?.(err)
  } catch {
    // the lower stage's abort failing leaves nothing more we can do
  }
}

/** Turns anything thrown into an `Error`. */
export function toError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err), { cause: err })
}

export const noop = (): void => {}
