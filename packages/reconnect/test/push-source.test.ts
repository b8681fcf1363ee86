import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { PushSinkable, PushSource, PushTarget, SinkWatcher, StageDuplex } from '@proto/interface'
import { pushable } from '@proto/interface'
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

  it("acts on the source's end or failure from a microtask, never within the call that told it", async () => {
    const conn = pushingConnection()
    const link = reconnect<number>(async () => conn.lower, { delay: () => 1 })
    await connected(link)
    const seen: string[] = []
    link.addEventListener('disconnected', (e) => { seen.push(e.detail.reason) })
    conn.target?.end(new Error('reset'))
    expect(seen).toEqual([]) // a failing stage may still be queueing its GOAWAY
    await Promise.resolve()
    expect(seen).toEqual(['read-error'])
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
    await Promise.resolve() // acted on from a microtask
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

/** A connection whose sink takes pushes (`sinkPush`): it subscribes to the feed and records the batches; it asks to wait while `accepting` is false. */
function pushSinkConnection (): { lower: StageDuplex<number> & PushSinkable<number>, got: number[][], ends: Array<Error | undefined>, watcher: SinkWatcher | undefined, feed: PushSource<number> | undefined, accepting: boolean } {
  const conn = {
    got: [] as number[][],
    ends: [] as Array<Error | undefined>,
    watcher: undefined as SinkWatcher | undefined,
    feed: undefined as PushSource<number> | undefined,
    accepting: true,
    lower: undefined as unknown as StageDuplex<number> & PushSinkable<number>
  }
  conn.lower = {
    source: { [Symbol.asyncIterator]: () => ({ next: async () => await new Promise<never>(() => {}) }) },
    sink: async () => { throw new Error('sink() called although sinkPush() exists') },
    sinkPush (feed: PushSource<number>, watcher: SinkWatcher): void {
      conn.feed = feed
      conn.watcher = watcher
      feed.subscribe({
        push: (items: number[]) => { conn.got.push([...items]); return conn.accepting },
        end: (err?: Error) => { conn.ends.push(err) }
      })
    }
  }
  return conn
}

describe('a connection sink that takes pushes', () => {
  it('is written with sinkPush: the feed pushes what is buffered, holds back while the sink asks to wait, and ends once writing ended', async () => {
    const conn = pushSinkConnection()
    const link = reconnect<number>(async () => conn.lower)
    await connected(link)
    const out = pushable<number>()
    const writing = link.sink(out)
    out.push(1)
    out.push(2)
    await new Promise(resolve => setImmediate(resolve))
    expect(conn.got.flat()).toEqual([1, 2])
    conn.accepting = false
    out.push(3)
    await new Promise(resolve => setImmediate(resolve))
    out.push(4)
    out.push(5)
    await new Promise(resolve => setImmediate(resolve))
    expect(conn.got.flat()).toEqual([1, 2, 3]) // 4 and 5 wait in the outbox
    expect(link.stats().buffered).toBe(2)
    conn.accepting = true
    conn.feed?.resume()
    expect(conn.got.flat()).toEqual([1, 2, 3, 4, 5])
    out.end()
    await new Promise(resolve => setImmediate(resolve))
    expect(conn.ends).toEqual([undefined])
    conn.watcher?.onSinkEnd() // the connection finished writing
    await writing
    expect(link.stats()).toMatchObject({ accepted: 5, handed: 5 })
    await link.close()
  })

  it('its sink is never read: a stage makes its bound sink on first read and keeps it for the connection\'s life', async () => {
    const conn = pushSinkConnection()
    let reads = 0
    const { sink: _sink, ...rest } = conn.lower
    const lower = Object.defineProperty(rest, 'sink', { get: () => { reads++; return async () => {} } }) as typeof conn.lower
    const link = reconnect<number>(async () => lower)
    await connected(link)
    const writing = link.sink([1, 2])
    await new Promise(resolve => setImmediate(resolve))
    expect(conn.got.flat()).toEqual([1, 2])
    conn.watcher?.onSinkEnd()
    await writing
    expect(reads).toBe(0)
    await link.close()
  })

  it("a failure of the sink reaches reconnect through the watcher: an outage, and the next connection's feed is pushed to", async () => {
    const conns = [pushSinkConnection(), pushSinkConnection()]
    let dials = 0
    const link = reconnect<number>(async () => (conns[dials++] as ReturnType<typeof pushSinkConnection>).lower, { delay: () => 1 })
    await connected(link)
    const again = connected(link)
    conns[0]?.watcher?.onSinkEnd(new Error('write failed'))
    await again
    const writing = link.sink([7, 8])
    await new Promise(resolve => setImmediate(resolve))
    expect(conns[1]?.got.flat()).toEqual([7, 8])
    expect(conns[0]?.ends).toEqual([undefined]) // released: told the end
    conns[1]?.watcher?.onSinkEnd()
    await writing
    await link.close()
  })
})

describe('the last error, kept for stats()', () => {
  it("does not keep the lost connection's objects alive through the frames its stack was captured in", async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    /** A stage of the connection: the error is made in one of its methods, so it is `this` of a captured frame. */
    class Stage {
      readonly ballast = new Uint8Array(1024)
      fail (): Error { return new Error('reset') }
    }
    /** Fails the connection with an error made by a stage nothing else holds; returns a weak reference to the stage. */
    const failFromStage = (conn: PushingConnection): WeakRef<Stage> => {
      const stage = new Stage()
      conn.target?.end(stage.fail())
      return new WeakRef(stage)
    }
    const conns = [pushingConnection(), pushingConnection()]
    let dials = 0
    const link = reconnect<number>(async () => (conns[dials++] as PushingConnection).lower, { delay: () => 1 })
    await connected(link)
    const again = connected(link)
    const gone = failFromStage(conns[0] as PushingConnection)
    await again
    expect(link.stats().lastError?.message).toBe('reset')
    for (let i = 0; i < 3 && gone.deref() !== undefined; i++) {
      await new Promise(resolve => setImmediate(resolve))
      gc()
    }
    expect(gone.deref()).toBeUndefined()
    await link.close()
  })
})
