import { describe, expect, it } from 'vitest'
import { MAX_OUTSTANDING_PINGS } from '../src/constants.js'
import { OutstandingPings } from '../src/rtt.js'

const FIXED = new Uint8Array(0)

/** Sends `n` sequence pings at times 10, 20, …; returns their bodies. */
function sendMany (pings: OutstandingPings, n: number, from = 1): Uint8Array[] {
  const bodies: Uint8Array[] = []
  for (let i = 0; i < n; i++) {
    const body = pings.nextBody()
    bodies.push(body)
    pings.sent(pings.lastSeq, (from + i) * 10)
  }
  return bodies
}

describe('outstanding pings', () => {
  it('matches pongs in order with a fixed body', () => {
    const pings = new OutstandingPings()
    expect(pings.match(FIXED, false)).toBeUndefined()
    expect(pings.oldestSentAt).toBeUndefined()
    pings.sent(1, 10)
    pings.sent(2, 20)
    pings.sent(3, 30)
    expect(pings.length).toBe(3)
    expect(pings.oldestSentAt).toBe(10)
    expect(pings.match(FIXED, false)).toBe(10)
    expect(pings.match(FIXED, false)).toBe(20)
    expect(pings.oldestSentAt).toBe(30)
    expect(pings.match(FIXED, false)).toBe(30)
    expect(pings.length).toBe(0)
    expect(pings.match(FIXED, false)).toBeUndefined()
  })

  it('matches a sequence pong by its body and forgets every older ping', () => {
    const pings = new OutstandingPings()
    const bodies = sendMany(pings, 4)
    expect(pings.match(bodies[2], true)).toBe(30)
    expect(pings.length).toBe(1)
    expect(pings.oldestSentAt).toBe(40)
    // an older ping's pong, arriving late, matches nothing now
    expect(pings.match(bodies[0], true)).toBeUndefined()
    expect(pings.match(bodies[3], true)).toBe(40)
    expect(pings.length).toBe(0)
  })

  it('a single ping out is matched, and the next one starts afresh', () => {
    const pings = new OutstandingPings()
    for (let round = 1; round <= 3; round++) {
      const [body] = sendMany(pings, 1, round)
      expect(pings.oldestSentAt).toBe(round * 10)
      expect(pings.match(body as Uint8Array, true)).toBe(round * 10)
      expect(pings.length).toBe(0)
    }
  })

  it('keeps at most MAX_OUTSTANDING_PINGS, forgetting the oldest', () => {
    const pings = new OutstandingPings()
    const bodies = sendMany(pings, MAX_OUTSTANDING_PINGS + 3)
    expect(pings.length).toBe(MAX_OUTSTANDING_PINGS)
    expect(pings.oldestSentAt).toBe(40)
    expect(pings.match(bodies[2] as Uint8Array, true)).toBeUndefined()
    expect(pings.match(bodies[MAX_OUTSTANDING_PINGS + 2] as Uint8Array, true)).toBe((MAX_OUTSTANDING_PINGS + 3) * 10)
    expect(pings.length).toBe(0)
  })

  it('ignores a pong whose body is neither sequence length, or whose sequence was never sent', () => {
    const pings = new OutstandingPings()
    sendMany(pings, 2)
    expect(pings.match(new Uint8Array(3), true)).toBeUndefined()
    const stranger = new OutstandingPings()
    for (let i = 0; i < 5; i++) stranger.nextBody()
    expect(pings.match(stranger.nextBody(), true)).toBeUndefined()
    expect(pings.length).toBe(2)
  })
})
