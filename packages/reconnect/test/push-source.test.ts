import type { PushSource, PushTarget, StageDuplex } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { describe, expect, it } from 'vitest'
import type { DurableSourceIterator } from '../src/index.js'
import { reconnect } from '../src/index.js'

/** A connection whose source pushes (a session's connection stage does); it counts reads, which must not happen. */
interface PushingConnection {
  lower: StageDuplex<number>
  target: PushTarget<number> | undefined
  resumes: number
  reads: number
  /** Pushes `items`; returns what the subscriber answered. */
  give(...items: number[]): boolean
}

function pushingConnection (): PushingConnection {
  const c: PushingConnection = {
    target: undefined,
    resumes: 0,
    reads: 0,
    give: (...items) => (c.target as PushTarget<number>).push(items),
    lower: undefined as unknown as StageDuplex<number>
  }
  const source: AsyncIterator<number> & PushSource<number> & AsyncIterable<number> = {
    [Symbol.asyncIterator] () { return source },
    async next () { c.reads++; return await new Promise<never>(() => {}) },
    subscribe (target) { c.target = target },
    resume () { c.resumes++ }
  }
  c.lower = { source, sink: async (feed: Source<number>) => { for await (const _ of feed as AsyncIterable<number>) { /* nothing is written */ } } }
  return c
}

const connected = async (link: EventTarget): Promise<void> => {
  await new Promise<void>((resolve) => { link.addEventListener('connected', () => { resolve() }, { once: true }) })
}

describe('a connection source that pushes', () => {
  it('is subscribed to, never read: batches go to a waiting reader at once, and it waits while a batch is held', async () => {
    const conn = pushingConnection()
    const link = reconnect<number>(async () => conn.lower)
    await connected(link)
    expect(conn.target).toBeDefined()
    const it = link.source[Symbol.asyncIterator]() as DurableSourceIterator<number>
    const first = it.next()
    expect(conn.give(1, 2)).toBe(false) // the reader takes one, the other is held: wait
    expect(await first).toEqual({ done: false, value: 1 })
    expect(conn.resumes).toBe(0)
    expect(await it.next()).toEqual({ done: false, value: 2 }) // the held batch is taken: go on
    expect(conn.resumes).toBe(1)
    const batch = it.nextBatch()
    expect(conn.give(3, 4, 5)).toBe(true) // all of it to the waiting reader
    expect(await batch).toEqual([3, 4, 5])
    expect(conn.give(6)).toBe(false)
    expect(await it.nextBatch()).toEqual([6])
    expect(conn.resumes).toBe(2)
    expect(conn.reads).toBe(0)
    await link.close()
  })

  it('keeps a batch pushed while asked to wait after the one held, in order', async () => {
    const conn = pushingConnection()
    const link = reconnect<number>(async () => conn.lower)
    await connected(link)
    expect(conn.give(1)).toBe(false)
    expect(conn.give(2, 3)).toBe(false) // a source that pushes anyway loses nothing
    const it = link.source[Symbol.asyncIterator]() as DurableSourceIterator<number>
    expect(await it.nextBatch()).toEqual([1, 2, 3])
    await link.close()
  })

  it("the source's end ends the durable source with peerEnd: 'end', after what was pushed", async () => {
    const conn = pushingConnection()
    const link = reconnect<number>(async () => conn.lower, { peerEnd: 'end' })
    await connected(link)
    conn.give(7)
    conn.target?.end()
    const got: number[] = []
    for await (const n of link.source) got.push(n)
    expect(got).toEqual([7])
    expect(conn.reads).toBe(0)
    await link.close()
  })

  it("the source's failure is an outage: the next connection is subscribed to, and what the lost one pushes late is counted discarded", async () => {
    const conns = [pushingConnection(), pushingConnection()]
    let dials = 0
    const link = reconnect<number>(async () => (conns[dials++] as PushingConnection).lower, { delay: () => 1 })
    await connected(link)
    const [a, b] = conns as [PushingConnection, PushingConnection]
    const it = link.source[Symbol.asyncIterator]()
    const first = it.next()
    a.give(1)
    expect(await first).toEqual({ done: false, value: 1 })
    const again = connected(link)
    a.target?.end(new Error('reset'))
    await again
    expect(a.give(2, 3)).toBe(false) // too late: not delivered, counted
    expect(link.stats().discardedInbound).toBe(2)
    const next = it.next()
    expect(b.give(4)).toBe(true) // straight to the waiting reader
    expect(await next).toEqual({ done: false, value: 4 })
    expect([a.reads, b.reads]).toEqual([0, 0])
    await link.close()
  })
})

/** A subscriber of the durable source, recording batches; it asks to wait while `accepting` is false. */
function subscriber (): PushTarget<number> & { got: number[][], ends: Array<Error | undefined>, accepting: boolean } {
  const s = {
    got: [] as number[][],
    ends: [] as Array<Error | undefined>,
    accepting: true,
    push (items: number[]): boolean { s.got.push([...items]); return s.accepting },
    end (err?: Error): void { s.ends.push(err) }
  }
  return s
}

describe('a durable source that pushes to its reader', () => {
  it('hands each batch on in the call that brought it; while the reader asks to wait one batch is held and the connection waits', async () => {
    const conn = pushingConnection()
    const link = reconnect<number>(async () => conn.lower)
    await connected(link)
    const source = link.source[Symbol.asyncIterator]() as unknown as PushSource<number>
    const up = subscriber()
    source.subscribe(up)
    expect(conn.give(1, 2)).toBe(true)
    expect(up.got).toEqual([[1, 2]])
    up.accepting = false
    expect(conn.give(3)).toBe(false) // taken, and the reader asks to wait: so does the connection
    expect(conn.give(4, 5)).toBe(false) // pushed anyway: held here
    expect(up.got).toEqual([[1, 2], [3]])
    const resumes = conn.resumes
    up.accepting = true
    source.resume()
    expect(up.got).toEqual([[1, 2], [3], [4, 5]])
    expect(conn.resumes).toBe(resumes + 1)
    expect(conn.reads).toBe(0)
    await link.close()
  })

  it("tells the end after the held batch, with peerEnd: 'end'", async () => {
    const conn = pushingConnection()
    const link = reconnect<number>(async () => conn.lower, { peerEnd: 'end' })
    await connected(link)
    const source = link.source[Symbol.asyncIterator]() as unknown as PushSource<number>
    const up = subscriber()
    up.accepting = false
    source.subscribe(up)
    conn.give(1)
    conn.give(2)
    conn.target?.end()
    expect(up.ends).toEqual([])
    up.accepting = true
    source.resume()
    expect(up.got).toEqual([[1], [2]])
    expect(up.ends).toEqual([undefined])
    await link.close()
  })

  it('refuses a second subscriber, and one while a read waits', async () => {
    const conn = pushingConnection()
    const link = reconnect<number>(async () => conn.lower)
    await connected(link)
    const source = link.source[Symbol.asyncIterator]() as unknown as PushSource<number> & AsyncIterator<number>
    void source.next()
    expect(() => { source.subscribe(subscriber()) }).toThrow(/subscribe\(\) once, with no read pending/)
    await link.close()
  })
})
