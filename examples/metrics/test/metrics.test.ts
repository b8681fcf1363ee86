import { afterEach, describe, expect, it } from 'vitest'
import type { ObservedServer } from '../src/metrics.js'
import { exchange, observedClient, startObservedServer } from '../src/metrics.js'

let observed: ObservedServer | undefined
afterEach(async () => { await observed?.close(); observed = undefined })

/** `name{labels} value` lines of a Prometheus text exposition, as [name, labels, value]. */
function samples (text: string): Array<[string, Record<string, string>, number]> {
  return text.split('\n').filter(line => line !== '' && !line.startsWith('#')).map((line) => {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) throw new Error(`not a Prometheus sample line: ${line}`)
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map(m => [m[1], m[2]]))
    return [match[1], labels, Number(match[3])]
  })
}

function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples(text).filter(([n, l]) => n === name && Object.entries(labels).every(([k, v]) => l[k] === v))
  return found.length === 0 ? undefined : found.reduce((sum, [, , v]) => sum + v, 0)
}

describe('the metrics example, scraped over HTTP', () => {
  it('serves every instrument in the Prometheus text format, with the values the objects count', async () => {
    observed = await startObservedServer({ interval: 20 })
    const link = observedClient(observed.port, observed.metrics)
    const echoed = await exchange(link, 200, 200) // the heartbeats ping every 20 ms meanwhile
    expect(echoed).toBe(200)

    const response = await fetch(observed.metricsUrl)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = await response.text()

    expect(text).toContain('# TYPE proto_io_bytes_total counter')
    expect(text).toMatch(/# TYPE proto_heartbeat_rtt\w* histogram/)
    expect(sample(text, 'proto_connection_accepted_total')).toBe(1)
    expect(sample(text, 'proto_link_items_total', { proto_link: 'client', proto_outcome: 'handed' })).toBe(200)
    const bytesIn = sample(text, 'proto_io_bytes_total', { proto_direction: 'in' }) ?? 0
    expect(bytesIn).toBeGreaterThanOrEqual(200 * (5 + 'message 0'.length))
    const rttCount = samples(text).find(([n]) => /^proto_heartbeat_rtt\w*_count$/.test(n))
    expect(rttCount?.[2]).toBeGreaterThan(0)
    expect(sample(text, 'proto_heartbeat_pings_total', { proto_side: 'server', proto_direction: 'out' })).toBeGreaterThan(0)

    await link.close()
    expect((await fetch(observed.metricsUrl.replace('/metrics', '/'))).status).toBe(404)
  })
})
