import { describe, expect, it, vi } from 'vitest'
import type { DurableDuplex, StatusEvent } from '../src/index.js'
import { InvalidParametersError, reconnector } from '../src/index.js'
import type { ItemConnection } from './helpers/item-pair.js'
import { itemConnection } from './helpers/item-pair.js'
import { durablesUnderFakeTimers } from './helpers/open.js'

const open = durablesUnderFakeTimers()

/** A dial that connects at once, recording the in-memory connections it made. */
function dialer (): { dial: () => Promise<ItemConnection<number>['near']>, conns: Array<ItemConnection<number>> } {
  const conns: Array<ItemConnection<number>> = []
  return {
    conns,
    dial: async () => {
      const c = itemConnection<number>()
      conns.push(c)
      return c.near
    }
  }
}

function kept<T extends DurableDuplex<any>> (d: T): T {
  open.push(d)
  return d
}

describe('reconnector(): links that share one set of options', () => {
  it('validates the options once, when it is made, and each link\'s own options when the link is made', () => {
    expect(() => reconnector({ maxAttempts: 0 })).toThrow(InvalidParametersError)
    expect(() => reconnector({ retention: { maxBytes: -1 } })).toThrow(/retention.maxBytes/)
    const link = reconnector<number>({ jitter: 'none' })
    const { dial } = dialer()
    expect(() => link(dial, { onStatus: 'log' as any })).toThrow(/onStatus/)
    expect(() => link(dial, { signal: {} as any })).toThrow(/signal/)
    expect(() => link(dial, 3 as any)).toThrow(/link/)
    expect(() => link(undefined as any)).toThrow(/dial/)
  })

  it('carries items on each link on its own, with the shared options applied to every one', async () => {
    const link = reconnector<number>({ jitter: 'none', initialDelay: 10, minStableTime: 0 })
    const a = dialer()
    const b = dialer()
    const da = kept(link<number>(a.dial))
    const db = kept(link<number>(b.dial))
    await vi.advanceTimersByTimeAsync(0)
    expect([da.status, db.status]).toEqual(['connected', 'connected'])
    void da.sink([1, 2, 3])
    void db.sink([7])
    await vi.advanceTimersByTimeAsync(0)
    expect(a.conns[0].toFar).toEqual([1, 2, 3])
    expect(b.conns[0].toFar).toEqual([7])
    // a lost connection is redialled on its own link only, after the shared initial delay
    a.conns[0].reset(new Error('reset'))
    await vi.advanceTimersByTimeAsync(9)
    expect([a.conns.length, b.conns.length]).toEqual([1, 1])
    await vi.advanceTimersByTimeAsync(1)
    expect([a.conns.length, b.conns.length]).toEqual([2, 1])
    expect(db.status).toBe('connected')
    expect(da.stats()).toMatchObject({ attempts: 2, reconnects: 1 })
    expect(db.stats()).toMatchObject({ attempts: 1, reconnects: 0 })
  })

  it('tells each link\'s own onStatus only its events, and the reconnector\'s onStatus those of links without one', async () => {
    const shared: string[] = []
    const own: string[] = []
    const link = reconnector<number>({ jitter: 'none', onStatus: (e: StatusEvent) => { shared.push(e.type) } })
    const a = kept(link<number>(dialer().dial, { onStatus: (e) => { own.push(e.type) } }))
    const b = kept(link<number>(dialer().dial))
    await vi.advanceTimersByTimeAsync(0)
    await a.close()
    expect(own).toEqual(['connecting', 'connected', 'closed'])
    expect(shared).toEqual(['connecting', 'connected'])
    await b.close()
    expect(shared).toEqual(['connecting', 'connected', 'closed'])
  })

  it('ends a link when its own signal aborts, and every link without one when the reconnector\'s does', async () => {
    const all = new AbortController()
    const mine = new AbortController()
    const shared: string[] = []
    // a link that gives only its signal still reports to the reconnector's onStatus
    const link = reconnector<number>({ jitter: 'none', signal: all.signal, onStatus: (e: StatusEvent) => { shared.push(e.type) } })
    const a = kept(link<number>(dialer().dial, { signal: mine.signal }))
    const b = kept(link<number>(dialer().dial))
    const c = kept(link<number>(dialer().dial))
    await vi.advanceTimersByTimeAsync(0)
    mine.abort(new Error('a is done'))
    expect([a.status, b.status, c.status]).toEqual(['closed', 'connected', 'connected'])
    expect(shared.filter(t => t === 'closed')).toHaveLength(1)
    // a link keeps its signal to itself: it does not pass for an `AbortOptions`
    expect('signal' in a).toBe(false)
    all.abort(new Error('shutting down'))
    expect([b.status, c.status]).toEqual(['closed', 'closed'])
  })
})
