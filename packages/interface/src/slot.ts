/**
 * A set of callbacks or watchers kept as none (`undefined`), one (the item itself) or several (an array):
 * most owners have exactly one, and then no array is made (for an object that lives as long as a
 * connection, the array and its spare room cost more than the item). The items must not be arrays.
 */
export type Slot<T> = T | T[] | undefined

/** `slot` with `item` added at the end. */
export function slotAdd<T> (slot: Slot<T>, item: T): Slot<T> {
  if (slot === undefined) return item
  if (Array.isArray(slot)) {
    slot.push(item)
    return slot
  }
  return [slot, item]
}

/** `slot` without the first `item` in it (the same slot if there is none). */
export function slotRemove<T> (slot: Slot<T>, item: T): Slot<T> {
  if (slot === item) return undefined
  if (Array.isArray(slot)) {
    const i = slot.indexOf(item)
    if (i >= 0) slot.splice(i, 1)
  }
  return slot
}

/** Calls `fn` with each item of `slot`, in the order they were added. */
export function slotEach<T> (slot: Slot<T>, fn: (item: T) => void): void {
  if (slot === undefined) return
  if (Array.isArray(slot)) for (const item of slot) fn(item)
  else fn(slot)
}
