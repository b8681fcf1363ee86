import type { PushSource, PushTarget } from '@proto/interface'
import { SourceError } from '@proto/interface'
import { describe, expect, it } from 'vitest'
import type { Taker } from '../src/read-source.js'
import { SourceReader } from '../src/read-source.js'

const turn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

/** A taker that records what it is offered; it makes the reader wait while `room` is a pending promise. */
function taker (): Taker<number> & { got: Array<number | number[]>, ends: unknown[], room: Promise<void> | undefined, refuse: Error | undefined } {
  const t = {
    got: [] as Array<number | number[]>,
    ends: [] as unknown[],
    room: undefined as Promise<void> | undefined,
    refuse: undefined as Error | undefined,
    offer (item: number): Promise<void> | undefined {
      if (t.refuse !== undefined) throw t.refuse
      t.got.push(item)
      return t.room
    },
    offerBatch (items: number[]): Promise<void> | undefined {
      if (t.refuse !== undefined) throw t.refuse
      t.got.push(items)
      return t.room
    },
    readEnded (err?: unknown): void { t.ends.push(err) }
  }
  return t
}

/** A gate: `wait` is pending until `open()`. */
function gate (): { wait: Promise<void>, open(): void } {
  let open!: () => void
  const wait = new Promise<void>((resolve) => { open = resolve })
  return { wait, open }
}

describe("reading a user's source into reconnect's intake", () => {
  it('a synchronous iterable: pulled while its items are placed at once, held while one waits for room, ended from a microtask', async () => {
    const t = taker()
    const g = gate()
    t.room = g.wait
    let pulled = 0
    const source = { * [Symbol.iterator] () { for (let i = 0; i < 4; i++) { pulled++; yield i } } }
    new SourceReader<number>(source, t).start()
    expect(t.got).toEqual([0])
    expect(pulled).toBe(1) // the next item is not pulled while the first waits for room
    t.room = undefined
    g.open()
    await turn()
    expect(t.got).toEqual([0, 1, 2, 3])
    expect(t.ends).toEqual([undefined])

    const empty = taker()
    new SourceReader<number>([], empty).start()
    expect(empty.ends).toEqual([]) // never from within the call that started it (the user's sink())
    await Promise.resolve()
    expect(empty.ends).toEqual([undefined])
  })

  it('an async iterator: one next() per item; its failure comes out as a SourceError after the items before it', async () => {
    const t = taker()
    const boom = new Error('producer broke')
    async function * gen (): AsyncGenerator<number> { yield 1; yield 2; throw boom }
    new SourceReader<number>(gen(), t).start()
    await turn()
    expect(t.got).toEqual([1, 2])
    expect(t.ends).toHaveLength(1)
    expect(t.ends[0]).toBeInstanceOf(SourceError)
    expect((t.ends[0] as SourceError).error).toBe(boom)
  })

  it('a batch iterator: whole batches, never next(); an empty batch stops it with InvalidParametersError and releases it', async () => {
    const t = taker()
    const batches: Array<number[] | undefined> = [[1, 2, 3], [4], []]
    let nexts = 0
    let returned = 0
    const it = {
      [Symbol.asyncIterator] () { return it },
      async next (): Promise<IteratorResult<number>> { nexts++; return { done: true, value: undefined } },
      async nextBatch (): Promise<number[] | undefined> { return batches.shift() },
      async return (): Promise<IteratorResult<number>> { returned++; return { done: true, value: undefined } }
    }
    new SourceReader<number>(it, t).start()
    await turn()
    expect(t.got).toEqual([[1, 2, 3], 4])
    expect(nexts).toBe(0)
    expect(returned).toBe(1)
    expect(t.ends[0]).toBeInstanceOf(SourceError)
    expect((t.ends[0] as SourceError).error).toMatchObject({ name: 'InvalidParametersError' })
  })

  it("the taker's refusal stops the source (its return() is called) and comes out as it is, also after a wait", async () => {
    const refused = new RangeError('no')
    for (const when of ['at once', 'after a wait'] as const) {
      const t = taker()
      let returned = 0
      let i = 0
      const it = {
        [Symbol.asyncIterator] () { return it },
        async next (): Promise<IteratorResult<number>> { return { done: false, value: i++ } },
        async return (): Promise<IteratorResult<number>> { returned++; return { done: true, value: undefined } }
      }
      if (when === 'at once') t.refuse = refused
      else t.room = Promise.reject(refused)
      new SourceReader<number>(it, t).start()
      await turn()
      expect(t.ends).toEqual([refused])
      expect(returned).toBe(1)
    }
  })

  it('a hand-written iterator that answers next() with a plain value is read as `for await` would read it', async () => {
    const t = taker()
    let i = 0
    const it = {
      [Symbol.asyncIterator] () { return it },
      next: (): IteratorResult<number> => i < 3 ? { done: false, value: i++ } : { done: true, value: undefined }
    }
    new SourceReader<number>(it as unknown as AsyncIterable<number>, t).start()
    await turn()
    expect(t.got).toEqual([0, 1, 2])
    expect(t.ends).toEqual([undefined])
  })

  it('a malformed result ends the reading with its error and releases the source, with no unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (err: unknown): void => { unhandled.push(err) }
    process.on('unhandledRejection', onUnhandled)
    try {
      for (const kind of ['async', 'sync'] as const) {
        const t = taker()
        let returned = 0
        const g = gate()
        if (kind === 'sync') t.room = g.wait // the malformed result comes after a wait for room
        let calls = 0
        const it = {
          next: () => {
            calls++
            const r = calls === 1 ? { done: false, value: 7 } : undefined
            return kind === 'async' ? Promise.resolve(r) : r
          },
          return: () => { returned++; return { done: true, value: undefined } }
        }
        const source: Record<symbol, unknown> = {}
        if (kind === 'async') source[Symbol.asyncIterator] = () => it
        else source[Symbol.iterator] = () => it
        new SourceReader<number>(source as unknown as Iterable<number>, t).start()
        t.room = undefined
        g.open()
        await turn()
        expect(t.got).toEqual([7])
        expect(t.ends).toHaveLength(1)
        expect(t.ends[0]).toBeInstanceOf(TypeError)
        expect(returned).toBe(1)
      }
      await turn()
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('a source whose iterator cannot be made is a source that throws: it ends with that error as the source\'s (the duplex is aborted with it), later', async () => {
    for (const key of [Symbol.asyncIterator, Symbol.iterator]) {
      const t = taker()
      const bad = new Error('no iterator')
      const source = { [key] (): never { throw bad } } as unknown as AsyncIterable<number>
      new SourceReader<number>(source, t).start()
      expect(t.ends).toEqual([])
      await new Promise(resolve => setImmediate(resolve))
      expect(t.ends).toHaveLength(1)
      expect(t.ends[0]).toBeInstanceOf(SourceError)
      expect((t.ends[0] as SourceError).error).toBe(bad)
    }
  })
})

describe('a user source that pushes', () => {
  /** A source that pushes to its subscriber; reading it would be a bug here. */
  function pushing (): AsyncIterator<number> & PushSource<number> & { target: PushTarget<number> | undefined, resumes: number, returned: number } {
    const p = {
      target: undefined as PushTarget<number> | undefined,
      resumes: 0,
      returned: 0,
      async next (): Promise<IteratorResult<number>> { throw new Error('a source that pushes is not read') },
      async return (): Promise<IteratorResult<number>> { p.returned++; return { done: true, value: undefined } },
      subscribe (target: PushTarget<number>): void { p.target = target },
      resume (): void { p.resumes++ }
    }
    return p
  }

  it('is subscribed to: each batch is placed in the call that brought it, and the source waits while one waits for room', async () => {
    const t = taker()
    const src = pushing()
    new SourceReader<number>({ [Symbol.asyncIterator]: () => src }, t).start()
    expect(src.target).toBeDefined()
    expect(src.target?.push([1, 2])).toBe(true)
    expect(src.target?.push([3])).toBe(true)
    expect(t.got).toEqual([[1, 2], 3])
    const g = gate()
    t.room = g.wait
    expect(src.target?.push([4, 5])).toBe(false) // placed once there is room: wait
    t.room = undefined
    expect(src.resumes).toBe(0)
    g.open()
    await turn()
    expect(src.resumes).toBe(1)
    src.target?.end()
    await turn()
    expect(t.ends).toEqual([undefined])
  })

  it('its failure ends the reading with a SourceError; a refusal by the taker stops the source', async () => {
    const t = taker()
    const src = pushing()
    new SourceReader<number>({ [Symbol.asyncIterator]: () => src }, t).start()
    const boom = new Error('upstream reset')
    src.target?.end(boom)
    expect(t.ends).toHaveLength(1)
    expect(t.ends[0]).toBeInstanceOf(SourceError)
    expect((t.ends[0] as SourceError).error).toBe(boom)

    const t2 = taker()
    const src2 = pushing()
    new SourceReader<number>({ [Symbol.asyncIterator]: () => src2 }, t2).start()
    const refused = new Error('closed')
    t2.refuse = refused
    expect(src2.target?.push([1])).toBe(false)
    expect(t2.ends).toEqual([refused])
    expect(src2.returned).toBe(1)
  })

  it('a source that refuses a subscriber is read instead', async () => {
    const t = taker()
    const items = [1, 2]
    const src = {
      async next (): Promise<IteratorResult<number>> { const v = items.shift(); return v === undefined ? { done: true, value: undefined } : { done: false, value: v } },
      subscribe (): void { throw new Error('read from before') },
      resume (): void {}
    }
    new SourceReader<number>({ [Symbol.asyncIterator]: () => src }, t).start()
    for (let i = 0; i < 5 && t.ends.length === 0; i++) await turn()
    expect(t.got).toEqual([1, 2])
    expect(t.ends).toEqual([undefined])
  })
})
