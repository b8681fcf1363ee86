import { describe, expect, it } from 'vitest'
import type { Decision, Gates } from '../src/decide.js'
import { decide, nextDue } from '../src/decide.js'

const open: Gates = { canPing: true, watching: true, stalled: false, inputReadAt: Infinity, deadline: Infinity }

/** [what, now, lastSentAt, lastReceivedAt, interval, timeout, gates, expected]; `open` has input read already (`inputReadAt: Infinity`) */
type Row = [string, number, number, number, number, number, Partial<Gates>, Decision]

const rows: Row[] = [
  ['idle, nothing due yet: wait for the ping', 500, 0, 0, 1000, 3000, {}, { action: 'wait', until: 1000 }],
  ['a ping exactly interval after the last send', 1000, 0, 0, 1000, 3000, {}, { action: 'ping', until: 3000 }],
  ['a late ping: still one ping, then wait for the dead-peer deadline', 1700, 0, 900, 1000, 3000, {}, { action: 'ping', until: 3900 }],
  ['sending moves the ping', 1500, 1200, 1400, 1000, 3000, {}, { action: 'wait', until: 2200 }],
  ['receiving moves the dead-peer deadline, not the ping', 2100, 2000, 2050, 1000, 3000, {}, { action: 'wait', until: 3000 }],
  ['dead exactly timeout after the last frame', 3000, 2500, 0, 1000, 3000, {}, { action: 'dead', silence: 3000 }],
  ['dead wins over a due ping', 5000, 0, 0, 1000, 3000, {}, { action: 'dead', silence: 5000 }],
  ['a late timer yields to input before judging, and still sends its own due ping', 5000, 0, 0, 1000, 3000, { stalled: true }, { action: 'yield', ping: true }],
  ['an on-time timer also lets pending input be read before judging', 3000, 2500, 0, 1000, 3000, { inputReadAt: -Infinity }, { action: 'yield', ping: false }],
  ['input read before the deadline does not count: read again', 3500, 2500, 0, 1000, 3000, { inputReadAt: 2999 }, { action: 'yield', ping: true }],
  ['no ping while yielding when one already waits to go out', 3500, 2500, 0, 1000, 3000, { inputReadAt: 2999, canPing: false }, { action: 'yield', ping: false }],
  ['input read after the deadline and still silent: dead', 3010, 2500, 0, 1000, 3000, { inputReadAt: 3005 }, { action: 'dead', silence: 3010 }],
  ['a late timer with nothing due just waits', 500, 0, 0, 1000, 3000, { stalled: true }, { action: 'wait', until: 1000 }],
  ['no ping while one waits to go out (or writing is over)', 1500, 0, 1400, 1000, 3000, { canPing: false }, { action: 'wait', until: 4400 }],
  ['the receive clock is suspended while our consumer is behind', 9000, 8500, 0, 1000, 3000, { watching: false }, { action: 'wait', until: 9500 }],
  ['interval 0: never pings', 1_000_000, 0, 999_000, 0, 3000, {}, { action: 'wait', until: 1_002_000 }],
  ['timeout 0: never judges', 1_000_000, 999_500, 0, 1000, 0, {}, { action: 'wait', until: 1_000_500 }],
  ['both 0 and not closing: nothing is ever due', 1_000_000, 0, 0, 0, 0, {}, { action: 'wait', until: Infinity }],
  ['closing: the deadline bounds the wait', 1500, 1200, 1400, 1000, 3000, { deadline: 1800 }, { action: 'wait', until: 1800 }],
  ['closing: past the deadline, give up (before judging the peer)', 5000, 0, 0, 1000, 3000, { deadline: 4000 }, { action: 'expire' }],
  ['closing and pinging: the next look is at the deadline at the latest', 1000, 0, 500, 1000, 3000, { deadline: 1200 }, { action: 'ping', until: 1200 }]
]

describe('decide(): the ping decision as a table', () => {
  for (const [what, now, lastSentAt, lastReceivedAt, interval, timeout, gates, expected] of rows) {
    it(what, () => {
      const g = { ...open, ...gates }
      const clocks = { lastSentAt, lastReceivedAt }
      const policy = { interval, timeout }
      const d = decide(now, clocks, policy, g)
      expect(d).toEqual(expected)
      // nextDue() agrees with what a 'wait' looks for, so re-arming after activity never misses a decision
      if (d.action === 'wait') expect(nextDue(clocks, policy, g)).toBe(d.until)
    })
  }

  it('reads the interval and timeout from the policy each time (a policy may compute them)', () => {
    let calls = 0
    const policy = { get interval () { calls++; return 2000 }, timeout: 5000 }
    expect(decide(1000, { lastSentAt: 0, lastReceivedAt: 0 }, policy, open)).toEqual({ action: 'wait', until: 2000 })
    expect(decide(2000, { lastSentAt: 0, lastReceivedAt: 0 }, policy, open)).toEqual({ action: 'ping', until: 5000 })
    expect(calls).toBeGreaterThan(0)
  })
})
