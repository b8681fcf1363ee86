import { describe, expect, it } from 'vitest'
import { connectionRecords, outages } from '../src/connections.js'
import { distribution } from '../src/distribution.js'
import { formatSummary } from '../src/format-summary.js'
import { renderReport } from '../src/index.js'
import type { TimelineEvent } from '../src/timeline.js'
import { bucketWidth, buildTimeline } from '../src/timeline.js'
import { madeUp, madeUpSession } from './made-up.js'

const sumOf = (list: number[]): number => list.reduce((a, b) => a + b, 0)

/** A second line of an explanation: it would mean the explanation did not fit on one. */
const isContinuation = (line: string): boolean => /^ {20,}\S/.test(line) && !line.includes('↳')

describe('the run record', () => {
  it('percentiles and a log histogram, four bins per decade', () => {
    const d = distribution([0.5, 1, 2, 3, 4, 5, 6, 7, 8, 900])
    expect(d).toMatchObject({ count: 10, min: 0.5, p50: 4, p90: 8, p99: 900, max: 900 })
    expect(d.histogram.counts.reduce((a, b) => a + b, 0)).toBe(10)
    for (let i = 1; i < d.histogram.edges.length; i++) expect(d.histogram.edges[i] / d.histogram.edges[i - 1]).toBeCloseTo(10 ** 0.25, 6)
    expect(d.histogram.edges[0]).toBeLessThanOrEqual(0.5)
    expect(d.histogram.edges.at(-1)).toBeGreaterThan(900)
    expect(distribution([])).toMatchObject({ count: 0, p50: NaN, histogram: { edges: [], counts: [] } })
  })

  it('buckets: about 200 per run, never under 100 ms, counts by time', () => {
    expect([1_000, 10_000, 60_000, 120_000, 3_600_000].map(bucketWidth)).toEqual([100, 100, 500, 1_000, 20_000])
    const t = buildTimeline({ durationMs: 350, handedAt: [10, 110, NaN, 349], replayAt: [210], serverAt: [], echoAt: [120, 130], echoRtt: [5, 9], heartbeatAt: [], heartbeatRtt: [], events: [] })
    expect(t).toMatchObject({ bucketMs: 100, buckets: 4 })
    expect(t.series.handed).toEqual([1, 1, 0, 1])
    expect(t.series.replayed).toEqual([0, 0, 1, 0])
    expect(t.series.back).toEqual([0, 2, 0, 0])
    expect(t.series.rttP50).toEqual([null, 5, null, null])
    expect(t.series.rttMax).toEqual([null, 9, null, null])
    // the ping interval is a step series: the value in force at each bucket's end, null before the first
    expect(t.series.heartbeatInterval).toEqual([null, null, null, null])
    const i = buildTimeline({ durationMs: 350, handedAt: [], replayAt: [], serverAt: [], echoAt: [], echoRtt: [], heartbeatAt: [], heartbeatRtt: [], intervalAt: [120, 150, 160], interval: [250, 125, 500], events: [] })
    expect(i.series.heartbeatInterval).toEqual([null, 500, 500, 500])
  })

  it('per connection: what it carried and lost, how it ended; per outage: the fault, detection, redial, first echo', () => {
    const s = madeUp()
    expect(s.perConnection).toEqual([
      { id: 1, openedAtMs: 5, closedAtMs: 1_010, lifeMs: 1_005, handed: 6, receivedByServer: 5, echoedByServer: 5, delivered: 5, lostOut: 1, lostBack: 0, lost: true, ended: 'closed by the peer (FIN)', session: null, node: null },
      { id: 2, openedAtMs: 1_060, closedAtMs: 2_000, lifeMs: 940, handed: 4, receivedByServer: 4, echoedByServer: 4, delivered: 4, lostOut: 0, lostBack: 0, lost: false, ended: 'closed cleanly (run complete)', session: null, node: null }
    ])
    expect(s.outages).toEqual([{
      connection: 1, fault: 'FIN cut', brokenAtMs: 1_000, lostAtMs: 1_010, detectedBy: 'closed by the peer (FIN)', reconnectedAtMs: 1_060, restoredAtMs: 1_150,
      detectMs: 10, redialMs: 50, totalMs: 150, lostMessages: 1, replayedAfter: null
    }])
    // a loss with no fault shortly before it is not pinned on an old one
    const events: TimelineEvent[] = [
      { type: 'connected', atMs: 0, connection: 1, attempt: 1 },
      { type: 'cut', atMs: 100, mode: 'reset', connections: 1 },
      { type: 'disconnected', atMs: 5_000, connection: 1, reason: 'read-error', error: 'Error: boom', cause: 'read-error: Error' }
    ]
    const records = connectionRecords(events, { handedByEpoch: [], receivedByEpoch: [], echoedByEpoch: [], deliveredByEpoch: [], lostOutByEpoch: [] }, 6_000, 'interrupted')
    expect(outages(events, records, [], 2_000)[0]).toMatchObject({ fault: 'unknown', detectMs: 0, reconnectedAtMs: undefined, totalMs: undefined })
  })

  it('with sessions: each connection opened or resumed the session and has its share of its counters; what went again after an outage', () => {
    const s = madeUpSession()
    expect(s.perConnection.map(c => [c.session, c.receivedByServer, c.delivered, c.lostOut, c.lostBack])).toEqual([
      [{ resumed: false, sent: 6, replayed: 0, acked: 4, deduplicated: 0 }, 5, 5, 0, 0],
      [{ resumed: true, sent: 5, replayed: 1, acked: 6, deduplicated: 1 }, 5, 5, 0, 0]
    ])
    expect(s.outages).toMatchObject([{ connection: 1, lostMessages: 0, replayedAfter: 1 }])
    expect(s.session).toMatchObject({ id: '0123456789abcdef', client: { acked: 10, replayed: 1, deduplicated: 1, resumes: 1 }, server: { acked: 10, replayed: 1, resumes: 1, used: 1 } })
    expect(s).toMatchObject({ outcome: 'pass', lost: 0, settings: { session: true } })
    expect(sumOf(s.timeline.series.replayed)).toBe(1)
  })
})

describe('the report page', () => {
  it('is self-contained: no script runs, nothing is fetched, the data is embedded and escaped', () => {
    const s = madeUp('Error: </script><img src=x onerror=alert(1)>')
    const html = renderReport(s)
    expect(html).toContain('data-outcome="error"')
    expect(html).toContain("Content-Security-Policy\" content=\"default-src 'none'")
    const data = /<script type="application\/json" id="demo-data">(.*?)<\/script>/s.exec(html)?.[1] ?? ''
    expect(data).not.toContain('<') // nothing in the data can end its block or open a tag
    expect(JSON.parse(data)).toEqual(JSON.parse(JSON.stringify(s)))
    const page = html.replace(data, '')
    expect(page.match(/<script/g)).toHaveLength(1)
    expect(page).not.toMatch(/https?:\/\//)
    expect(page).not.toMatch(/<img|<iframe|<object|<link(?! rel="icon" href="data:,">)|<[a-z]+[^>]*\s(?:src|href)=(?!"data:,")|@import/i)
    expect(page.match(/url\([^)]*\)/g)?.every(u => u.startsWith('url(#'))).toBe(true)
    expect(html).toContain('The run failed: Error: &#60;/script&#62;&#60;img src=x onerror=alert(1)&#62;')
  })

  it('marks every fault, connection and outage on the timeline', () => {
    const html = renderReport(madeUp())
    expect(html.match(/data-event="cut"/g)).toHaveLength(1)
    expect(html.match(/data-event="black-hole"/g)).toHaveLength(1)
    expect(html.match(/data-event="connected"/g)).toHaveLength(2)
    expect(html.match(/data-outage=/g)).toHaveLength(1)
    expect(html.match(/data-event="faults-stopped"/g)).toHaveLength(1)
    expect(html).toContain('<svg id="timeline"')
    expect(html).toContain('<svg id="rtt-histogram"')
  })
})

describe('the report page with sessions', () => {
  it('says what the session did: replays in the timeline, resumed connections, the session\'s columns and checks', () => {
    const html = renderReport(madeUpSession())
    expect(html).toContain('sessions (exactly once)')
    expect(html).toContain('all 10 messages reached the server&#39;s application and their echoes the client&#39;s, each exactly once and in order, across 1 reconnect')
    expect(html.match(/data-series="replayed"/g)).toHaveLength(1)
    // the adaptive ping interval: a dashed step line, its changes explained under the chart
    expect(html.match(/data-series="interval"/g)).toHaveLength(1)
    expect(html).toContain('The ping interval (dashed) changed 1 time between 125 and 250 ms (reconnect 1), ending at 125 ms.')
    expect(html.match(/data-session="resumed"/g)).toHaveLength(1)
    expect(html.match(/data-session="opened"/g)).toHaveLength(1)
    for (const column of ['session', 'sent', 'replayed', 'acked', 'reached server', 'echoes back', 'dup. dropped']) expect(html).toMatch(new RegExp(`<th[^>]*>${column}</th>`))
    expect(html).toMatch(/<th[^>]*>replayed after<\/th>/)
    expect(html).toContain('data-check="no session lost"')
    expect(html).not.toContain('data-check="losses within reconnect')
    // with --servers, a server process stopped mid-run is drawn on the timeline and named in the legend
    const killed = madeUpSession()
    killed.timeline.events.push({ type: 'server-killed', atMs: 1_000, node: 0, signal: 'SIGTERM', exitedAtMs: 1_080 })
    const withKill = renderReport(killed)
    expect(withKill.match(/data-event="server-killed"/g)).toHaveLength(1)
    expect(withKill).toContain('>SIGTERM server 0</text>')
    expect(withKill).toContain('server process stopped (--kill)')
    expect(html).not.toContain('data-event="server-killed"')
    // without sessions, none of it
    const plain = renderReport(madeUp())
    expect(plain).toContain('no session (at most once)')
    expect(plain).not.toMatch(/data-series="replayed"|data-series="interval"|data-session=|<th[^>]*>replayed<\/th>/)
  })
})

describe('the text summary', () => {
  it('explains in one line each counter that is not obvious', () => {
    const text = formatSummary(madeUp())
    const lines = text.split('\n')
    const after = (label: string): string => lines[lines.findIndex(l => l.trimStart().startsWith(label)) + 1]
    expect(after('lost ')).toMatch(/↳ in flight when a connection died; at-most-once delivery never resends them$/)
    expect(after('unconfirmed')).toMatch(/↳ handed to connections that later died: each may or may not have arrived$/)
    expect(lines.find(l => l.trimStart().startsWith('unconfirmed'))).toMatch(/6 \(the 1 lost on the way out are among them\)/)
    expect(after('heartbeat timeouts')).toMatch(/↳ peer silent for 1,000 ms, declared dead/)
    for (const line of lines.filter(l => l.includes('↳'))) expect(line.length).toBeLessThanOrEqual(110)
    expect(lines.filter(isContinuation)).toEqual([])
    expect(text).toMatch(/ERROR: the run failed|PASS: every documented guarantee held/)
  })

  it('with sessions: nothing lost, and the session\'s counts, each explained in one line', () => {
    const text = formatSummary(madeUpSession())
    const lines = text.split('\n')
    const row = (label: string): string => lines.find(l => l.trimStart().startsWith(label)) ?? ''
    const after = (label: string): string => lines[lines.indexOf(row(label)) + 1]
    expect(lines[0]).toBe('@proto demo — seed 7, 10 × 64 B, sessions (exactly once)')
    expect(row('lost')).toMatch(/lost {2,}0: 0 on the way out, 0 on the way back$/)
    expect(row('acknowledged')).toMatch(/10 messages by the server, 10 echoes by the client$/)
    expect(row('replayed')).toMatch(/1 messages, 1 echoes$/)
    expect(row('deduplicated')).toMatch(/0 at the server, 1 at the client$/)
    expect(row('resumed')).toMatch(/1 of 1 reconnects \(server: 1 resumes, 0 taking over a connection still open\)$/)
    expect(row('sessions lost')).toMatch(/0 \(expired 0, evicted 0\)$/)
    for (const label of ['lost', 'acknowledged', 'replayed', 'deduplicated', 'resumed', 'sessions lost']) expect(after(label), label).toMatch(/↳ \w/)
    for (const line of lines.filter(l => l.includes('↳'))) expect(line.length).toBeLessThanOrEqual(110)
    expect(lines.filter(isContinuation)).toEqual([])
    expect(text).not.toMatch(/late from an old connection|unconfirmed +\d+ \(the/)
    expect(text).toContain('PASS: every documented guarantee held: 10 messages and their echoes, each exactly once and in order')
  })
})
