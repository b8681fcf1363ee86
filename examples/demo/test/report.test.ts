import { describe, expect, it } from 'vitest'
import { connectionRecords, outages } from '../src/connections.js'
import { distribution } from '../src/distribution.js'
import { formatSummary } from '../src/format-summary.js'
import type { DemoSummary } from '../src/index.js'
import { renderReport } from '../src/index.js'
import { resolveOptions } from '../src/options.js'
import { summarize } from '../src/summarize.js'
import type { TimelineEvent } from '../src/timeline.js'
import { bucketWidth, buildTimeline } from '../src/timeline.js'
import { newClientTally } from '../src/traffic.js'

/** A made-up run of 10 messages over two connections: the first cut (FIN) at 1 s, the second closed cleanly. */
function madeUp (error?: string): DemoSummary {
  const client = newClientTally(10)
  const events: TimelineEvent[] = [
    { type: 'link', atMs: 0, mode: 'fragmenting' },
    { type: 'connected', atMs: 5, connection: 1, attempt: 1 },
    { type: 'cut', atMs: 1_000, mode: 'fin', connections: 1 },
    { type: 'disconnected', atMs: 1_010, connection: 1, reason: 'peer-ended', error: undefined, cause: 'closed by the peer (FIN)' },
    { type: 'connected', atMs: 1_060, connection: 2, attempt: 1 },
    { type: 'black-hole', atMs: 1_500, endMs: 1_600 },
    { type: 'faults-stopped', atMs: 1_900 }
  ]
  client.handedByEpoch = [0, 6, 4]
  client.deliveredByEpoch = [0, 5, 4]
  client.lostEpochs.add(1)
  client.delivered = 9
  client.connections = 2
  for (let i = 0; i < 10; i++) client.handedAt[i] = i < 6 ? 100 * i : 1_100 + 100 * i
  client.echoAt.push(50, 150, 250, 350, 450, 1_150, 1_750, 1_850, 1_950)
  client.echoRtt.push(1, 2, 3, 4, 5, 90, 6, 7, 8)
  const receivedAt = new Float64Array(10).fill(NaN)
  for (let i = 0; i < 10; i++) if (i !== 5) receivedAt[i] = client.handedAt[i] + 1
  return summarize({
    o: resolveOptions({ messages: 10, seed: 7, size: 64 }),
    startedAt: new Date('2026-01-02T03:04:05Z'),
    sent: 10,
    durationMs: 2_000,
    error,
    interrupted: false,
    client,
    server: {
      received: 9, receivedByEpoch: [0, 5, 4], echoedByEpoch: [0, 5, 4], duplicates: 0, outOfOrder: 0, late: 0, corrupted: 0, connections: 2, heartbeatTimeouts: 0, receivedAt
    },
    stats: { handed: 10, unconfirmed: 6, dropped: 0, unsent: 0, discardedInbound: 0, attempts: 2, reconnects: 1 } as any,
    proxy: undefined,
    faults: { finCuts: 1, resetCuts: 0, linkChanges: 0 },
    events
  })
}

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
    const t = buildTimeline({ durationMs: 350, handedAt: [10, 110, NaN, 349], serverAt: [], echoAt: [120, 130], echoRtt: [5, 9], heartbeatAt: [], heartbeatRtt: [], events: [] })
    expect(t).toMatchObject({ bucketMs: 100, buckets: 4 })
    expect(t.series.handed).toEqual([1, 1, 0, 1])
    expect(t.series.back).toEqual([0, 2, 0, 0])
    expect(t.series.rttP50).toEqual([null, 5, null, null])
    expect(t.series.rttMax).toEqual([null, 9, null, null])
  })

  it('per connection: what it carried and lost, how it ended; per outage: the fault, detection, redial, first echo', () => {
    const s = madeUp()
    expect(s.perConnection).toEqual([
      { id: 1, openedAtMs: 5, closedAtMs: 1_010, lifeMs: 1_005, handed: 6, receivedByServer: 5, echoedByServer: 5, delivered: 5, lostOut: 1, lostBack: 0, lost: true, ended: 'closed by the peer (FIN)' },
      { id: 2, openedAtMs: 1_060, closedAtMs: 2_000, lifeMs: 940, handed: 4, receivedByServer: 4, echoedByServer: 4, delivered: 4, lostOut: 0, lostBack: 0, lost: false, ended: 'closed cleanly (run complete)' }
    ])
    expect(s.outages).toEqual([{
      connection: 1, fault: 'FIN cut', brokenAtMs: 1_000, lostAtMs: 1_010, detectedBy: 'closed by the peer (FIN)', reconnectedAtMs: 1_060, restoredAtMs: 1_150,
      detectMs: 10, redialMs: 50, totalMs: 150, lostMessages: 1
    }])
    // a loss with no fault shortly before it is not pinned on an old one
    const events: TimelineEvent[] = [
      { type: 'connected', atMs: 0, connection: 1, attempt: 1 },
      { type: 'cut', atMs: 100, mode: 'reset', connections: 1 },
      { type: 'disconnected', atMs: 5_000, connection: 1, reason: 'read-error', error: 'Error: boom', cause: 'read-error: Error' }
    ]
    const records = connectionRecords(events, { handedByEpoch: [], receivedByEpoch: [], echoedByEpoch: [], deliveredByEpoch: [] }, 6_000, 'interrupted')
    expect(outages(events, records, [], 2_000)[0]).toMatchObject({ fault: 'unknown', detectMs: 0, reconnectedAtMs: undefined, totalMs: undefined })
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
    expect(text).toMatch(/ERROR: the run failed|PASS: every documented guarantee held/)
  })
})
