import { describe, expect, it } from 'vitest'
import { isBatchIterator, pushable } from '../src/index.js'

async function settle<T> (p: Promise<T>): Promise<{ ok: true, value: T } | { ok: false, error: any }> {
  try { return { ok: true, value: await p } } catch (error) { return { ok: false, error } }
}

describe('pushable(): a bounded queue whose iterator offers nextBatch()', () => {
  it('nextBatch() agrees with next(): same items, same order, mixed freely, never an empty batch, undefined only at the end', async () => {
    const p = pushable<number>({ maxItems: 16 })
    const it = p[Symbol.asyncIterator]()
    expect(isBatchIterator(it)).toBe(true)
    const received: number[] = []
    const sizes: number[] = []
    const producing = (async () => {
      for (let i = 0; i < 200; i++) {
        if (p.room === 0) await p.onRoom()
        p.push(i)
        if (i % 7 === 0) await new Promise(resolve => setImmediate(resolve))
      }
      p.end()
    })()
    for (let step = 0; ; step++) {
      if (step % 3 === 1) {
        const r = await it.next()
        if (r.done === true) break
        received.push(r.value)
      } else {
        const batch = await it.nextBatch()
        if (batch === undefined) break
        sizes.push(batch.length)
        received.push(...batch)
      }
    }
    await producing
    expect(received).toEqual(Array.from({ length: 200 }, (_, i) => i))
    expect(sizes.filter(n => n === 0)).toEqual([])
    expect(Math.max(...sizes)).toBeGreaterThan(1)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16)
    expect(await it.nextBatch()).toBeUndefined()
    expect((await it.next()).done).toBe(true)
  })

  it('hands everything queued in one batch, and a waiting read the next item pushed', async () => {
    const p = pushable<string>()
    p.push('a')
    p.push('b')
    p.push('c')
    const it = p[Symbol.asyncIterator]()
    expect(await it.next()).toEqual({ done: false, value: 'a' })
    expect(await it.nextBatch()).toEqual(['b', 'c'])
    const waiting = it.nextBatch()
    p.push('d')
    expect(await waiting).toEqual(['d'])
    const waitingItem = it.next()
    p.push('e')
    expect(await waitingItem).toEqual({ done: false, value: 'e' })
    expect(p.length).toBe(0)
  })

  it('is bounded: push() past maxItems throws PushableFullError; onRoom() resolves once the queue is down to half', async () => {
    const p = pushable<number>({ maxItems: 4 })
    for (let i = 0; i < 4; i++) p.push(i)
    expect(p.room).toBe(0)
    expect(() => { p.push(4) }).toThrow(expect.objectContaining({ name: 'PushableFullError' }))
    let roomy = false
    const room = p.onRoom().then(() => { roomy = true })
    const it = p[Symbol.asyncIterator]()
    await it.next()
    await Promise.resolve()
    expect(roomy).toBe(false) // 3 queued: more than half
    await it.next()
    await room
    expect(p.length).toBe(2)
    expect(p.room).toBe(2)
    await p.onRoom() // at once: already at half
  })

  it('onRoom() rejects with the signal\'s reason when it aborts first', async () => {
    const p = pushable<number>({ maxItems: 2 })
    p.push(1)
    p.push(2)
    const controller = new AbortController()
    const waiting = settle(p.onRoom({ signal: controller.signal }))
    const reason = new Error('gave up')
    controller.abort(reason)
    const r = await waiting
    expect(r.ok ? undefined : r.error).toBe(reason)
  })

  it('end() hands what is queued first; end(err) then rejects once, and the end follows', async () => {
    const p = pushable<number>()
    p.push(1)
    p.push(2)
    const boom = new Error('producer failed')
    p.end(boom)
    expect(p.ended).toBe(true)
    expect(() => { p.push(3) }).toThrow(expect.objectContaining({ name: 'PushableEndedError' }))
    const it = p[Symbol.asyncIterator]()
    expect(await it.nextBatch()).toEqual([1, 2])
    const r = await settle(it.nextBatch())
    expect(r.ok ? undefined : r.error).toBe(boom)
    expect(await it.nextBatch()).toBeUndefined()

    const q = pushable<number>()
    const qi = q[Symbol.asyncIterator]()
    const waiting = settle(qi.next())
    q.end(boom)
    const w = await waiting
    expect(w.ok ? undefined : w.error).toBe(boom)
    expect((await qi.next()).done).toBe(true)
  })

  it('a consumer that stops (return()) drops what is queued; push() throws from then on; a waiting producer is released', async () => {
    const p = pushable<number>({ maxItems: 2 })
    p.push(1)
    p.push(2)
    const waiting = p.onRoom()
    const it = p[Symbol.asyncIterator]()
    await it.return?.()
    await waiting
    expect(p.length).toBe(0)
    expect(() => { p.push(3) }).toThrow(expect.objectContaining({ name: 'PushableEndedError' }))
    expect(await it.nextBatch()).toBeUndefined()
  })

  it('refuses a bad maxItems at once with InvalidParametersError', () => {
    for (const maxItems of [0, -1, 1.5, Number.NaN, Infinity]) {
      expect(() => pushable({ maxItems })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    }
  })
})

describe('pushable(): one consumer, bounded waiters', () => {
  it('a second read while one waits is refused with InvalidParametersError; the first is answered', async () => {
    const p = pushable<string>()
    const it = p[Symbol.asyncIterator]()
    const first = it.next()
    await expect(it.nextBatch()).rejects.toMatchObject({ name: 'InvalidParametersError' })
    await expect(it.next()).rejects.toMatchObject({ name: 'InvalidParametersError' })
    p.push('a')
    expect(await first).toEqual({ done: false, value: 'a' })
  })

  it('an onRoom() whose signal aborted leaves no waiter behind: a producer polling with a timeout does not pile them up', async () => {
    const p = pushable<number>({ maxItems: 4 })
    for (let i = 0; i < 4; i++) p.push(i)
    for (let i = 0; i < 1_000; i++) {
      const controller = new AbortController()
      const waiting = p.onRoom({ signal: controller.signal })
      controller.abort(new Error('timed out'))
      await expect(waiting).rejects.toThrow('timed out')
    }
    // the queue's own list of waiters (not public): empty again
    expect((p as unknown as { roomWaiters: unknown[] }).roomWaiters).toHaveLength(0)
    const room = p.onRoom()
    const it = p[Symbol.asyncIterator]()
    await it.nextBatch()
    await room
  })
})
