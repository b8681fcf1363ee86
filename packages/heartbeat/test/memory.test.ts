import { describe, expect, it } from 'vitest'
import { heartbeat, intervalMemory } from '../src/index.js'
import { PathMemory } from '../src/memory.js'
import { rawPeer } from './helpers/raw-peer.js'

function clock (): { now: () => number, advance: (ms: number) => void } {
  let t = 0
  return { now: () => t, advance: (ms) => { t += ms } }
}

describe('interval memory', () => {
  it('starts a connection made soon after a loss at min, one after a clean end where the last one was', () => {
    const c = clock()
    const m = intervalMemory({ clock: c, recentLoss: 1000 }) as PathMemory
    expect(m.start()).toEqual({ interval: undefined, recentLoss: false, floor: 0, idleCap: Infinity })
    m.ended(800, true)
    c.advance(1000)
    expect(m.start().recentLoss).toBe(true)
    c.advance(1)
    expect(m.start().recentLoss).toBe(false)
    m.ended(800, false)
    expect(m.start()).toMatchObject({ interval: 800, recentLoss: false })
    expect(m.snapshot()).toMatchObject({ interval: 800, lostAt: undefined })
  })

  it('searches the idle limit between the longest gap that survived and the shortest after which a connection was lost', () => {
    const m = intervalMemory({ clock: clock() }) as PathMemory
    m.gapSurvived(1000)
    expect(m.idleCap()).toBe(Infinity)
    m.gapFailed(9000)
    expect(m.idleCap()).toBe(5000)
    m.gapSurvived(5000)
    expect(m.idleCap()).toBe(7000)
    m.gapFailed(7000)
    expect(m.idleCap()).toBe(6000)
    m.gapSurvived(6000)
    m.gapFailed(6500)
    // within IDLE_LIMIT_RESOLUTION (10 %): settled on the gap known to survive
    expect(m.idleCap()).toBe(6000)
    expect(m.snapshot().idleLimit).toEqual({ survived: 6000, failed: 6500 })
  })

  it('drops a failure contradicted by a longer gap that survived, and ignores one shorter than a survived gap', () => {
    const m = intervalMemory({ clock: clock() }) as PathMemory
    m.gapFailed(3000)
    m.gapSurvived(4000)
    expect(m.idleCap()).toBe(Infinity)
    m.gapFailed(2000)
    expect(m.snapshot().idleLimit.failed).toBe(Infinity)
  })

  it('forgets what it learned after ttl, and on forget()', () => {
    const c = clock()
    const m = intervalMemory({ clock: c, ttl: 10_000 }) as PathMemory
    m.gapFailed(9000)
    m.tooManyPings(400)
    m.ended(700, false)
    c.advance(10_001)
    expect(m.snapshot()).toEqual({ interval: undefined, lostAt: undefined, minInterval: 0, idleLimit: { survived: 0, failed: Infinity } })
    m.tooManyPings(400)
    m.forget()
    expect(m.snapshot().minInterval).toBe(0)
  })

  it('validates its options, and the stage accepts only a memory made by intervalMemory()', () => {
    expect(() => intervalMemory({ ttl: 0 })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => intervalMemory({ recentLoss: -1 })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => intervalMemory({ clock: {} as never })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    const fake = { snapshot: () => ({}), forget: () => {} }
    expect(() => heartbeat(rawPeer().lower, { adaptiveInterval: { memory: fake as any } })).toThrow('expected adaptiveInterval.memory to be made by intervalMemory(), but got an object')
  })
})
