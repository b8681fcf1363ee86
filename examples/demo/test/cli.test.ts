import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { DemoSummary } from '../src/index.js'
import { startDemo, waitFor } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'proto-demo-cli-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

/** The summary embedded in a report. */
function embedded (html: string): DemoSummary {
  const m = /<script type="application\/json" id="demo-data">(.*?)<\/script>/s.exec(html)
  if (m === null) throw new Error('no embedded data in the report')
  return JSON.parse(m[1]) as DemoSummary
}

describe('the command line, as a process', () => {
  it('--json prints one JSON object on stdout and nothing else, with the session\'s counts; the report is written', async () => {
    const report = join(dir, 'json.html')
    const demo = startDemo(['--messages', '1500', '--size', '64', '--rate', '1000', '--seed', '3', '--cut-every', '300-500', '--blackhole-every', '0', '--json', '--report', report])
    const { code, signal } = await demo.exited
    expect(demo.stderr()).toContain('report: ')
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    const lines = demo.stdout().split('\n')
    expect(lines.at(-1)).toBe('') // one line, newline-terminated
    expect(lines).toHaveLength(2)
    const s = JSON.parse(lines[0]) as DemoSummary & { report: string }
    expect(s).toMatchObject({ ok: true, outcome: 'pass', interrupted: false, seed: 3, messages: 1_500, sent: 1_500, report })
    // with sessions (the default): nothing lost either way, and the session's own counts to show for it
    expect(s).toMatchObject({ settings: { session: true }, lost: 0, delivered: 1_500, receivedByServer: 1_500, duplicated: 0, outOfOrder: 0 })
    expect(s.session?.client).toMatchObject({ acked: 1_500, resumes: s.reconnects, sessionsLost: 0 })
    expect(s.session?.server).toMatchObject({ acked: 1_500, delivered: 1_500, sessionsLost: 0, used: 1 })
    expect(s.reconnects).toBeGreaterThanOrEqual(1)
    for (const key of ['replayed', 'deduplicated', 'acked', 'resumes', 'sessionsLost'] as const) expect(typeof s.session?.client[key]).toBe('number')
    expect(s.checks.every(c => c.ok)).toBe(true)
    expect(s.perConnection).toHaveLength(s.connections)
    expect(s.timeline.events.filter(e => e.type === 'cut')).toHaveLength(s.proxy.cuts)
    // a percentile is a number when there are samples, and null in JSON when there are none (never NaN)
    expect(s.rtt.heartbeat.count === 0 ? s.rtt.heartbeatP50 === null : Number.isFinite(s.rtt.heartbeatP50)).toBe(true)
    expect(existsSync(report)).toBe(true)
    expect(embedded(readFileSync(report, 'utf8'))).toMatchObject({ seed: 3, sent: 1_500, outcome: 'pass' })
  })

  it('Ctrl-C (SIGINT) prints the summary so far, marked partial, writes the report, and exits 130 by itself', async () => {
    const report = join(dir, 'partial.html')
    const demo = startDemo(['--messages', '100000', '--size', '64', '--rate', '1000', '--seed', '9', '--cut-every', '300-600', '--blackhole-every', '0', '--report', report])
    await waitFor('the first progress line', () => /sent \d+\/100000/.test(demo.stdout()), 20_000)
    const signalledAt = Date.now()
    demo.child.kill('SIGINT')
    const { code, signal } = await demo.exited
    // it ended by itself (nothing left open keeps it alive), soon after the signal, with 128 + SIGINT
    expect({ code, signal }).toEqual({ code: 130, signal: null })
    expect(Date.now() - signalledAt).toBeLessThan(10_000)
    const out = demo.stdout()
    expect(demo.stderr()).toContain('interrupted: stopping')
    expect(out).toMatch(/PARTIAL: interrupted/)
    expect(out).toMatch(/skip {2}all sent: interrupted after \d+ of 100000/)
    expect(out).toMatch(/INTERRUPTED after [\d.]+ s: a partial run/)
    expect(out).not.toMatch(/FAIL/)
    expect(out).toContain(`report: ${report}`)
    const s = embedded(readFileSync(report, 'utf8'))
    expect(s).toMatchObject({ interrupted: true, outcome: 'interrupted' })
    expect(s.sent).toBeGreaterThan(0)
    expect(s.sent).toBeLessThan(100_000)
    // the session's ledger accounts for every message sent, in exactly one place
    const l = s.session?.client.ledger
    expect(l?.accepted).toBe(s.sent)
    expect(l === undefined ? NaN : l.waiting + l.buffered + l.retained + l.confirmed + l.unconfirmed + l.dropped + l.cleared + l.rejected + l.unsent).toBe(s.sent)
    expect(readFileSync(report, 'utf8')).toContain('data-outcome="interrupted"')
  })

  it('--no-session runs today\'s at-most-once stack: losses under faults, each within reconnect\'s count', async () => {
    const report = join(dir, 'no-session.html')
    const demo = startDemo(['--no-session', '--messages', '1500', '--size', '64', '--rate', '1000', '--seed', '3', '--cut-every', '300-500', '--blackhole-every', '0', '--json', '--report', report])
    expect(await demo.exited).toEqual({ code: 0, signal: null })
    const s = JSON.parse(demo.stdout()) as DemoSummary
    expect(s).toMatchObject({ ok: true, outcome: 'pass', session: null, settings: { session: false }, sent: 1_500 })
    expect(s.delivered + s.lost).toBe(1_500)
    expect(s.lostUp).toBeLessThanOrEqual(s.reconnect.unconfirmed)
    expect(s.checks.map(c => c.name)).toContain('losses within reconnect\'s count')
    expect(s.perConnection.every(c => c.session === null)).toBe(true)
    expect(readFileSync(report, 'utf8')).toContain('no session (at most once)')
  })

  it('a report that cannot be written is said so, with the summary still printed, and exits 2', async () => {
    const demo = startDemo(['--messages', '200', '--no-faults', '--report', '/dev/null/report.html'])
    expect(await demo.exited).toEqual({ code: 2, signal: null })
    expect(demo.stdout()).toContain('PASS: every documented guarantee held')
    expect(demo.stderr()).toMatch(/could not write the report: .*pass --report <file> to write it elsewhere/)
  })

  it('bad usage exits 64 with the reason and the help', async () => {
    const demo = startDemo(['--messages', 'lots'])
    expect(await demo.exited).toEqual({ code: 64, signal: null })
    expect(demo.stderr()).toMatch(/--messages expects a whole number; got 'lots'/)
    expect(demo.stderr()).toContain('Usage:')
    expect(demo.stdout()).toBe('')
  })
})
