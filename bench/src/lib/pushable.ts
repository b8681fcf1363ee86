/**
 * A one-consumer async queue to feed a duplex's `sink` from outside (echo clients, reply channels).
 * Producers here push one item and wait for its answer, so the queue never holds more than a few items.
 */
export interface Pushable<T> extends AsyncIterable<T> {
  push(item: T): void
  end(): void
}

export function pushable<T> (): Pushable<T> {
  const items: T[] = []
  let ended = false
  let wake: (() => void) | undefined
  const notify = (): void => { const w = wake; wake = undefined; w?.() }
  return {
    push (item: T): void { items.push(item); notify() },
    end (): void { ended = true; notify() },
    async* [Symbol.asyncIterator] (): AsyncGenerator<T> {
      while (true) {
        if (items.length > 0) {
          // hand over everything queued without a wait per item
          const batch = items.splice(0, items.length)
          for (const item of batch) yield item
          continue
        }
        if (ended) return
        await new Promise<void>((resolve) => { wake = resolve })
      }
    }
  }
}
