/** An async source the test feeds by hand: `push` items, then `end()`. Unbounded: for tests only. */
export interface Pushable<T> extends AsyncIterable<T> {
  push(...items: T[]): void
  end(): void
  /** Items handed to the consumer so far. */
  readonly pulled: number
}

export function pushable<T> (): Pushable<T> {
  const queue: T[] = []
  let ended = false
  let pulled = 0
  let wake: (() => void) | undefined
  const notify = (): void => { const w = wake; wake = undefined; w?.() }
  return {
    push (...items) { queue.push(...items); notify() },
    end () { ended = true; notify() },
    get pulled () { return pulled },
    async* [Symbol.asyncIterator] () {
      for (;;) {
        if (queue.length > 0) {
          pulled++
          yield queue.shift() as T
          continue
        }
        if (ended) return
        await new Promise<void>((resolve) => { wake = resolve })
      }
    }
  }
}
