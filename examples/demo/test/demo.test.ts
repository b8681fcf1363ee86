import { resourceSnapshot, waitForResources } from '@proto/stage-compliance'
import { describe, expect, it } from 'vitest'
import { adaptiveInterval } from '../src/heartbeat-events.js'
import { formatSummary, runDemo } from '../src/index.js'
import { expectAtMostOnce, expectConsistentRecord, expectExactlyOnce } from './expect-run.js'

resourceSnapshot() // start tracking timers before Vitest's hooks create theirs

/** Cuts, black holes, fragmentation and coalescing, dense enough that a 3-second run meets every kind. */
const HOSTILE = { cutEvery: [300, 900], blackHoleEvery: [700, 1_200], blackHoleFor: [1_200, 1_400], linkChangeEvery: [100, 300] } as const

describe('the demo, in-process', () => {
  it('with sessions, under cuts, black holes, fragmentation and coalescing: 0 lost, 0 duplicated, in order, both ways', async () => {
    const before = resourceSnapshot()
    const s = await runDemo({ messages: 3_000, size: 128, rate: 1_000, seed: 42, ...HOSTILE })
    expectExactlyOnce(s, 3_000)
    // the faults really happened, and the session rode through them: resumed on every reconnect, replaying
    expect(s.proxy.cuts).toBeGreaterThanOrEqual(1)
    expect(s.proxy.blackHoles).toBeGreaterThanOrEqual(1)
    expect(s.proxy.linkChanges).toBeGreaterThanOrEqual(3)
    expect(s.reconnects).toBeGreaterThanOrEqual(1)
    expect(s.lostConnections).toBe(s.connections - 1)
    const x = s.session
    expect(x?.client.resumes).toBeGreaterThanOrEqual(1)
    expect(x?.server.resumes).toBe(x?.client.resumes)
    expect((x?.client.replayed ?? 0) + (x?.server.replayed ?? 0)).toBeGreaterThan(0)
    expectConsistentRecord(s)
    expect(formatSummary(s)).toMatch(/^PASS: every documented guarantee held: 3,000 messages and their echoes, each exactly once and in order$/m)
    expect(await waitForResources(before, 3_000)).toEqual([])
  })

  it('without sessions (--no-session), under the same faults: nothing duplicated, reordered or corrupted; every loss counted', async () => {
    const before = resourceSnapshot()
    const s = await runDemo({ messages: 3_000, size: 128, rate: 1_000, seed: 42, session: false, ...HOSTILE })
    expectAtMostOnce(s, 3_000)
    // the faults really happened, and the stack really rode through them
    expect(s.proxy.cuts).toBeGreaterThanOrEqual(1)
    expect(s.proxy.blackHoles).toBeGreaterThanOrEqual(1)
    expect(s.proxy.linkChanges).toBeGreaterThanOrEqual(3)
    expect(s.reconnects).toBeGreaterThanOrEqual(1)
    expect(s.lostConnections).toBe(s.connections - 1)
    expect(s.delivered).toBeGreaterThan(0)
    expect(s.lost).toBeGreaterThan(0) // at most once: what was in flight at a cut is gone, and counted
    expectConsistentRecord(s)
    expect(await waitForResources(before, 3_000)).toEqual([])
  })

  it('a black hole without cuts is found by the heartbeat, the client redials and the session resumes', async () => {
    const s = await runDemo({
      messages: 2_500, size: 64, rate: 1_000, seed: 7,
      cutEvery: undefined, blackHoleEvery: [400, 500], blackHoleFor: [1_300, 1_500]
    })
    expectExactlyOnce(s, 2_500)
    expect(s.proxy.cuts).toBe(0)
    expect(s.proxy.blackHoles).toBeGreaterThanOrEqual(1)
    expect(s.heartbeatTimeouts.client).toBeGreaterThanOrEqual(1)
    expect(s.reconnects).toBeGreaterThanOrEqual(1)
    expectConsistentRecord(s)
    // each outage was a black hole, noticed by the heartbeat about one timeout after it struck: with the
    // adaptive interval, no sooner than its shortest timeout (min + grace), no later than the configured one
    const { min, grace } = adaptiveInterval(s.settings.heartbeatInterval, s.settings.heartbeatTimeout)
    const holes = s.outages.filter(o => o.detectedBy === 'heartbeat timeout')
    expect(holes.length).toBeGreaterThanOrEqual(1)
    for (const o of holes) {
      expect(o.fault).toBe('black hole')
      expect(o.detectMs).toBeGreaterThanOrEqual((min ?? 0) + (grace ?? 0) - 100)
      expect(o.detectMs).toBeLessThan(3_000)
    }
  })

  it('with faults off, every message makes the round trip, with sessions or without', async () => {
    for (const session of [true, false]) {
      const lines: string[] = []
      const s = await runDemo({ messages: 2_000, size: 256, rate: 0, faults: false, seed: 1, session, output: { write: (t) => { lines.push(t) }, isTTY: false }, progressInterval: 10 })
      if (session) expectExactlyOnce(s, 2_000)
      else expectAtMostOnce(s, 2_000)
      expect(s).toMatchObject({ lost: 0, lostUp: 0, lostDown: 0, delivered: 2_000, receivedByServer: 2_000, reconnects: 0, lostConnections: 0 })
      expect(s.reconnect.unconfirmed).toBe(0)
      expect(s.proxy).toMatchObject({ cuts: 0, blackHoles: 0, connections: 1 })
      expect(formatSummary(s)).toContain('PASS')
      expect(lines.some(l => l.includes('replayed 0,'))).toBe(session) // the progress line counts replays with sessions
      for (const line of lines) expect(line).not.toContain('\r') // piped output is plain lines
    }
  })

  it('stops early on its signal with a partial summary, every count still balanced, everything closed', async () => {
    const before = resourceSnapshot()
    const stop = new AbortController()
    const timer = setTimeout(() => { stop.abort() }, 800)
    const s = await runDemo({ messages: 100_000, size: 64, rate: 1_000, seed: 5, cutEvery: [250, 350], blackHoleEvery: undefined, signal: stop.signal })
    clearTimeout(timer)
    expect(s).toMatchObject({ interrupted: true, outcome: 'interrupted', ok: false, error: undefined })
    expect(s.sent).toBeGreaterThan(0)
    expect(s.sent).toBeLessThan(100_000)
    expect(s.checks[0]).toMatchObject({ name: 'all sent', skipped: true })
    for (const c of s.checks) expect(c, c.name).toMatchObject({ ok: true })
    // the session's ledger accounts for every message the client sent, in exactly one place
    const l = s.session?.client.ledger
    expect(l?.accepted).toBe(s.sent)
    expect(l === undefined ? NaN : l.waiting + l.buffered + l.retained + l.confirmed + l.unconfirmed + l.dropped + l.cleared + l.rejected + l.unsent).toBe(s.sent)
    expect(s.delivered + s.lost).toBe(s.sent)
    expect(s.timeline.events.some(e => e.type === 'interrupted')).toBe(true)
    expect(formatSummary(s)).toMatch(/PARTIAL: interrupted/)
    expect(s.durationMs).toBeLessThan(5_000)
    expect(await waitForResources(before, 3_000)).toEqual([])
  })

  it('rejects at once when its signal is already aborted', async () => {
    const stop = new AbortController()
    stop.abort(new Error('not today'))
    await expect(runDemo({ signal: stop.signal })).rejects.toThrow('not today')
  })

  it('fails loudly at the duration limit and still closes everything', async () => {
    const before = resourceSnapshot()
    const s = await runDemo({ messages: 1_000_000, rate: 1_000, faults: false, durationLimit: 300 })
    expect(s.ok).toBe(false)
    expect(s.error).toMatch(/^DeadlineError/)
    expect(s.checks.find(c => c.name === 'all sent')?.ok).toBe(false)
    expect(await waitForResources(before, 3_000)).toEqual([])
  })
})
