import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import type { BatchIterator, ByteDuplex, PushSource, PushTarget, SinkWatcher } from '@proto/interface'
import { pushable } from '@proto/interface'
import { heapPerObject } from '@proto/stage-compliance'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { SessionConnection } from '../src/connection.js'
import type { PumpOwner, SessionItem } from '../src/inbound.js'
import { SessionInbound } from '../src/inbound.js'
import type { SessionDuplex, SessionFrames } from '../src/index.js'
import { SESSION_FLAG } from '../src/index.js'
import type { OutboundOwner } from '../src/outbound.js'
import { SessionOutbound } from '../src/outbound.js'
import { SessionSource } from '../src/source.js'
import type { Harness } from './helpers/stack.js'
import { echo, harness, item, num } from './helpers/stack.js'

const turn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }
const ctl = (n: number): Frame => ({ type: 0x05, body: Uint8Array.of(n) })
const label = (f: Frame): string => f.type === 0x40 ? `d${num(f)}` : f.type === 0x06 ? 'ack' : `c${f.body[0]}`

/** A stage as the outbound sees it: numbering hands the frames back, an ACK is due when `ackDue`. */
function owner (): OutboundOwner & { ackDue: boolean, ended: number, failed: Error[] } {
  const o = {
    fenced: false,
    ackDue: false,
    ended: 0,
    failed: [] as Error[],
    number: (items: Frame[]) => items,
    feedEnded: () => { o.ended++ },
    feedFailed: (err: Error) => { o.failed.push(err) },
    ackFrame: (): Frame | undefined => {
      if (!o.ackDue) return undefined
      o.ackDue = false
      return { type: 0x06, body: new Uint8Array(8) }
    }
  }
  return o
}

/** A sink that takes pushes, recording them; it asks to wait while `accepting` is false. */
function recorder (): PushTarget<Frame> & { got: string[], pushes: number, ends: Array<Error | undefined>, accepting: boolean, onPush: (() => void) | undefined } {
  const r = {
    got: [] as string[],
    pushes: 0,
    ends: [] as Array<Error | undefined>,
    accepting: true,
    onPush: undefined as (() => void) | undefined,
    push (frames: Frame[]): boolean {
      r.pushes++
      for (const f of frames) r.got.push(label(f))
      r.onPush?.()
      return r.accepting
    },
    end (err?: Error): void { r.ends.push(err) }
  }
  return r
}

describe("a session connection's outbound pushes to a sink that subscribes", () => {
  it('hands control frames, the due ACK and numbered data over as they become ready, in order', async () => {
    const o = owner()
    const out = new SessionOutbound(o)
    const sink = recorder()
    out.subscribe(sink)
    out.send(ctl(1))
    expect(sink.got).toEqual(['c1']) // in the call that queued it
    const feed = pushable<Frame>()
    out.attach(feed)
    feed.push(item(0))
    feed.push(item(1))
    await turn()
    expect(sink.got).toEqual(['c1', 'd0', 'd1'])
    o.ackDue = true
    out.ack()
    expect(sink.got).toEqual(['c1', 'd0', 'd1', 'ack'])
    feed.push(item(2))
    await turn()
    expect(sink.got).toEqual(['c1', 'd0', 'd1', 'ack', 'd2'])
    feed.end()
    await turn()
    expect(o.ended).toBe(1)
    expect(sink.ends).toEqual([]) // the outbound lives on for ACKs until the stage finishes
    out.finish()
    expect(sink.ends).toEqual([undefined])
  })

  it('holds one numbered batch and stops reading the feed while the sink asks to wait; resume() hands it on', async () => {
    const out = new SessionOutbound(owner())
    const sink = recorder()
    out.subscribe(sink)
    sink.accepting = false
    out.send(ctl(1)) // taken, and now it asks to wait
    const feed = pushable<Frame>()
    out.attach(feed)
    feed.push(item(0))
    await turn()
    feed.push(item(1))
    await turn()
    expect(sink.got).toEqual(['c1'])
    expect(feed.length).toBe(1) // item 1 stays with the producer: one batch is held here, no more is read
    out.resume() // still asking to wait after the next push
    expect(sink.got).toEqual(['c1', 'd0'])
    await turn()
    expect(sink.got).toEqual(['c1', 'd0'])
    expect(feed.length).toBe(0)
    sink.accepting = true
    out.resume()
    expect(sink.got).toEqual(['c1', 'd0', 'd1'])
    out.resume() // not waiting: nothing happens
    expect(sink.pushes).toBe(3)
  })

  it('ends the sink after the queued control frames on finish(), and with the failure on fail(), once', () => {
    const finishing = new SessionOutbound(owner())
    const sink = recorder()
    finishing.subscribe(sink)
    sink.accepting = false
    finishing.send(ctl(1))
    finishing.send(ctl(2))
    finishing.finish()
    expect(sink.got).toEqual(['c1'])
    expect(sink.ends).toEqual([])
    sink.accepting = true
    finishing.resume()
    expect(sink.got).toEqual(['c1', 'c2'])
    expect(sink.ends).toEqual([undefined])

    const failing = new SessionOutbound(owner())
    const sink2 = recorder()
    failing.subscribe(sink2)
    sink2.accepting = false
    failing.send(ctl(1))
    failing.send(ctl(2)) // queued, then dropped by the failure
    const boom = new Error('lost')
    failing.fail(boom)
    failing.fail(new Error('again'))
    failing.send(ctl(3))
    expect(sink2.got).toEqual(['c1'])
    expect(sink2.ends).toEqual([boom])
  })

  it('pushes nothing more, its end included, once the sink returns it', async () => {
    const out = new SessionOutbound(owner())
    const sink = recorder()
    out.subscribe(sink)
    await out.return()
    out.send(ctl(1))
    out.finish()
    expect(sink.got).toEqual([])
    expect(sink.ends).toEqual([])
  })

  it('sends a frame queued from within a push after the frames being pushed', () => {
    const out = new SessionOutbound(owner())
    const sink = recorder()
    out.subscribe(sink)
    let sent = false
    sink.onPush = () => {
      if (sent) return
      sent = true
      out.send(ctl(2))
    }
    out.send(ctl(1))
    expect(sink.got).toEqual(['c1', 'c2'])
    expect(sink.pushes).toBe(2)
  })

  it('subscribes to a feed that pushes, asks it to wait while a numbered batch is held, and ends the feed only after that batch', () => {
    const o = owner()
    const out = new SessionOutbound(o)
    const sink = recorder()
    out.subscribe(sink)
    const feed = {
      target: undefined as PushTarget<Frame> | undefined,
      resumes: 0,
      [Symbol.asyncIterator] () { return feed },
      async next (): Promise<IteratorResult<Frame>> { throw new Error('a feed that pushes is not read') },
      subscribe (target: PushTarget<Frame>): void { feed.target = target },
      resume (): void { feed.resumes++ }
    }
    out.attach(feed)
    expect(feed.target).toBe(out)
    sink.accepting = false
    expect(feed.target?.push([item(1)])).toBe(true) // sent at once: the sink takes it, then asks to wait
    expect(feed.target?.push([item(2)])).toBe(false) // held: the feed waits
    feed.target?.end() // writing ended while a batch is held
    expect(o.ended).toBe(0)
    sink.accepting = true
    out.resume()
    expect(sink.got).toEqual(['d1', 'd2'])
    expect(o.ended).toBe(1) // END comes after the held batch
    expect(feed.resumes).toBe(0)
  })

  it('refuses a second subscriber, and a subscriber while a next() waits', () => {
    const out = new SessionOutbound(owner())
    out.subscribe(recorder())
    expect(() => { out.subscribe(recorder()) }).toThrow(/subscribe\(\) once/)
    const pulled = new SessionOutbound(owner())
    void pulled.next()
    expect(() => { pulled.subscribe(recorder()) }).toThrow(/no next\(\) pending/)
  })

  it('keeps no array for control frames while none is queued, and pulled one at a time they keep their order', async () => {
    const shared = owner()
    const perOutbound = heapPerObject(50_000, () => new SessionOutbound(shared))
    // 200 B here; an empty array of its own made it 232 B
    expect(perOutbound).toBeLessThan(216)
    const out = new SessionOutbound(shared)
    out.send(ctl(1))
    out.send(ctl(2))
    expect(label((await out.next()).value as Frame)).toBe('c1')
    out.send(ctl(3)) // behind the frame handed back by next()
    expect((await out.nextBatch())?.map(label)).toEqual(['c2', 'c3'])
    out.send(ctl(4))
    expect(label((await out.next()).value as Frame)).toBe('c4')
  })
})

/** What the connection's inbound needs from its stage: accepting items; control frames recorded. */
function pumpOwner (): PumpOwner & { controls: Frame[], stops: Error[], goAways: number[] } {
  const o = {
    fenced: false,
    gen: 1,
    accepting: true,
    peerEnded: false,
    peerLast: Infinity,
    received: 0,
    controls: [] as Frame[],
    stops: [] as Error[],
    goAways: [] as number[],
    control: (frame: Frame) => { o.controls.push(frame) },
    lowerEnded: () => undefined,
    stopped: (err: Error) => { o.stops.push(err) },
    goAwayReported: (code: number) => { o.goAways.push(code) }
  }
  return o
}

/** A connection's source that can push; `refuse`: it refuses a subscriber, as one read from before may. */
function pushingLower (refuse = false): BatchIterator<Frame> & PushSource<Frame> & { target: PushTarget<Frame> | undefined, resumes: number, pulls: number, give(...frames: Frame[]): boolean } {
  const l = {
    target: undefined as PushTarget<Frame> | undefined,
    resumes: 0,
    pulls: 0,
    [Symbol.asyncIterator] () { return l },
    async next (): Promise<IteratorResult<Frame>> { l.pulls++; return await new Promise(() => {}) },
    async nextBatch (): Promise<Frame[] | undefined> { l.pulls++; return [item(9)] },
    subscribe (target: PushTarget<Frame>): void {
      if (refuse) throw new Error('expected subscribe() before any read')
      l.target = target
    },
    resume (): void { l.resumes++ },
    give (...frames: Frame[]): boolean { return (l.target as PushTarget<Frame>).push(frames) }
  }
  return l
}

describe("a session connection's inbound subscribes to a connection source that pushes", () => {
  it('numbers what is pushed, asks the source to wait at the window, and resumes it once items were taken', async () => {
    const owner = pumpOwner()
    const lower = pushingLower()
    const inbound = new SessionInbound(owner, lower, [item(0)], { messages: 2, bytes: 1 << 20 })
    inbound.start()
    expect(lower.target).toBe(inbound)
    expect(lower.give(item(1), ctl(7))).toBe(true)
    expect(owner.controls.map(label)).toEqual(['c7']) // handled in the read's call
    expect(lower.give(item(2))).toBe(false) // three items queued: more than the window of two
    expect(lower.resumes).toBe(0)
    const taken = [...(await inbound.nextBatch() ?? [])] // one pushed batch at a time
    expect(lower.resumes).toBe(1) // room again: the source goes on
    taken.push(...(await inbound.nextBatch() ?? []), ...(await inbound.nextBatch() ?? []))
    expect(taken.map(i => [i.seq, num(i.frame)])).toEqual([[1, 0], [2, 1], [3, 2]])
    expect(lower.give(item(3))).toBe(true)
    expect((await inbound.next()).value).toMatchObject({ seq: 4 })
    lower.target?.end()
    expect(await inbound.next()).toEqual({ done: true, value: undefined })
    expect(lower.pulls).toBe(0)
  })

  it('pulls a source that refuses a subscriber, with the same numbering', async () => {
    const lower = pushingLower(true)
    const inbound = new SessionInbound(pumpOwner(), lower, [item(0)], { messages: 16, bytes: 1 << 20 })
    inbound.start()
    expect(lower.target).toBeUndefined()
    const batch = await inbound.nextBatch()
    await turn()
    const more = await inbound.nextBatch()
    expect([...(batch ?? []), ...(more ?? [])].slice(0, 2).map(i => [i.seq, num(i.frame)])).toEqual([[1, 0], [2, 9]])
    expect(lower.pulls).toBeGreaterThan(0)
  })

  it("a source's failure stops the pump with it; items pushed before it are still taken", async () => {
    const owner = pumpOwner()
    const lower = pushingLower()
    const inbound = new SessionInbound(owner, lower, [], { messages: 16, bytes: 1 << 20 })
    inbound.start()
    lower.give(item(5))
    const boom = new Error('reset')
    lower.target?.end(boom)
    expect(owner.stops).toEqual([boom])
    expect((await inbound.next()).value).toMatchObject({ seq: 1 })
  })
})

/** A subscriber of a session connection's items, recording them; it asks to wait while `accepting` is false. */
function itemRecorder (): PushTarget<SessionItem> & { got: Array<[number, number]>, pushes: number, ends: Array<Error | undefined>, accepting: boolean } {
  const r = {
    got: [] as Array<[number, number]>,
    pushes: 0,
    ends: [] as Array<Error | undefined>,
    accepting: true,
    push (items: SessionItem[]): boolean {
      r.pushes++
      for (const i of items) r.got.push([i.seq, num(i.frame)])
      return r.accepting
    },
    end (err?: Error): void { r.ends.push(err) }
  }
  return r
}

describe("a session connection's inbound pushes its items to a subscriber", () => {
  it('hands each batch up in the call that numbered it, queues while asked to wait, and hands the queue on resume(), then the end', () => {
    const owner = pumpOwner()
    const lower = pushingLower()
    const inbound = new SessionInbound(owner, lower, [item(0)], { messages: 2, bytes: 1 << 20 })
    inbound.start()
    const up = itemRecorder()
    inbound.subscribe(up)
    expect(up.got).toEqual([[1, 0]]) // what was queued, at once
    expect(lower.give(item(1), ctl(7), item(2))).toBe(true)
    expect(up.got).toEqual([[1, 0], [2, 1], [3, 2]])
    expect(up.pushes).toBe(2)

    up.accepting = false
    expect(lower.give(item(3))).toBe(true) // taken, though the subscriber now asks to wait
    expect(lower.give(item(4))).toBe(true) // queued: one item of a window of two
    expect(lower.give(item(5), item(6))).toBe(false) // more than the window: the connection waits
    expect(up.got).toHaveLength(4)
    up.accepting = true
    inbound.resume()
    expect(up.got.slice(4)).toEqual([[5, 4], [6, 5], [7, 6]])
    expect(lower.resumes).toBe(1) // room again below
    expect(up.ends).toEqual([])
    lower.target?.end()
    expect(up.ends).toEqual([undefined])
    expect(lower.pulls).toBe(0)
  })

  it('ends the subscriber after what is queued, with the failure when the connection fails, once', () => {
    const owner = pumpOwner()
    const lower = pushingLower()
    const inbound = new SessionInbound(owner, lower, [], { messages: 16, bytes: 1 << 20 })
    inbound.start()
    const up = itemRecorder()
    up.accepting = false
    inbound.subscribe(up)
    lower.give(item(1))
    lower.give(item(2))
    const boom = new Error('reset')
    inbound.fail(boom) // the connection is gone: what was queued goes with it
    expect(up.got).toEqual([[1, 1]])
    expect(up.ends).toEqual([boom])
    inbound.resume()
    lower.target?.end()
    expect(up.ends).toEqual([boom])
  })

  it('refuses a second subscriber, and one while a read waits', async () => {
    const inbound = new SessionInbound(pumpOwner(), pushingLower(), [], { messages: 16, bytes: 1 << 20 })
    inbound.start()
    const reading = inbound.nextBatch()
    expect(() => { inbound.subscribe(itemRecorder()) }).toThrow(/subscribe\(\) once, with no read pending/)
    const other = new SessionInbound(pumpOwner(), pushingLower(), [], { messages: 16, bytes: 1 << 20 })
    other.start()
    other.subscribe(itemRecorder())
    expect(() => { other.subscribe(itemRecorder()) }).toThrow(/subscribe\(\) once/)
    void reading
  })
})

/** The default stack (heartbeat over codec, HELLO with the session flag), its link's writing watched. */
function watchedStack (log: { sinkPush: number, sink: number, pulls: number, subscribes: number, readsAfterSubscribe: number }): (conn: ByteDuplex) => SessionFrames {
  return (conn) => {
    const link = heartbeat(codec(conn), { hello: true, helloFlags: SESSION_FLAG }) as HeartbeatDuplex & { sinkPush: NonNullable<HeartbeatDuplex['sinkPush']> }
    // the link's source: read for the handshake at most, then subscribed to
    const source = link.source
    let subscribed = false
    const next = source.next.bind(source)
    const nextBatch = source.nextBatch.bind(source)
    const subscribe = source.subscribe.bind(source)
    source.next = async () => { if (subscribed) log.readsAfterSubscribe++; return await next() }
    source.nextBatch = async () => { if (subscribed) log.readsAfterSubscribe++; return await nextBatch() }
    source.subscribe = (target) => { log.subscribes++; subscribed = true; subscribe(target) }
    const sinkPush = link.sinkPush.bind(link)
    const sink = link.sink
    Object.defineProperty(link, 'sink', { value: async (source: AsyncIterable<Frame>) => { log.sink++; await sink(source) } })
    link.sinkPush = (source: PushSource<Frame>, watcher: SinkWatcher) => {
      log.sinkPush++
      const pulled = source as unknown as { next: () => unknown, nextBatch: () => unknown }
      const next = pulled.next.bind(source)
      const nextBatch = pulled.nextBatch.bind(source)
      pulled.next = () => { log.pulls++; return next() }
      pulled.nextBatch = () => { log.pulls++; return nextBatch() }
      sinkPush(source, watcher)
    }
    return link
  }
}

describe('a session over the heartbeat writes into it through sinkPush', () => {
  let h: Harness | undefined
  afterEach(async () => { await h?.close(); h = undefined })

  it('at both ends and on every connection, and subscribes to the link\'s source: nothing is pulled, every item arrives once, across a reconnection', async () => {
    const server = { sinkPush: 0, sink: 0, pulls: 0, subscribes: 0, readsAfterSubscribe: 0 }
    const clientLog = { sinkPush: 0, sink: 0, pulls: 0, subscribes: 0, readsAfterSubscribe: 0 }
    // reconnect subscribes to each connection's items, and the session's source to reconnect's: neither is read
    const refill = 'refill' as keyof SessionSource
    const itemReads = [vi.spyOn(SessionInbound.prototype, 'next'), vi.spyOn(SessionInbound.prototype, 'nextBatch'), vi.spyOn(SessionSource.prototype, refill)]
    // and reconnect writes each connection with sinkPush: its feed pushes
    const feedPushes = vi.spyOn(SessionConnection.prototype, 'sinkPush')
    // the server's echo writes its session's source straight back: reconnect's intake subscribes to it
    const echoSubscribes = vi.spyOn(SessionSource.prototype, 'subscribe')
    h = await harness(echo, { stack: watchedStack(server) })
    const client = h.client({ stack: watchedStack(clientLog) })
    const got: number[] = []
    const reading = (async () => { for await (const f of client.source) got.push(num(f)) })()
    const out = pushable<Frame>()
    const writing = client.sink(out)
    for (let i = 0; i < 500; i++) out.push(item(i))
    await expect.poll(() => got.length, { timeout: 5_000 }).toBe(500)
    client.reconnect()
    for (let i = 500; i < 1_000; i++) out.push(item(i))
    out.end()
    await writing
    await reading
    await client.close()
    expect(got).toEqual(Array.from({ length: 1_000 }, (_, i) => i))
    expect(client.stats()).toMatchObject({ delivered: 1_000, deduplicated: 0 })
    // each connection: written through sinkPush, its outbound never pulled, its source subscribed to after
    // the handshake (the server reads the client's RESUME first) and never read again
    expect(clientLog).toEqual({ sinkPush: 2, sink: 0, pulls: 0, subscribes: 2, readsAfterSubscribe: 0 })
    expect(server).toEqual({ sinkPush: 2, sink: 0, pulls: 0, subscribes: 2, readsAfterSubscribe: 0 })
    expect(itemReads.map(spy => spy.mock.calls.length)).toEqual([0, 0, 0])
    expect(feedPushes.mock.calls.length).toBe(4) // two connections, both ends
    expect(echoSubscribes.mock.calls.length).toBe(1) // one session, across both connections
    for (const spy of [...itemReads, feedPushes, echoSubscribes]) spy.mockRestore()
  })

  it('the peer\'s GOAWAY reaches a connection through its subscription: no goaway listener on the link, and the session is judged by it', async () => {
    const listeners = { client: 0, server: 0 }
    const counting = (side: 'client' | 'server') => (conn: ByteDuplex): SessionFrames => {
      const link = heartbeat(codec(conn), { hello: true, helloFlags: SESSION_FLAG })
      const add = link.addEventListener.bind(link)
      link.addEventListener = ((type: string, ...rest: unknown[]) => {
        if (type === 'goaway') listeners[side]++
        ;(add as (...args: unknown[]) => void)(type, ...rest)
      }) as typeof link.addEventListener
      return link
    }
    h = await harness(echo, { stack: counting('server') })
    const client = h.client({ stack: counting('client'), onLost: 'fail' })
    const lost = new Promise<{ reason: string }>((resolve) => { client.addEventListener('session-lost', (e) => { resolve(e.detail) }, { once: true }) })
    await client.sink([item(1)])
    await expect.poll(() => h?.sessions.length).toBe(1)
    // the server's application tears its session down: GOAWAY SESSION_CLOSED goes to the client
    h.sessions[0].abort(new Error('the application gave up'))
    // judged as the session's end, not as an outage to resume from (which would find the session unknown)
    expect(await lost).toMatchObject({ reason: 'closed' })
    expect(listeners).toEqual({ client: 0, server: 0 })
  })

  it('a server\'s sessions share one set of link options and of connection settings: a session holds no copy of its own', async () => {
    h = await harness(echo)
    const a = h.client()
    const b = h.client()
    await a.sink([item(1)])
    await b.sink([item(2)])
    await expect.poll(() => h?.sessions.length).toBe(2)
    type Internals = { link: { opts: object }, state: { stage?: { settings: object } } }
    const [x, y] = h.sessions as unknown as Internals[]
    expect(x.link.opts).toBe(y.link.opts)
    expect(x.state.stage?.settings).toBeDefined()
    expect(x.state.stage?.settings).toBe(y.state.stage?.settings)
    // a client's link has options of its own
    expect((a as unknown as Internals).link.opts).not.toBe((b as unknown as Internals).link.opts)
    a.abort(new Error('test over'))
    b.abort(new Error('test over'))
  })

  it('a stack without sinkPush is written with sink() and pulled, with the same delivery', async () => {
    const plain = (conn: ByteDuplex): SessionFrames => {
      const link = heartbeat(codec(conn), { hello: true, helloFlags: SESSION_FLAG })
      // only what SessionFrames asks for, none of push mode
      return {
        get source () { return link.source },
        sink: async (source) => { await link.sink((async function * () { yield * source })()) },
        close: async (options) => { await link.close(options) },
        abort: (err) => { link.abort(err) },
        get peerHello () { return link.peerHello },
        addEventListener: link.addEventListener.bind(link),
        removeEventListener: link.removeEventListener.bind(link)
      } as SessionFrames
    }
    h = await harness(echo, { stack: plain })
    const client: SessionDuplex = h.client({ stack: plain })
    const got: number[] = []
    const reading = (async () => { for await (const f of client.source) got.push(num(f)) })()
    await client.sink(Array.from({ length: 300 }, (_, i) => item(i)))
    await reading
    await client.close()
    expect(got).toEqual(Array.from({ length: 300 }, (_, i) => i))
    expect(client.stats()).toMatchObject({ delivered: 300, deduplicated: 0 })
  })
})
