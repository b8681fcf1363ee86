import type { Frame } from '@proto/codec'
import { encodeGoAway, FrameType, GoAwayCode } from '@proto/codec'
import type { PushSource, PushTarget } from '@proto/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { OUTBOUND_BATCH_FRAMES } from '../src/constants.js'
import type { GoAwayDetail, GoAwayTarget, HeartbeatDuplex } from '../src/index.js'
import { heartbeat } from '../src/index.js'
import { f, rawPeer, settle } from './helpers/raw-peer.js'

const init = { interval: 60_000, timeout: 120_000 }
const turn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }
const text = (frame: Frame): string => new TextDecoder().decode(frame.body)
const data = (s: string): Frame => f(FrameType.DATA, s)

/** The stage a test made, aborted after each test. */
let stage: HeartbeatDuplex | undefined
afterEach(() => {
  stage?.abort(new Error('test over'))
  stage = undefined
})

/** A consumer that takes pushes, recording them; it asks to wait while `accepting` is false. */
function recorder (): PushTarget<Frame> & { got: string[], pushes: number, ends: Array<Error | undefined>, accepting: boolean } {
  const r = {
    got: [] as string[],
    pushes: 0,
    ends: [] as Array<Error | undefined>,
    accepting: true,
    push (frames: Frame[]): boolean {
      r.pushes++
      for (const frame of frames) r.got.push(text(frame))
      return r.accepting
    },
    end (err?: Error): void { r.ends.push(err) }
  }
  return r
}

describe("a stage's source pushes to a consumer that subscribes", () => {
  it('hands frames over as they arrive, queues them while the consumer asks to wait, then gives the end once', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, init)
    const target = recorder()
    hb.source.subscribe(target)
    peer.send(data('a'), data('b'))
    await turn()
    expect(target.got).toEqual(['a', 'b'])
    target.accepting = false
    peer.send(data('c'))
    await turn()
    expect(target.got).toEqual(['a', 'b', 'c']) // taken, and now it asks to wait
    peer.send(data('d'), data('e'))
    await turn()
    expect(target.got).toEqual(['a', 'b', 'c'])
    expect(hb.stats().queuedFrames).toBe(2)
    peer.end()
    await turn()
    expect(target.ends).toEqual([]) // the end comes after what is queued
    target.accepting = true
    hb.source.resume()
    expect(target.got).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(target.ends).toEqual([undefined])
    hb.source.resume() // nothing more
    expect(target.ends).toEqual([undefined])
  })

  it('a subscriber with goAway() is told the peer\'s GOAWAY as it is read (ahead of frames read with it), and the event still fires', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, init)
    const order: string[] = []
    const target: PushTarget<Frame> & GoAwayTarget = {
      push (frames: Frame[]): boolean { for (const frame of frames) order.push(text(frame)); return true },
      end (err?: Error): void { order.push(`end ${err?.name ?? ''}`) },
      goAway (detail: GoAwayDetail): void { order.push(`goaway ${detail.code} ${detail.reason} ${String(detail.final)}`) }
    }
    const events: GoAwayDetail[] = []
    hb.addEventListener('goaway', (e) => { events.push(e.detail) })
    hb.source.subscribe(target)
    peer.send(data('a'), f(FrameType.GOAWAY, encodeGoAway({ code: GoAwayCode.DO_NOT_RETRY, reason: 'banned' })), data('b'))
    await turn()
    // told as the event is dispatched: when the frame is read, before the frames of the same read go up
    expect(order.slice(0, 3)).toEqual([`goaway ${GoAwayCode.DO_NOT_RETRY} banned true`, 'a', 'b'])
    expect(events).toEqual([{ code: GoAwayCode.DO_NOT_RETRY, reason: 'banned', final: true }])
    // a subscriber without goAway() is simply not told (the event is the way for it)
    const peer2 = rawPeer()
    const hb2 = heartbeat(peer2.lower, init)
    const plain = recorder()
    hb2.source.subscribe(plain)
    peer2.send(f(FrameType.GOAWAY, encodeGoAway({ code: GoAwayCode.SHUTTING_DOWN, reason: 'restart' })), data('c'))
    await turn()
    expect(plain.got).toEqual(['c'])
    hb2.abort(new Error('test over'))
  })

  it('frames queued before the subscription are handed over at once', async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, init)
    peer.send(data('early'))
    await turn()
    const target = recorder()
    hb.source.subscribe(target)
    expect(target.got).toEqual(['early'])
    expect(() => { hb.source.subscribe(recorder()) }).toThrow(/once|twice/)
  })

  it('a consumer that keeps asking to wait holds the peer back: the stage stops reading at its queue limit', async () => {
    const peer = rawPeer({ batched: false })
    const hb = stage = heartbeat(peer.lower, { ...init, maxQueuedFrames: 8 })
    const target = recorder()
    target.accepting = false
    hb.source.subscribe(target)
    for (let i = 0; i < 100; i++) peer.send(data(`m${i}`))
    await turn()
    await turn()
    expect(target.got).toEqual(['m0']) // the first push was taken; it asked to wait
    expect(hb.stats().queuedFrames).toBe(8)
    expect(peer.pulled).toBeLessThan(20) // reading stopped: the rest waits in the peer
    target.accepting = true
    hb.source.resume()
    for (let i = 0; i < 10 && target.got.length < 100; i++) await turn()
    expect(target.got).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`))
  })

  it("the source's failure reaches the consumer after the frames queued before it, and the consumer's return() stops it", async () => {
    const peer = rawPeer()
    const hb = stage = heartbeat(peer.lower, init)
    const target = recorder()
    hb.source.subscribe(target)
    target.accepting = false
    peer.send(data('x'))
    await turn()
    peer.send(data('y'), f(FrameType.GOAWAY, encodeGoAway({ code: GoAwayCode.SHUTTING_DOWN, reason: 'restart' })))
    peer.end()
    await turn()
    expect(target.got).toEqual(['x'])
    expect(target.ends).toEqual([]) // the failure waits behind the frame queued before it
    target.accepting = true
    hb.source.resume()
    expect(target.got).toEqual(['x', 'y'])
    expect(target.ends).toHaveLength(1)
    expect(target.ends[0]).toMatchObject({ name: 'GoAwayError', code: GoAwayCode.SHUTTING_DOWN })

    const peer2 = rawPeer()
    const hb2 = heartbeat(peer2.lower, init)
    const quits = recorder()
    hb2.source.subscribe(quits)
    await hb2.source.return?.()
    peer2.send(data('ignored'))
    peer2.end()
    await turn()
    expect(quits.got).toEqual([])
    expect(quits.ends).toEqual([]) // it asked for nothing more
    hb2.abort(new Error('test over'))
  })
})

describe('a consumer that read first subscribes once no read is pending', () => {
  it('takes over from the reads: frames queued since go first; a subscribe while a read waits is refused', async () => {
    const peer = rawPeer()
    const hb = heartbeat(peer.lower, init)
    peer.send(data('hello'))
    expect((await hb.source.nextBatch())?.map(text)).toEqual(['hello']) // a handshake, read
    const waiting = hb.source.next()
    expect(() => { hb.source.subscribe(recorder()) }).toThrow(/no read pending/)
    peer.send(data('one'))
    expect(text((await waiting).value as Frame)).toBe('one')
    peer.send(data('two'), data('three'))
    await turn()
    const target = recorder()
    hb.source.subscribe(target)
    expect(target.got).toEqual(['two', 'three'])
    peer.send(data('four'))
    await turn()
    expect(target.got).toEqual(['two', 'three', 'four'])
    hb.abort(new Error('test over'))
  })
})

/** A source that pushes what the test gives it, recording how it is driven. */
function pushingSource (): PushSource<Frame> & AsyncIterable<Frame> & { target: PushTarget<Frame> | undefined, resumes: number, returned: boolean, pulled: number, give(...frames: Frame[]): boolean } {
  const s = {
    target: undefined as PushTarget<Frame> | undefined,
    resumes: 0,
    returned: false,
    pulled: 0,
    [Symbol.asyncIterator] () { return s },
    async next (): Promise<IteratorResult<Frame>> { s.pulled++; return await new Promise(() => {}) },
    subscribe (target: PushTarget<Frame>): void { s.target = target },
    resume (): void { s.resumes++ },
    async return (): Promise<IteratorResult<Frame>> { s.returned = true; return { done: true, value: undefined } },
    give (...frames: Frame[]): boolean { return (s.target as PushTarget<Frame>).push(frames) }
  }
  return s
}

describe('the sink subscribes to a source that pushes (another stage\'s source)', () => {
  it('is never pulled: what is pushed goes down at once, the source waits past a batch and is resumed once it is written', async () => {
    const peer = rawPeer({ batchedSink: true })
    const hb = stage = heartbeat(peer.lower, init)
    const source = pushingSource()
    const sinking = settle(hb.sink(source))
    expect(source.target).toBeDefined()
    expect(source.give(data('one'), data('two'))).toBe(true)
    await peer.waitWritten(2)
    expect(peer.written.map(text)).toEqual(['one', 'two'])
    peer.holdWrites()
    source.give(data('w0')) // goes to the writer that was waiting, which now holds it
    await turn()
    const many = Array.from({ length: OUTBOUND_BATCH_FRAMES }, (_, i) => data(`b${i}`))
    expect(source.give(...many)).toBe(false) // a batch's worth waits: the source is told to wait
    expect(source.resumes).toBe(0)
    peer.releaseWrites()
    await peer.waitWritten(3 + OUTBOUND_BATCH_FRAMES)
    await turn()
    expect(source.resumes).toBe(1)
    expect(peer.written.slice(3).map(text)).toEqual(many.map(text))
    // the end: FIN, and the sink resolves
    source.target?.end()
    expect(await sinking).toEqual({ ok: true })
    expect(peer.sinkEnded).toBe(true)
    expect(source.pulled).toBe(0)
    expect(source.returned).toBe(false)
  })

  it("the source's failure rejects the sink after the frames pushed before it are written", async () => {
    const peer = rawPeer({ batchedSink: true })
    const hb = stage = heartbeat(peer.lower, init)
    const source = pushingSource()
    const sinking = settle(hb.sink(source))
    const boom = new Error('the producer broke')
    source.give(data('before'))
    source.target?.end(boom)
    const outcome = await sinking
    expect(outcome.ok).toBe(false)
    expect(outcome.error).toBe(boom)
    expect(peer.written.filter(x => x.type === FrameType.DATA).map(text)).toEqual(['before'])
  })

  it('a stage that stops writing releases the source, and counts what it pushed and was not written as unsent', async () => {
    const peer = rawPeer({ batchedSink: true })
    const hb = stage = heartbeat(peer.lower, init)
    const source = pushingSource()
    void settle(hb.sink(source))
    peer.holdWrites()
    source.give(data('held'))
    await turn()
    source.give(data('late1'), data('late2'))
    hb.abort(new Error('going'))
    await turn()
    expect(source.returned).toBe(true)
    expect(hb.stats().unsentFrames).toBeGreaterThanOrEqual(2)
    expect(source.give(data('after'))).toBe(false)
  })

  it("echoes a peer through one stage with its own source as its sink's source, nothing pulled", async () => {
    const peer = rawPeer({ batchedSink: true })
    const hb = stage = heartbeat(peer.lower, init)
    let pulls = 0
    const own = hb.source
    // the stage's source, watched: the sink must subscribe, not read
    const watched = {
      [Symbol.asyncIterator] () { return watched },
      next: async () => { pulls++; return await own.next() },
      nextBatch: async () => { pulls++; return await own.nextBatch() },
      subscribe: (target: PushTarget<Frame>) => { own.subscribe(target) },
      resume: () => { own.resume() },
      return: async (): Promise<IteratorResult<Frame>> => await (own.return?.() ?? Promise.resolve({ done: true as const, value: undefined }))
    }
    const sinking = settle(hb.sink(watched))
    for (let i = 0; i < 50; i++) peer.send(data(`e${i}`))
    await peer.waitWritten(50)
    expect(peer.written.filter(x => x.type === FrameType.DATA).map(text)).toEqual(Array.from({ length: 50 }, (_, i) => `e${i}`))
    expect(pulls).toBe(0)
    peer.end() // the peer finishes: the echo ends, FIN follows
    expect(await sinking).toEqual({ ok: true })
    expect(peer.sinkEnded).toBe(true)
  })
})

describe('the stage writes into a lower duplex with sinkPush through it', () => {
  it('uses sinkPush (no promise for the run), writes as before, and learns the end and failures from the watcher', async () => {
    const peer = rawPeer({ batchedSink: true })
    let pushSinks = 0
    const lower = {
      ...peer.lower,
      sink: async (): Promise<void> => { throw new Error('expected sinkPush, but sink was called') },
      sinkPush: (source: PushSource<Frame>, watcher: { onSinkEnd(err?: Error): void }): void => {
        pushSinks++
        peer.lower.sink(source as unknown as AsyncIterable<Frame>).then(() => { watcher.onSinkEnd() }, (err: Error) => { watcher.onSinkEnd(err) })
      }
    }
    const hb = heartbeat(lower, init)
    expect(pushSinks).toBe(1)
    const closed = new Promise<unknown>((resolve) => { hb.addEventListener('closed', (e) => { resolve(e.detail) }, { once: true }) })
    const sinking = settle(hb.sink([data('hello')]))
    await peer.waitWritten(1)
    expect(peer.written.map(text)).toEqual(['hello'])
    expect(await sinking).toEqual({ ok: true }) // our writing ended: the watcher was told
    expect(peer.sinkEnded).toBe(true)
    peer.end()
    expect(await closed).toEqual({ error: undefined })

    // a lower sink that fails: the stage fails with its error
    const peer2 = rawPeer()
    const boom = new Error('the socket broke')
    const failingLower = { ...peer2.lower, sinkPush: (_source: PushSource<Frame>, watcher: { onSinkEnd(err?: Error): void }) => { queueMicrotask(() => { watcher.onSinkEnd(boom) }) } }
    const hb2 = heartbeat(failingLower, init)
    const failed = await settle(hb2.sink([data('never')]))
    expect(failed.ok).toBe(false)
    expect(failed.error).toBe(boom)
    hb2.abort(new Error('test over'))
  })
})

/** A watcher that records every outcome it is told. */
function watcher (): { ends: Array<Error | undefined>, onSinkEnd(err?: Error): void } {
  const w = { ends: [] as Array<Error | undefined>, onSinkEnd (err?: Error): void { w.ends.push(err) } }
  return w
}

describe("the link's own sinkPush: how the writing ended goes to a watcher, not a promise", () => {
  it('subscribes to the source, writes what it pushes, and tells the watcher once FIN is out, from a microtask', async () => {
    const peer = rawPeer({ batchedSink: true })
    const hb = stage = heartbeat(peer.lower, init)
    const source = pushingSource()
    const w = watcher()
    expect(hb.sinkPush?.(source, w)).toBeUndefined()
    expect(source.target).toBeDefined()
    source.give(data('a'), data('b'))
    await peer.waitWritten(2)
    expect(peer.written.map(text)).toEqual(['a', 'b'])
    source.target?.end()
    await expect.poll(() => w.ends.length).toBe(1)
    expect(w.ends).toEqual([undefined])
    expect(peer.sinkEnded).toBe(true)
    expect(source.pulled).toBe(0)
  })

  it("tells the watcher the stage's failure once, never from within the call that failed it", async () => {
    const peer = rawPeer({ batchedSink: true })
    const hb = stage = heartbeat(peer.lower, init)
    const source = pushingSource()
    const w = watcher()
    hb.sinkPush?.(source, w)
    const boom = new Error('gone')
    hb.abort(boom)
    expect(w.ends).toEqual([]) // not from within abort()
    await turn()
    expect(w.ends).toEqual([boom])
    expect(source.returned).toBe(true)
    hb.abort(new Error('again'))
    await turn()
    expect(w.ends).toEqual([boom])
  })

  it('refuses a second sink, and a sink after close(), through the watcher and never synchronously', async () => {
    const peer = rawPeer({ batchedSink: true })
    const hb = stage = heartbeat(peer.lower, init)
    hb.sinkPush?.(pushingSource(), watcher())
    const second = watcher()
    hb.sinkPush?.(pushingSource(), second)
    expect(second.ends).toEqual([])
    await turn()
    expect(second.ends).toHaveLength(1)
    expect(second.ends[0]).toMatchObject({ name: 'InvalidParametersError' })
    expect(await settle(hb.sink([data('x')]))).toMatchObject({ ok: false, error: { name: 'InvalidParametersError' } })

    const peer2 = rawPeer({ batchedSink: true })
    const hb2 = heartbeat(peer2.lower, init)
    void hb2.close().catch(() => {})
    const late = watcher()
    const source = pushingSource()
    hb2.sinkPush?.(source, late)
    expect(late.ends).toEqual([])
    await turn()
    expect(late.ends[0]).toMatchObject({ name: 'InvalidParametersError' })
    expect(source.target).toBeUndefined()
    hb2.abort(new Error('test over'))
  })
})
