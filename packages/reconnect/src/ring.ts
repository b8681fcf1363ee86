/**
 * A growable FIFO ring of items with their sizes in bytes: push at the tail, shift at the head, read any
 * position, and the totals (items, bytes) kept as it changes.
 */
export class Ring<T> {
  private items: Array<T | undefined> = new Array(16)
  private sizes: number[] = new Array(16).fill(0)
  private head = 0
  private count = 0
  private bytes = 0

  get length (): number { return this.count }
  get byteLength (): number { return this.bytes }

  push (item: T, size: number): void {
    if (this.count === this.items.length) this.grow()
    const i = (this.head + this.count) & (this.items.length - 1)
    this.items[i] = item
    this.sizes[i] = size
    this.count++
    this.bytes += size
  }

  /** Removes and returns the oldest item; call only when `length > 0`. */
  shift (): T {
    const i = this.head
    const item = this.items[i] as T
    this.items[i] = undefined
    this.bytes -= this.sizes[i]
    this.head = (i + 1) & (this.items.length - 1)
    this.count--
    return item
  }

  /** The size of the oldest item; call only when `length > 0`. */
  headSize (): number {
    return this.sizes[this.head]
  }

  /** The item at `index` from the head; call only with `index < length`. */
  at (index: number): T {
    return this.items[(this.head + index) & (this.items.length - 1)] as T
  }

  /** Empties the ring and returns how many items it held. */
  clear (): number {
    const n = this.count
    while (this.count > 0) this.shift()
    return n
  }

  private grow (): void {
    const cap = this.items.length * 2
    const items: Array<T | undefined> = new Array(cap)
    const sizes: number[] = new Array(cap).fill(0)
    for (let k = 0; k < this.count; k++) {
      const j = (this.head + k) & (this.items.length - 1)
      items[k] = this.items[j]
      sizes[k] = this.sizes[j]
    }
    this.items = items
    this.sizes = sizes
    this.head = 0
  }
}
