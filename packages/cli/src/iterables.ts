import { DONE, isBatchIterator, onAbortOf } from '@proto/interface'

/** Resolves when `signal` aborts; `dispose()` removes the listener (call it when the owner is done). */
export interface AbortWatch {
  readonly promise: Promise<void>
  readonly aborted: () => boolean
  dispose(): void
}

export function watchAbort (signal: AbortSignal): AbortWatch {
  let onAbort = (): void => {}
  const promise = new Promise<void>((resolve) => { onAbort = resolve })
  let dispose = (): void => {}
  // one listener per connection on the server's signal, each removed with its connection
  if (signal.aborted) onAbort()
  else dispose = onAbortOf(signal, onAbort)
  return { promise, aborted: () => signal.aborted, dispose }
}

/**
 * `source`, ending as soon as `stop` resolves (a pending read is abandoned, not awaited). Keeps
 * `nextBatch()` when the source offers it, so batches pass straight through; each read costs one
 * `Promise.race`.
 */
export function until<T> (source: AsyncIterable<T>, stop: Promise<void>): AsyncIterable<T> {
  const it = source[Symbol.asyncIterator]()
  let stopped = false
  const stopping = stop.then(() => { stopped = true; return undefined })
  const out: AsyncIterableIterator<T> & { nextBatch?: () => Promise<T[] | undefined> } = {
    [Symbol.asyncIterator]: () => out,
    next: async () => stopped ? DONE : (await Promise.race([it.next(), stopping])) ?? DONE
  }
  if (isBatchIterator<T>(it)) out.nextBatch = async () => stopped ? undefined : await Promise.race([it.nextBatch(), stopping])
  return out
}

/** A source with nothing in it that ends when `stop` resolves: the sink it feeds then finishes (FIN). */
export function emptyUntil (stop: Promise<void>): AsyncIterable<never> {
  const ended = stop.then(() => DONE as IteratorResult<never>)
  return { [Symbol.asyncIterator]: () => ({ next: async () => await ended }) }
}

/**
 * `source`, ending cleanly where it would throw an error for which `isEnd(err)` holds (any other error
 * passes through). Keeps `nextBatch()` when the source offers it.
 */
export function endOn<T> (source: AsyncIterable<T>, isEnd: (err: unknown) => boolean): AsyncIterable<T> {
  const it = source[Symbol.asyncIterator]()
  const out: AsyncIterableIterator<T> & { nextBatch?: () => Promise<T[] | undefined> } = {
    [Symbol.asyncIterator]: () => out,
    next: async () => {
      try {
        return await it.next()
      } catch (err) {
        if (isEnd(err)) return DONE
        throw err
      }
    }
  }
  if (isBatchIterator<T>(it)) {
    out.nextBatch = async () => {
      try {
        return await it.nextBatch()
      } catch (err) {
        if (isEnd(err)) return undefined
        throw err
      }
    }
  }
  return out
}
