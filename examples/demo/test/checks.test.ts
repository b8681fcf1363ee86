import { describe, expect, it } from 'vitest'
import type { CheckInput } from '../src/checks.js'
import { checkGuarantees } from '../src/checks.js'
import type { ServerTally } from '../src/echo-check.js'
import { newServerTally } from '../src/echo-check.js'
import type { ClientTally } from '../src/index.js'
import { parseCli } from '../src/index.js'
import { resolveOptions } from '../src/options.js'
import type { ServerSessionReport, SessionSide } from '../src/session-summary.js'
import { emptySide } from '../src/session-summary.js'
import { newClientTally } from '../src/traffic.js'

/** A clean made-up run of 10 messages on one connection: everything through, once, in order. */
function clean (): { client: ClientTally, server: ServerTally } {
  const client = newClientTally(10)
  Object.assign(client, { handedByEpoch: [0, 10], deliveredByEpoch: [0, 10], delivered: 10, connections: 1 })
  const server = newServerTally(10)
  Object.assign(server, { received: 10, receivedByEpoch: [0, 10], echoedByEpoch: [0, 10], connections: 1 })
  return { client, server }
}

const stats = { handed: 10, unconfirmed: 0, dropped: 0, unsent: 0 }
const failed = (input: CheckInput): string[] => checkGuarantees(input).filter(x => !x.ok).map(x => x.name)

describe('the checks without sessions (at most once)', () => {
  const input = (t = clean(), st = stats, sent = 10, interrupted = false): CheckInput =>
    ({ messages: 10, sent, error: undefined, interrupted, drainCut: false, client: t.client, server: t.server, stats: st, session: undefined })

  it('pass a clean run, each check saying what it means', () => {
    const checks = checkGuarantees(input())
    expect(checks.map(c => c.name)).toEqual(['all sent', 'no duplicates', 'in order', 'no corruption', 'every message counted once', 'losses within reconnect\'s count',
      'unconfirmed = handed to lost connections', 'connections not lost lost nothing (out)', 'connections not lost lost nothing (back)', 'echo losses only on lost connections'])
    for (const c of checks) expect(c, c.name).toMatchObject({ ok: true, help: expect.stringMatching(/\w{3}/) })
  })

  it('catch a loss on a connection that was not declared lost', () => {
    const t = clean()
    Object.assign(t.server, { received: 9, receivedByEpoch: [0, 9], echoedByEpoch: [0, 9] })
    Object.assign(t.client, { delivered: 9, deliveredByEpoch: [0, 9] })
    expect(failed(input(t))).toEqual(['losses within reconnect\'s count', 'connections not lost lost nothing (out)'])
  })

  it('catch duplicates, reordering and corruption', () => {
    const t = clean()
    Object.assign(t.client, { duplicates: 1, outOfOrder: 1, corrupted: 1 })
    expect(failed(input(t))).toEqual(['no duplicates', 'in order', 'no corruption'])
  })

  it('catch an unconfirmed count that does not match the lost connections', () => {
    const t = clean()
    t.client.lostEpochs.add(1)
    expect(failed(input(t))).toEqual(['unconfirmed = handed to lost connections'])
  })

  it('skip "all sent" on an interrupted run and judge the rest on what was sent', () => {
    const t = clean()
    Object.assign(t.client, { handedByEpoch: [0, 6], deliveredByEpoch: [0, 6], delivered: 6 })
    Object.assign(t.server, { received: 6, receivedByEpoch: [0, 6], echoedByEpoch: [0, 6] })
    const checks = checkGuarantees(input(t, { ...stats, handed: 6 }, 6, true))
    expect(checks[0]).toMatchObject({ name: 'all sent', ok: true, skipped: true })
    expect(checks.filter(x => !x.ok)).toEqual([])
    // without the interruption, 6 of 10 sent is a broken guarantee
    expect(failed(input(t, { ...stats, handed: 6 }, 6, false))).toEqual(['all sent'])
  })
})

describe('the checks with sessions (exactly once)', () => {
  const side = (n: number): SessionSide => {
    const s = emptySide()
    Object.assign(s, { acked: n, delivered: n, written: n })
    Object.assign(s.ledger, { accepted: n, confirmed: n })
    return s
  }
  const server = (n: number): ServerSessionReport => ({ ...side(n), sessions: 1, used: 1, takeovers: 0, expired: 0, evicted: 0, refused: 0, errors: [] })
  const input = (t = clean(), session = { client: side(10), server: server(10) }, extra: Partial<CheckInput> = {}): CheckInput =>
    ({ messages: 10, sent: 10, error: undefined, interrupted: false, drainCut: false, client: t.client, server: t.server, stats, session, ...extra })

  it('pass a clean run, each check saying what it means', () => {
    const checks = checkGuarantees(input())
    expect(checks.map(c => c.name)).toEqual(['all sent', 'nothing lost (out)', 'nothing lost (back)', 'no duplicates', 'in order', 'no corruption',
      'all acknowledged (out)', 'all acknowledged (back)', 'no session lost', 'session counts agree'])
    for (const c of checks) expect(c, c.name).toMatchObject({ ok: true, help: expect.stringMatching(/\w{3}/) })
  })

  describe('with --servers', () => {
    const counts = [{ node: 0, delivered: 4, ledger: 4, judged: true }, { node: 1, delivered: 6, ledger: 6, judged: true }]
    // two servers: a session that moved took its unacknowledged echoes along; the one where it ended has only its own
    const servers = (): { client: SessionSide, server: ServerSessionReport } => {
      const s = server(10)
      Object.assign(s.ledger, { accepted: 6, confirmed: 6 })
      return { client: side(10), server: s }
    }

    it('--kill term: exactly once, judged on the servers together and each server against its ledger', () => {
      expect(failed(input(clean(), servers(), { servers: { kill: 'term', counts } }))).toEqual([])
      const t = clean()
      Object.assign(t.server, { duplicates: 1 })
      expect(failed(input(t, servers(), { servers: { kill: 'term', counts } }))).toEqual(['no duplicates'])
      expect(failed(input(clean(), servers(), { servers: { kill: 'term', counts: [counts[0], { ...counts[1], delivered: 7 }] } }))).toEqual(['session counts agree'])
      // an echo the servers' applications wrote that never reached the client
      const lost = clean()
      Object.assign(lost.client, { delivered: 9, deliveredByEpoch: [0, 9] })
      expect(failed(input(lost, { ...servers(), client: { ...side(10), delivered: 9 } }, { servers: { kill: 'term', counts } }))).toEqual(['nothing lost (back)'])
    })

    it('--kill kill: duplicates allowed up to the client\'s count of possible ones; a SIGKILLed server\'s counts are not judged', () => {
      const t = clean()
      Object.assign(t.server, { duplicates: 3 })
      Object.assign(t.client, { duplicates: 2 })
      const x = servers()
      Object.assign(x.client, { possibleDuplicates: 3, delivered: 12 })
      const unjudged = [counts[0], { node: 1, delivered: 2, ledger: 6, judged: false }]
      const checks = checkGuarantees(input(t, x, { servers: { kill: 'kill', counts: unjudged } }))
      expect(checks.filter(c => !c.ok)).toEqual([])
      expect(checks.map(c => c.name)).toContain('duplicates within the possible duplicates')
      expect(checks.find(c => c.name === 'session counts agree')?.detail).toContain('not judged: server 1 (SIGKILLed')
      x.client.possibleDuplicates = 2
      expect(failed(input(t, x, { servers: { kill: 'kill', counts: unjudged } }))).toEqual(['duplicates within the possible duplicates'])
    })
  })

  it('catch a message that never reached the server, and the ledger that did not count it acknowledged', () => {
    const t = clean()
    Object.assign(t.server, { received: 9, receivedByEpoch: [0, 9], echoedByEpoch: [0, 9] })
    Object.assign(t.client, { delivered: 9, deliveredByEpoch: [0, 9] })
    const client = side(9)
    Object.assign(client.ledger, { accepted: 10, unconfirmed: 1 })
    expect(failed(input(t, { client, server: server(9) }))).toEqual(['nothing lost (out)', 'all acknowledged (out)'])
  })

  it('catch an echo lost on the way back', () => {
    const t = clean()
    Object.assign(t.client, { delivered: 9, deliveredByEpoch: [0, 9] })
    expect(failed(input(t, { client: { ...side(10), delivered: 9 }, server: server(10) }))).toEqual(['nothing lost (back)'])
  })

  it('catch duplicates and reordering across the session, and counts that disagree with the demo', () => {
    const t = clean()
    Object.assign(t.server, { duplicates: 1, outOfOrder: 1 })
    expect(failed(input(t))).toEqual(['no duplicates', 'in order'])
    expect(failed(input(clean(), { client: { ...side(10), delivered: 11 }, server: server(10) }))).toEqual(['session counts agree'])
  })

  it('catch a lost session, a reconnect that did not resume, and a second session that carried messages', () => {
    const client = side(10)
    client.sessionsLost = 1
    expect(failed(input(clean(), { client, server: server(10) }))).toEqual(['no session lost'])
    const t = clean()
    t.client.connections = 2 // one reconnect, and no resume
    expect(failed(input(t))).toEqual(['no session lost'])
    expect(failed(input(clean(), { client: side(10), server: { ...server(10), used: 2 } }))).toEqual(['no session lost'])
    const s = server(10)
    s.errors.push('SessionLostError: expired')
    expect(checkGuarantees(input(clean(), { client: side(10), server: s })).find(c => c.name === 'no session lost')?.detail).toMatch(/SessionLostError: expired/)
  })

  it('on an interrupted run whose drain was cut short, skip what needs everything through, and say what was given up', () => {
    const t = clean()
    Object.assign(t.server, { received: 7, receivedByEpoch: [0, 7], echoedByEpoch: [0, 7] })
    Object.assign(t.client, { delivered: 5, deliveredByEpoch: [0, 5] })
    const client = side(7)
    Object.assign(client, { delivered: 5 })
    Object.assign(client.ledger, { accepted: 10, unconfirmed: 3 })
    const srv = server(5)
    Object.assign(srv, { delivered: 7 })
    Object.assign(srv.ledger, { accepted: 7, unconfirmed: 2 })
    const checks = checkGuarantees(input(t, { client, server: srv }, { interrupted: true, drainCut: true }))
    expect(checks.filter(c => c.skipped === true).map(c => c.name)).toEqual(['all sent', 'nothing lost (out)', 'nothing lost (back)', 'all acknowledged (out)', 'all acknowledged (back)', 'no session lost'])
    expect(checks.find(c => c.name === 'nothing lost (out)')?.detail).toMatch(/3 messages and 2 echoes still in flight were given up/)
    expect(checks.filter(c => !c.ok)).toEqual([])
    // the same numbers on a run that was not cut short are broken guarantees
    expect(failed(input(t, { client, server: srv }, { interrupted: true }))).toEqual(['nothing lost (out)', 'nothing lost (back)', 'all acknowledged (out)', 'all acknowledged (back)'])
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
    expect(parseCli(['--no-session'])).toEqual({ help: false, json: false, options: { session: false } })
    expect(parseCli(['--json', '--report', 'out/r.html'])).toEqual({ help: false, json: true, report: 'out/r.html', options: {} })
    expect(parseCli(['--help'])).toEqual({ help: true })
  })

  it('runs with sessions unless told otherwise', () => {
    expect(resolveOptions({}).session).toBe(true)
    expect(resolveOptions({ session: false }).session).toBe(false)
  })

  it('rejects bad input with InvalidParametersError', () => {
    expect(() => parseCli(['--messages', 'many'])).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => parseCli(['--bogus'])).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => parseCli(['--report', ''])).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => resolveOptions({ size: 8 })).toThrow(expect.objectContaining({ name: 'InvalidParametersError', message: expect.stringMatching(/^expected size to be a whole number from 16/) }))
    expect(() => resolveOptions({ cutEvery: [500, 100] })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => resolveOptions({ session: 'yes' as unknown as boolean })).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })
})
