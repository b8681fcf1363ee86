/**
 * A bounded outbox: `push` queues an item for a connection's sink, which iterates the mailbox. A full
 * mailbox refuses the item (the caller decides: a chat server drops a member that cannot keep up).
 */
export class Mailbox<T> implements AsyncIterable<T> {
  private readonly items: T[] = []
  private waiting: ((result: IteratorResult<T>) => void) | undefined
  private ended = false

  constructor (private readonly capacity: number) {}

  /** Queues `item`; false when the mailbox is full or ended. */
  push (item: T): boolean {
    if (this.ended || this.items.length >= this.capacity) return false
    const w = this.waiting
    if (w !== undefined) {
      this.waiting = undefined
      w({ done: false, value: item })
    } else {
      this.items.push(item)
    }
    return true
  }

  /** No more items: the iterator ends once the queued ones are taken. Idempotent. */
  end (): void {
    this.ended = true
    const w = this.waiting
    this.waiting = undefined
    w?.({ done: true, value: undefined })
  }

  get size (): number {
    return this.items.length
  }

  [Symbol.asyncIterator] (): AsyncIterator<T> {
    return {
      next: async () => {
        if (this.items.length > 0) return { done: false, value: this.items.shift() as T }
        if (this.ended) return { done: true, value: undefined }
        return await new Promise<IteratorResult<T>>((resolve) => { this.waiting = resolve })
      },
      return: async () => {
        this.end()
        this.items.length = 0
        return { done: true, value: undefined }
      }
    }
  }
}
