import { resourceSnapshot, waitForResources } from '@proto/stage-compliance'
import { describe, expect, it } from 'vitest'
import { checkGuarantees } from '../src/checks.js'
import type { ClientTally, DemoSummary } from '../src/index.js'
import { formatSummary, parseCli, runDemo } from '../src/index.js'
import { resolveOptions } from '../src/options.js'
import type { ServerTally } from '../src/server.js'

resourceSnapshot() // start tracking timers before Vitest's hooks create theirs

/** The guarantees reconnect's README documents, asserted one by one so a failure names the broken one. */
function expectGuarantees (s: DemoSummary, messages: number): void {
  for (const c of s.checks) expect(c, c.name).toMatchObject({ ok: true })
  expect(s.error).toBeUndefined()
  expect(s.ok).toBe(true)
  expect(s.sent).toBe(messages)
  expect(s.duplicated).toBe(0)
  expect(s.outOfOrder).toBe(0)
  expect(s.corrupted).toBe(0)
  // at-most-once: every item handed exactly once, none dropped or left unsent with overflow 'wait'
  expect(s.reconnect).toMatchObject({ handed: messages, dropped: 0, unsent: 0 })
  expect(s.lost).toBe(s.lostUp + s.lostDown)
  expect(s.lostUp).toBeLessThanOrEqual(s.reconnect.unconfirmed)
  expect(s.delivered + s.lost).toBe(messages)
}

const sum = (list: number[]): number => list.reduce((a, b) => a + b, 0)

/** The timeline, the per-connection records and the outages tell the same story as the counters. */
function expectConsistentRecord (s: DemoSummary): void {
  const events = s.timeline.events
  expect(events.filter(e => e.type === 'cut')).toHaveLength(s.proxy.cuts)
  expect(events.filter(e => e.type === 'black-hole')).toHaveLength(s.proxy.blackHoles)
  expect(events.filter(e => e.type === 'connected')).toHaveLength(s.connections)
  expect(events.filter(e => e.type === 'heartbeat-timeout' && e.side === 'client')).toHaveLength(s.heartbeatTimeouts.client)
  expect(s.perConnection.map(c => c.id)).toEqual(Array.from({ length: s.connections }, (_, i) => i + 1))
  expect(sum(s.perConnection.map(c => c.handed))).toBe(s.reconnect.handed)
  expect(sum(s.perConnection.map(c => c.receivedByServer))).toBe(s.receivedByServer)
  expect(sum(s.perConnection.map(c => c.delivered))).toBe(s.delivered)
  expect(sum(s.perConnection.map(c => c.lostOut + c.lostBack))).toBe(s.lost)
  expect(s.perConnection.filter(c => c.lost)).toHaveLength(s.lostConnections)
  expect(s.perConnection.at(-1)).toMatchObject({ lost: false, ended: 'closed cleanly (run complete)', lostOut: 0, lostBack: 0 })
  expect(sum(s.timeline.series.handed)).toBe(s.reconnect.handed)
  expect(sum(s.timeline.series.out)).toBe(s.receivedByServer)
  expect(sum(s.timeline.series.back)).toBe(s.delivered)
  expect(s.outages).toHaveLength(s.lostConnections)
  for (const o of s.outages) {
    expect(o.detectMs).toBeGreaterThanOrEqual(0)
    expect(o.redialMs).toBeGreaterThanOrEqual(0)
    expect(o.totalMs).toBeGreaterThanOrEqual(o.detectMs)
  }
}

describe('the demo, in-process', () => {
  it('under cuts, black holes, fragmentation and coalescing: nothing duplicated, reordered or corrupted; every loss counted', async () => {
    const before = resourceSnapshot()
    const s = await runDemo({
      messages: 3_000, size: 128, rate: 1_000, seed: 42,
      cutEvery: [300, 900], blackHoleEvery: [700, 1_200], blackHoleFor: [1_200, 1_400], linkChangeEvery: [100, 300]
    })
    expectGuarantees(s, 3_000)
    // the faults really happened, and the stack really rode through them
    expect(s.proxy.cuts).toBeGreaterThanOrEqual(1)
    expect(s.proxy.blackHoles).toBeGreaterThanOrEqual(1)
    expect(s.proxy.linkChanges).toBeGreaterThanOrEqual(3)
    expect(s.reconnects).toBeGreaterThanOrEqual(1)
    expect(s.lostConnections).toBe(s.connections - 1)
    expect(s.delivered).toBeGreaterThan(0)
    expectConsistentRecord(s)
    expect(await waitForResources(before, 3_000)).toEqual([])
  })

  it('a black hole without cuts is found by the heartbeat, and the client redials', async () => {
    const s = await runDemo({
      messages: 2_500, size: 64, rate: 1_000, seed: 7,
      cutEvery: undefined, blackHoleEvery: [400, 500], blackHoleFor: [1_300, 1_500]
    })
    expectGuarantees(s, 2_500)
    expect(s.proxy.cuts).toBe(0)
    expect(s.proxy.blackHoles).toBeGreaterThanOrEqual(1)
    expect(s.heartbeatTimeouts.client).toBeGreaterThanOrEqual(1)
    expect(s.reconnects).toBeGreaterThanOrEqual(1)
    expectConsistentRecord(s)
    // each outage was a black hole, noticed by the heartbeat about one timeout after it struck
    const holes = s.outages.filter(o => o.detectedBy === 'heartbeat timeout')
    expect(holes.length).toBeGreaterThanOrEqual(1)
    for (const o of holes) {
      expect(o.fault).toBe('black hole')
      expect(o.detectMs).toBeGreaterThanOrEqual(900)
      expect(o.detectMs).toBeLessThan(3_000)
    }
  })

  it('with faults off, every message makes the round trip', async () => {
    const lines: string[] = []
    const s = await runDemo({ messages: 2_000, size: 256, rate: 0, faults: false, seed: 1, output: { write: (t) => { lines.push(t) }, isTTY: false }, progressInterval: 10 })
    expectGuarantees(s, 2_000)
    expect(s).toMatchObject({ lost: 0, lostUp: 0, lostDown: 0, delivered: 2_000, receivedByServer: 2_000, reconnects: 0, lostConnections: 0 })
    expect(s.reconnect.unconfirmed).toBe(0)
    expect(s.proxy).toMatchObject({ cuts: 0, blackHoles: 0, connections: 1 })
    expect(formatSummary(s)).toContain('PASS')
    for (const line of lines) expect(line).not.toContain('\r') // piped output is plain lines
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
    expect(s.reconnect.handed + s.reconnect.dropped + s.reconnect.unsent).toBe(s.sent)
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

describe('the checks', () => {
  const tally = (): ClientTally => ({
    handedByEpoch: [0, 10], deliveredByEpoch: [0, 10], lostEpochs: new Set(), delivered: 10, duplicates: 0, outOfOrder: 0, corrupted: 0,
    heartbeatTimeouts: 0, connections: 1, handedAt: new Float64Array(10), echoAt: [], echoRtt: [], heartbeatAt: [], heartbeatRtt: [], lastRtt: undefined
  })
  const server = (): ServerTally => ({
    received: 10, receivedByEpoch: [0, 10], echoedByEpoch: [0, 10], duplicates: 0, outOfOrder: 0, late: 0, corrupted: 0, connections: 1, heartbeatTimeouts: 0,
    receivedAt: new Float64Array(10)
  })
  const stats = { handed: 10, unconfirmed: 0, dropped: 0, unsent: 0 }
  const run = (c: ClientTally, srv = server(), st = stats, sent = 10, interrupted = false) => {
    const checks = checkGuarantees({ messages: 10, sent, error: undefined, interrupted, client: c, server: srv, stats: st })
    return { ok: checks.every(x => x.ok), checks }
  }

  it('pass a clean run', () => {
    expect(run(tally()).ok).toBe(true)
  })

  it('catch a loss on a connection that was not declared lost', () => {
    const srv = server()
    srv.received = 9
    srv.receivedByEpoch[1] = 9
    srv.echoedByEpoch[1] = 9
    const c = tally()
    c.delivered = 9
    c.deliveredByEpoch[1] = 9
    const s = run(c, srv)
    expect(s.ok).toBe(false)
    expect(s.checks.filter(x => !x.ok).map(x => x.name)).toEqual(['losses within reconnect\'s count', 'connections not lost lost nothing (out)'])
  })

  it('catch duplicates, reordering and corruption', () => {
    const c = tally()
    c.duplicates = 1
    c.outOfOrder = 1
    c.corrupted = 1
    expect(run(c).checks.filter(x => !x.ok).map(x => x.name)).toEqual(['no duplicates', 'in order', 'no corruption'])
  })

  it('catch an unconfirmed count that does not match the lost connections', () => {
    const c = tally()
    c.lostEpochs.add(1)
    expect(run(c).checks.filter(x => !x.ok).map(x => x.name)).toEqual(['unconfirmed = handed to lost connections'])
  })

  it('skip "all sent" on an interrupted run and judge the rest on what was sent', () => {
    const c = tally()
    c.handedByEpoch[1] = 6
    c.deliveredByEpoch[1] = 6
    c.delivered = 6
    const srv = server()
    srv.received = 6
    srv.receivedByEpoch[1] = 6
    srv.echoedByEpoch[1] = 6
    const s = run(c, srv, { ...stats, handed: 6 }, 6, true)
    expect(s.checks[0]).toMatchObject({ name: 'all sent', ok: true, skipped: true })
    expect(s.checks.filter(x => !x.ok)).toEqual([])
    // without the interruption, 6 of 10 sent is a broken guarantee
    expect(run(c, srv, { ...stats, handed: 6 }, 6, false).checks.filter(x => !x.ok).map(x => x.name)).toEqual(['all sent'])
  })
})

describe('the command line', () => {
  it('reads every flag', () => {
    expect(parseCli(['--messages', '500', '--size', '64', '--rate', '0', '--seed', '9', '--cut-every', '100-200', '--blackhole-every', '0', '--blackhole-for', '1500', '--duration-limit', '30'])).toEqual({
      help: false,
      json: false,
      options: { messages: 500, size: 64, rate: 0, seed: 9, cutEvery: [100, 200], blackHoleEvery: undefined, blackHoleFor: [1500, 1500], durationLimit: 30_000 }
    })
    expect(parseCli(['--no-faults'])).toEqual({ help: false, json: false, options: { faults: false } })
    expect(parseCli(['--json', '--report', 'out/r.html'])).toEqual({ help: false, json: true, report: 'out/r.html', options: {} })
    expect(parseCli(['--help'])).toEqual({ help: true })
  })

  it('rejects bad input with InvalidParametersError', () => {
    expect(() => parseCli(['--messages', 'many'])).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => parseCli(['--bogus'])).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => parseCli(['--report', ''])).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => resolveOptions({ size: 8 })).toThrow(expect.objectContaining({ name: 'InvalidParametersError', message: expect.stringMatching(/^expected size to be a whole number from 16/) }))
    expect(() => resolveOptions({ cutEvery: [500, 100] })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })
})
