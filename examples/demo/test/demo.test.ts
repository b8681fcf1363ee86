import { resourceSnapshot, waitForResources } from '@proto/stage-compliance'
import { describe, expect, it } from 'vitest'
import { check } from '../src/checks.js'
import type { ClientTally } from '../src/demo.js'
import type { DemoSummary } from '../src/index.js'
import { formatSummary, parseCli, percentile, runDemo } from '../src/index.js'
import { resolveOptions } from '../src/options.js'

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
  const o = resolveOptions({ messages: 10, seed: 1 })
  const tally = (): ClientTally => ({
    handedByEpoch: [0, 10], deliveredByEpoch: [0, 10], lostEpochs: new Set(), delivered: 10, duplicates: 0, outOfOrder: 0, corrupted: 0,
    heartbeatTimeouts: 0, connections: 1, handedAt: new Float64Array(10), echoRtt: [], heartbeatRtt: [], lastRtt: undefined
  })
  const server = () => ({ received: 10, receivedByEpoch: [0, 10], echoedByEpoch: [0, 10], duplicates: 0, outOfOrder: 0, late: 0, corrupted: 0, connections: 1, heartbeatTimeouts: 0 })
  const stats = { handed: 10, unconfirmed: 0, dropped: 0, unsent: 0, discardedInbound: 0, attempts: 1, reconnects: 0 } as any
  const run = (c: ClientTally, srv = server(), st = stats) => check({ o, sent: 10, durationMs: 1, error: undefined, client: c, server: srv, stats: st, proxy: undefined, faults: undefined, percentile })

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
})

describe('the command line', () => {
  it('reads every flag', () => {
    expect(parseCli(['--messages', '500', '--size', '64', '--rate', '0', '--seed', '9', '--cut-every', '100-200', '--blackhole-every', '0', '--blackhole-for', '1500', '--duration-limit', '30'])).toEqual({
      help: false,
      options: { messages: 500, size: 64, rate: 0, seed: 9, cutEvery: [100, 200], blackHoleEvery: undefined, blackHoleFor: [1500, 1500], durationLimit: 30_000 }
    })
    expect(parseCli(['--no-faults'])).toEqual({ help: false, options: { faults: false } })
    expect(parseCli(['--help'])).toEqual({ help: true })
  })

  it('rejects bad input with InvalidParametersError', () => {
    expect(() => parseCli(['--messages', 'many'])).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => parseCli(['--bogus'])).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => resolveOptions({ size: 8 })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })
})
