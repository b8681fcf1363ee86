import type { Frame } from '@proto/codec'
import { describe, expect, it } from 'vitest'
import { SessionMovedError } from '../src/errors.js'
import { Journal } from '../src/journal.js'
import { data } from './helpers/fake-frames.js'

const bodies = (frames: Frame[] | undefined): number[] | undefined => frames?.map(f => f.body[0])

function journal (restored: Frame[] = [], startAt = 0): { j: Journal, changes: () => number } {
  let changes = 0
  const owner = { outAcked: startAt, changed: () => { changes++ } }
  const j = new Journal(owner, startAt, restored, false)
  j.start()
  return { j, changes: () => changes }
}

describe('the journal of a server session with a durable store', () => {
  it('nextBatch(): the restored frames at once, then each batch the application hands over, everything journaled', async () => {
    const { j } = journal([data(3), data(4)], 2)
    const app = [[data(5), data(6)], [data(7)]]
    j.provide({ [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }), nextBatch: async () => app.shift() }) } as unknown as AsyncIterable<Frame>)
    expect(bodies(await j.nextBatch())).toEqual([3, 4])
    expect(bodies(await j.nextBatch())).toEqual([5, 6])
    expect(bodies(await j.nextBatch())).toEqual([7])
    expect(await j.nextBatch()).toBeUndefined()
    expect(j.written).toBe(7)
    expect(bodies(j.pending())).toEqual([3, 4, 5, 6, 7])
  })

  it('next() on an async generator: one step per item, each journaled as it is taken; next() and nextBatch() mix', async () => {
    const { j, changes } = journal()
    j.provide((async function * () { for (let i = 1; i <= 4; i++) yield data(i) })())
    expect((await j.next()).value.body[0]).toBe(1)
    expect(j.written).toBe(1)
    expect(bodies(await j.nextBatch())).toEqual([2])
    expect((await j.next()).value.body[0]).toBe(3)
    expect((await j.next()).value.body[0]).toBe(4)
    expect((await j.next()).done).toBe(true)
    expect(j.written).toBe(4)
    expect(changes()).toBe(4)
  })

  it('a frame the application hands over after the session moved is not taken: the pull fails with SessionMovedError', async () => {
    const { j } = journal()
    let release = (): void => {}
    j.provide((async function * () { await new Promise<void>((resolve) => { release = resolve }); yield data(1) })())
    const pulled = j.next()
    await new Promise(resolve => setImmediate(resolve))
    j.close(new SessionMovedError('moved'))
    release()
    await expect(pulled).rejects.toThrow(SessionMovedError)
    expect(j.written).toBe(0)
  })

  it('an application source that throws as its iterator is made fails the pull with that error (no throw from provide())', async () => {
    for (const key of [Symbol.asyncIterator, Symbol.iterator]) {
      const { j } = journal()
      const boom = new Error('no iterator')
      expect(() => { j.provide({ [key] () { throw boom } } as unknown as AsyncIterable<Frame>) }).not.toThrow()
      await expect(j.next()).rejects.toBe(boom)
      expect(j.written).toBe(0)
    }
  })
})
