import type { Frame } from '@proto/codec'
import type { PushSource, PushTarget } from '@proto/interface'
import type { DurableSourceIterator } from '@proto/reconnect'
import { describe, expect, it } from 'vitest'
import type { SessionItem } from '../src/inbound.js'
import { Positions } from '../src/positions.js'
import { SessionSource } from '../src/source.js'
import { SessionState } from '../src/state.js'
import { item, num } from './helpers/stack.js'

/** A durable source that pushes, as reconnect's does; reading it with nextBatch() would be a bug here. */
function pushingItems (): DurableSourceIterator<SessionItem> & PushSource<SessionItem> & { target: PushTarget<SessionItem> | undefined, resumes: number, reads: number, give(...seqs: number[]): boolean } {
  const d = {
    target: undefined as PushTarget<SessionItem> | undefined,
    resumes: 0,
    reads: 0,
    async next (): Promise<IteratorResult<SessionItem>> { d.reads++; return await new Promise<never>(() => {}) },
    async nextBatch (): Promise<SessionItem[] | undefined> { d.reads++; return await new Promise<never>(() => {}) },
    subscribe (target: PushTarget<SessionItem>): void { d.target = target },
    resume (): void { d.resumes++ },
    give: (...seqs: number[]): boolean => (d.target as PushTarget<SessionItem>).push(seqs.map(seq => ({ seq, gen: 1, frame: item(seq) })))
  }
  return d
}

function source (): { src: SessionSource, items: ReturnType<typeof pushingItems>, state: SessionState, broken: Error[] } {
  const state = new SessionState('client', { maxAckDelay: 25, windowMessages: 8, windowBytes: 1024, ttl: 0 })
  state.gen = 1
  const items = pushingItems()
  const broken: Error[] = []
  const src = new SessionSource({ state, items, broken: (err) => { broken.push(err) } })
  return { src, items, state, broken }
}

const values = (frames: Frame[] | undefined): number[] => (frames ?? []).map(num)

describe("a session's source over a durable source that pushes", () => {
  it('subscribes at the first read, hands a batch to the waiting read at once, holds one batch and resumes the durable source once it is taken', async () => {
    const { src, items, state } = source()
    expect(items.target).toBeUndefined()
    const first = src.next()
    expect(items.target).toBe(src)
    expect(items.give(1, 2)).toBe(false) // one to the read, one held: the durable source waits
    expect(num((await first).value as Frame)).toBe(1)
    expect(num((await src.next()).value as Frame)).toBe(2)
    expect(items.resumes).toBe(1) // everything held was taken
    const batch = src.nextBatch()
    expect(items.give(3, 4)).toBe(true) // all to the waiting read
    expect(values(await batch)).toEqual([3, 4])
    expect(items.give(5)).toBe(false)
    expect(values(await src.nextBatch())).toEqual([5])
    expect(items.resumes).toBe(2)
    expect(state.counters.delivered).toBe(5)
    expect(items.reads).toBe(0)
  })

  it('drops duplicates (a replay after a resume) and keeps the read waiting for a new item', async () => {
    const { src, items, state } = source()
    const first = src.nextBatch()
    items.give(1, 2)
    expect(values(await first)).toEqual([1, 2])
    const next = src.next()
    expect(items.give(1, 2)).toBe(true) // replayed: nothing new, the read still waits
    items.give(3)
    expect(num((await next).value as Frame)).toBe(3)
    expect(state.counters.deduplicated).toBe(2)
  })

  it('ends after what is held; a failure is delivered once, then the end', async () => {
    const { src, items } = source()
    const first = src.next()
    items.give(1, 2)
    items.target?.end()
    await first
    expect(num((await src.next()).value as Frame)).toBe(2)
    expect(await src.next()).toEqual({ done: true, value: undefined })

    const other = source()
    const reading = other.src.next()
    const boom = new Error('reconnect gave up')
    other.items.target?.end(boom)
    await expect(reading).rejects.toBe(boom)
    expect(await other.src.next()).toEqual({ done: true, value: undefined })
  })

  it('stop() fails a waiting read at once; a gap between items breaks the session', async () => {
    const { src } = source()
    const waiting = src.next()
    const moved = new Error('the session moved')
    src.stop(moved)
    await expect(waiting).rejects.toBe(moved)

    const gap = source()
    const read = gap.src.next()
    gap.items.give(1, 3)
    expect(num((await read).value as Frame)).toBe(1)
    await expect(gap.src.next()).rejects.toThrow(/expected item 2 next, but got 3/)
    expect(gap.broken).toHaveLength(1)
  })

  it('admits a batch in runs: each run of items that follow the last one is counted and told to the stage once, in order with the duplicates between them', async () => {
    const { src, items, state } = source()
    const told: string[] = []
    let changes = 0
    state.stage = {
      delivered: (n, bytes) => { told.push(`delivered ${n} ${bytes}`) },
      duplicate: () => { told.push('duplicate') },
      endDelivered: () => {},
      endSession: () => {},
      ackNow: () => {},
      moveAway: () => {}
    }
    state.onChange = () => { changes++ }
    const at = (gen: number, seq: number, size = 4): SessionItem => ({ gen, seq, frame: item(seq, size) })
    const first = src.nextBatch()
    // the incarnation's first item (through admit()), a run of two, two replayed, a run of two
    items.target?.push([at(1, 1, 10), at(1, 2, 20), at(1, 3, 30), at(1, 2), at(1, 3), at(1, 4, 8), at(1, 5, 8)])
    expect(values(await first)).toEqual([1, 2, 3, 4, 5])
    expect(told).toEqual(['delivered 1 10', 'delivered 2 50', 'duplicate', 'duplicate', 'delivered 2 16'])
    expect(state.counters).toMatchObject({ delivered: 5, deduplicated: 2 })
    expect(state.inSeq).toBe(5)

    // the next incarnation: its first item through admit(), the rest as a run; the stage hears only of the current one
    state.gen = 2
    told.length = 0
    const second = src.nextBatch()
    items.target?.push([at(2, 1), at(2, 2), at(2, 3)])
    expect(values(await second)).toEqual([1, 2, 3])
    expect(told).toEqual(['delivered 1 4', 'delivered 2 8'])
    expect(state).toMatchObject({ inGen: 2, inSeq: 3 })
    expect(state.counters.delivered).toBe(8)
    expect(changes).toBe(5) // once per run or single admission, not once per item

    // a gap after a run: the run is counted before the session breaks
    const third = src.nextBatch()
    items.target?.push([at(2, 4), at(2, 6)])
    await expect(third).rejects.toThrow(/expected item 5 next, but got 6/)
    expect(state.counters.delivered).toBe(9)
  })
})

/** A subscriber of a session's source, recording frames; it asks to wait while `accepting` is false. */
function frameSink (): PushTarget<Frame> & { got: number[], pushes: number, ends: Array<Error | undefined>, accepting: boolean } {
  const f = {
    got: [] as number[],
    pushes: 0,
    ends: [] as Array<Error | undefined>,
    accepting: true,
    push (frames: Frame[]): boolean { f.pushes++; f.got.push(...frames.map(num)); return f.accepting },
    end (err?: Error): void { f.ends.push(err) }
  }
  return f
}

describe("a session's source pushing to a sink that subscribes (an echo, a relay)", () => {
  it('hands new frames on in the call that brought them, counted delivered then; holds a batch while the sink waits, and so does the durable source', () => {
    const { src, items, state } = source()
    const sink = frameSink()
    src.subscribe(sink)
    expect(items.target).toBe(src) // subscribed beneath at once
    expect(items.give(1, 2)).toBe(true)
    expect(items.give(1, 3)).toBe(true) // a replayed 1 is dropped
    expect(sink.got).toEqual([1, 2, 3])
    expect(state.counters).toMatchObject({ delivered: 3, deduplicated: 1 })
    sink.accepting = false
    expect(items.give(4)).toBe(true) // taken; the sink now asks to wait
    expect(items.give(5, 6)).toBe(false) // held here: the durable source waits
    expect(sink.got).toEqual([1, 2, 3, 4])
    sink.accepting = true
    src.resume()
    expect(sink.got).toEqual([1, 2, 3, 4, 5, 6])
    expect(items.resumes).toBe(1)
    items.target?.end()
    expect(sink.ends).toEqual([undefined])
    expect(items.reads).toBe(0)
  })

  it('tells the sink the failure; refuses a second subscriber, and one over a durable source that cannot push', () => {
    const { src, items } = source()
    const sink = frameSink()
    src.subscribe(sink)
    const boom = new Error('reconnect gave up')
    items.target?.end(boom)
    expect(sink.ends).toEqual([boom])
    expect(() => { src.subscribe(frameSink()) }).toThrow(/subscribe\(\) once/)

    const state = new SessionState('client', { maxAckDelay: 25, windowMessages: 8, windowBytes: 1024, ttl: 0 })
    const pulled = new SessionSource({ state, items: { next: async () => ({ done: true, value: undefined }), nextBatch: async () => undefined }, broken: () => {} })
    expect(() => { pulled.subscribe(frameSink()) }).toThrow(/durable source that pushes/)
  })
})

describe('positions under a feed that pushes', () => {
  it('a confirmation that makes the feed number more within the same call confirms each item once', () => {
    const state = new SessionState('client', { maxAckDelay: 25, windowMessages: 8, windowBytes: 1024, ttl: 0 })
    const confirms: number[] = []
    let fedMore = false
    const positions: Positions = new Positions(state, {
      fenced: false,
      confirmOut: (count) => {
        confirms.push(count)
        // reconnect's feed pushes the next batch from within confirm(): numbered at once
        if (!fedMore) {
          fedMore = true
          positions.number([item(5), item(6)])
        }
      }
    })
    positions.number([item(1), item(2), item(3), item(4)])
    positions.acked(4)
    positions.acked(6)
    expect(confirms).toEqual([4, 2])
    expect(state.outAcked).toBe(6)
  })
})
