import { describe, expect, it } from 'vitest'
import { Ring } from '../src/ring.js'

function contents<T> (ring: Ring<T>): T[] {
  const out: T[] = []
  ring.copyRun(0, ring.length, out)
  return out
}

describe('Ring', () => {
  it('answers every question while it has never held an item', () => {
    const ring = new Ring<string>()
    expect(ring.length).toBe(0)
    expect(ring.byteLength).toBe(0)
    expect(ring.fitting(10, 10, 100, true)).toBe(0)
    expect(ring.copyRun(0, 5, [])).toBe(0)
    const out: string[] = []
    const to = new Ring<string>()
    ring.shiftRun(0, out, to)
    ring.shiftRun(0, out)
    expect(out).toEqual([])
    expect(to.length).toBe(0)
    expect(ring.clear()).toBe(0)
  })

  it('keeps order and byte totals across growth and wrap-around, from empty', () => {
    const ring = new Ring<number>()
    let next = 0
    let oldest = 0
    // push and shift unevenly so the head wraps while the ring grows past its first capacity
    for (let round = 0; round < 40; round++) {
      for (let k = 0; k < 3; k++) { ring.push(next, next % 7); next++ }
      expect(ring.shift()).toBe(oldest++)
    }
    expect(ring.length).toBe(next - oldest)
    expect(contents(ring)).toEqual(Array.from({ length: next - oldest }, (_, i) => oldest + i))
    let bytes = 0
    for (let v = oldest; v < next; v++) bytes += v % 7
    expect(ring.byteLength).toBe(bytes)
    expect(ring.headSize()).toBe(oldest % 7)
    expect(ring.at(5)).toBe(oldest + 5)
  })

  it('moves runs between rings, the receiving one made on demand', () => {
    const from = new Ring<string>()
    from.pushRun(['a', 'b', 'c', 'd', 'e'], [1, 2, 3, 4, 5], 1, 3, 9)
    expect(contents(from)).toEqual(['b', 'c', 'd'])
    expect(from.byteLength).toBe(9)
    const to = new Ring<string>()
    const out: string[] = []
    from.shiftRun(2, out, to)
    expect(out).toEqual(['b', 'c'])
    expect(contents(to)).toEqual(['b', 'c'])
    expect(to.byteLength).toBe(5)
    expect(from.length).toBe(1)
    expect(from.byteLength).toBe(4)
    expect(from.fitting(5, 5, 3, true)).toBe(1) // the oldest counts whatever its size
    expect(from.fitting(5, 5, 3, false)).toBe(0)
    expect(to.clear()).toBe(2)
    expect(to.byteLength).toBe(0)
  })

  it('drops runs of the oldest items across wrap-around: their bytes returned, the order and totals kept', () => {
    const ring = new Ring<number>()
    ring.dropRun(0)
    let next = 0
    let oldest = 0
    for (let round = 0; round < 30; round++) {
      for (let k = 0; k < 5; k++) { ring.push(next, next % 5 + 1); next++ }
      const drop = round % 4 + 1
      let bytes = 0
      for (let v = oldest; v < oldest + drop; v++) bytes += v % 5 + 1
      expect(ring.dropRun(drop)).toBe(bytes)
      oldest += drop
    }
    expect(contents(ring)).toEqual(Array.from({ length: next - oldest }, (_, i) => oldest + i))
    let left = 0
    for (let v = oldest; v < next; v++) left += v % 5 + 1
    expect(ring.byteLength).toBe(left)
    expect(ring.dropRun(ring.length)).toBe(left)
    expect(ring.length).toBe(0)
    expect(ring.byteLength).toBe(0)
  })
})
