import type { StageDuplex } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { DurableDuplex } from '../src/index.js'
import { reconnect } from '../src/index.js'
import { nextEvent } from './helpers/events.js'
import type { ItemConnection } from './helpers/item-pair.js'
import { itemConnection } from './helpers/item-pair.js'

/**
 * How a lost connection is let go: one that ended or failed by itself finishes its side (its feed ends: flush,
 * FIN) rather than being reset, within `closeTimeout`; one the duplex gives up on itself is reset at once.
 */
describe('letting a lost connection go', () => {
  let link: DurableDuplex<number> | undefined
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => {
    link?.abort(new Error('test over'))
    link = undefined
    vi.useRealTimers()
  })

  /** A durable duplex whose dials make in-memory connections, kept in `conns`. */
  function start (closeTimeout = 1_000): { conns: ItemConnection<number>[], link: DurableDuplex<number> } {
    const conns: ItemConnection<number>[] = []
    link = reconnect<number>(async () => {
      const c = itemConnection<number>()
      conns.push(c)
      return c.near
    }, { initialDelay: 10, maxDelay: 10, closeTimeout })
    return { conns, link }
  }

  /** A source that yields nothing and ends when `ended` resolves (the peer finishing its side). */
  function endsWhen (ended: Promise<void>): AsyncIterable<number> {
    return { [Symbol.asyncIterator]: () => ({ next: async () => { await ended; return { done: true, value: undefined } } }) }
  }

  /** Reads what the far side of `c` receives until it ends (the near side's FIN). */
  async function farReceives (c: ItemConnection<number>): Promise<number[]> {
    const got: number[] = []
    for await (const item of c.far.source) got.push(item)
    return got
  }

  it('the peer finished its side: ours finishes too (what was handed goes out, then the end), no reset', async () => {
    const { conns, link } = start()
    link.sink((async function * () { yield 1; yield 2; yield 3; await new Promise(() => {}) })()).catch(() => {})
    await vi.advanceTimersByTimeAsync(0)
    const first = conns[0]
    const received = farReceives(first)
    const lost = nextEvent(link, 'disconnected')
    first.endFromFar() // a clean end from the peer: an outage for a client
    expect((await lost).reason).toBe('peer-ended')
    expect(await received).toEqual([1, 2, 3]) // and then our side ended: the far reader saw the end
    expect(first.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(first.aborted).toBe(false) // it finished: nothing to abort at the deadline
    expect(conns.length).toBe(2) // and the duplex redialled
  })

  it('one that does not finish its side within closeTimeout is aborted then', async () => {
    let aborted: Error | undefined
    let endSource!: () => void
    link = reconnect<number>(async () => {
      const ended = new Promise<void>((resolve) => { endSource = resolve })
      const duplex: StageDuplex<number> = {
        source: endsWhen(ended), // the peer ends its side when told
        sink: async (_source: Source<number>) => { await new Promise(() => {}) }, // never finishes
        abort: (err) => { aborted = err }
      }
      return duplex
    }, { initialDelay: 10, maxDelay: 10, closeTimeout: 1_000 })
    await vi.advanceTimersByTimeAsync(0)
    endSource()
    await vi.advanceTimersByTimeAsync(999)
    expect(aborted).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(aborted?.name).toBe('ConnectionLostError')
  })

  it('a forced redial resets the connection at once', async () => {
    const { conns, link } = start()
    await vi.advanceTimersByTimeAsync(0)
    link.reconnect()
    expect(conns[0].aborted).toBe(true)
  })

  it('a connection still finishing when the duplex is aborted is aborted with it', async () => {
    let aborted: Error | undefined
    let endSource!: () => void
    link = reconnect<number>(async () => {
      const ended = new Promise<void>((resolve) => { endSource = resolve })
      return {
        source: endsWhen(ended),
        sink: async () => { await new Promise(() => {}) },
        abort: (err: Error) => { aborted ??= err }
      }
    }, { initialDelay: 60_000, maxDelay: 60_000, closeTimeout: 10_000 })
    await vi.advanceTimersByTimeAsync(0)
    endSource()
    await vi.advanceTimersByTimeAsync(10)
    expect(aborted).toBeUndefined()
    link.abort(new Error('shutting down'))
    expect(aborted).toBeDefined()
    expect(vi.getTimerCount()).toBe(0) // the finishing deadline went with it
  })
})
