/** The storage of every ring that never held an item: an idle session's rings cost no arrays (0.6 KiB for the two of an outbox). */
const NONE: never[] = []

/** The capacity a ring grows to from none; then it doubles. */
const FIRST_CAPACITY = 16

/**
 * A growable FIFO ring of items with their sizes in bytes: push at the tail, shift at the head, read any
 * position, and the totals (items, bytes) kept as it changes. Its arrays are made with the first item.
 */
export class Ring<T> {
  private items: Array<T | undefined> = NONE
  private sizes: number[] = NONE
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

  /** Appends `count` items of `items` from `from` on, their sizes in `sizes` (same positions), `bytes` in all: one step. */
  pushRun (items: readonly T[], sizes: readonly number[], from: number, count: number, bytes: number): void {
    while (this.count + count > this.items.length) this.grow()
    const mask = this.items.length - 1
    let i = (this.head + this.count) & mask
    for (let k = from, end = from + count; k < end; k++) {
      this.items[i] = items[k]
      this.sizes[i] = sizes[k]
      i = (i + 1) & mask
    }
    this.count += count
    this.bytes += bytes
  }

  /**
   * Removes the `count` oldest items (call only with `count <= length`), appending them to `out` and, when
   * given, to `to` with their sizes: one step for a run handed on.
   */
  shiftRun (count: number, out: T[], to?: Ring<T>): void {
    const items = this.items
    const sizes = this.sizes
    const mask = items.length - 1
    let i = this.head
    let o = out.length
    let bytes = 0
    if (to === undefined) {
      for (let k = 0; k < count; k++) {
        out[o++] = items[i] as T
        bytes += sizes[i]
        items[i] = undefined
        i = (i + 1) & mask
      }
    } else {
      while (to.count + count > to.items.length) to.grow()
      const toItems = to.items
      const toSizes = to.sizes
      const toMask = toItems.length - 1
      let j = (to.head + to.count) & toMask
      for (let k = 0; k < count; k++) {
        const item = items[i] as T
        const size = sizes[i]
        out[o++] = item
        toItems[j] = item
        toSizes[j] = size
        bytes += size
        items[i] = undefined
        i = (i + 1) & mask
        j = (j + 1) & toMask
      }
      to.count += count
      to.bytes += bytes
    }
    this.head = i
    this.count -= count
    this.bytes -= bytes
  }

  /**
   * How many of the oldest items (from `index` on), at most `max`, fit in `roomItems` more items and
   * `roomBytes` more bytes; with `firstAlways` the first of them counts whatever its size.
   */
  fitting (max: number, roomItems: number, roomBytes: number, firstAlways: boolean, index = 0): number {
    const limit = Math.min(max, this.count - index, roomItems)
    const mask = this.items.length - 1
    let bytes = 0
    let n = 0
    for (let i = (this.head + index) & mask; n < limit; n++, i = (i + 1) & mask) {
      bytes += this.sizes[i]
      if (bytes > roomBytes && !(firstAlways && n === 0)) break
    }
    return n
  }

  /** Appends the items from `index` on, at most `max`, to `out` (they stay in the ring). */
  copyRun (index: number, max: number, out: T[]): number {
    const n = Math.min(max, this.count - index)
    const mask = this.items.length - 1
    for (let k = 0, i = (this.head + index) & mask; k < n; k++, i = (i + 1) & mask) out.push(this.items[i] as T)
    return n
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

  /** Removes the `count` oldest items (call only with `count <= length`); returns their bytes. One pass, no item returned. */
  dropRun (count: number): number {
    const items = this.items
    const sizes = this.sizes
    const mask = items.length - 1
    let i = this.head
    let bytes = 0
    for (let k = 0; k < count; k++) {
      items[i] = undefined
      bytes += sizes[i]
      i = (i + 1) & mask
    }
    this.head = i
    this.count -= count
    this.bytes -= bytes
    return bytes
  }

  /** The size of the oldest item; call only when `length > 0`. */
  headSize (): number {
    return this.sizes[this.head]
  }

  /** The size of the item at `index` from the head; call only with `index < length`. */
  sizeAt (index: number): number {
    return this.sizes[(this.head + index) & (this.items.length - 1)]
  }

  /** The bytes of the `count` oldest items. */
  bytesOf (count: number): number {
    const mask = this.items.length - 1
    let bytes = 0
    for (let k = 0, i = this.head; k < count; k++, i = (i + 1) & mask) bytes += this.sizes[i]
    return bytes
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

  /** Doubles the capacity (from none to `FIRST_CAPACITY`), the items moved to the front. */
  private grow (): void {
    const cap = Math.max(FIRST_CAPACITY, this.items.length * 2)
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
