import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { canRun, redisServerTool } from '@proto/stage-compliance'
import { afterAll, describe, expect, it } from 'vitest'
import { parseCli } from '../src/cli.js'
import type { DemoSummary } from '../src/index.js'
import { resolveOptions } from '../src/options.js'
import { startDemo } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'proto-demo-servers-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

/** A short multi-server run: 2 servers, a cut every 0.5–1 s (so connections move between servers), no black holes. */
async function run (kill: 'term' | 'kill'): Promise<DemoSummary & { report: string }> {
  const report = join(dir, `${kill}.html`)
  const demo = startDemo(['--servers', '2', '--kill', kill, '--messages', '6000', '--size', '128', '--rate', '1000', '--seed', '5',
    '--cut-every', '500-1000', '--blackhole-every', '0', '--duration-limit', '40', '--json', '--report', report])
  const { code, signal } = await demo.exited
  const lines = demo.stdout().split('\n')
  expect(lines, demo.stderr()).toHaveLength(2)
  const s = JSON.parse(lines[0]) as DemoSummary & { report: string }
  expect({ code, signal, failed: s.checks.filter(c => !c.ok) }, demo.stderr()).toEqual({ code: 0, signal: null, failed: [] })
  expect(existsSync(report)).toBe(true)
  const html = readFileSync(report, 'utf8')
  expect(html).toContain('<h2>Servers</h2>')
  expect(html).toContain(`stopped by <b>${kill === 'term' ? 'SIGTERM' : 'SIGKILL'}</b>`)
  // the kill is drawn on the timeline, through every panel
  expect(html.match(/data-event="server-killed"/g)).toHaveLength(1)
  expect(html).toContain(`>${kill === 'term' ? 'SIGTERM' : 'SIGKILL'} server ${s.servers?.kill?.node}</text>`)
  return s
}

/** What holds for both kinds of kill: nothing lost, in order, two servers, each connection placed, one kill recorded. */
function expectServers (s: DemoSummary, signal: 'SIGTERM' | 'SIGKILL'): NonNullable<DemoSummary['servers']> {
  expect(s).toMatchObject({ ok: true, outcome: 'pass', sent: 6_000, receivedByServer: 6_000, delivered: 6_000, lost: 0, outOfOrder: 0, corrupted: 0 })
  const v = s.servers
  if (v === null) throw new Error('expected servers in the summary')
  expect(v.count).toBe(2)
  expect(v.servers.map(x => x.index)).toEqual([0, 1])
  expect(v.kill).toMatchObject({ signal, mode: signal === 'SIGTERM' ? 'term' : 'kill' })
  const killed = v.kill?.node ?? -1
  expect(v.servers[killed].killed).toBe(signal)
  expect(v.servers[1 - killed].killed).toBeNull()
  // both servers took messages: the session moved between them, and every message was received once in all
  expect(v.servers.every(x => x.received > 0)).toBe(true)
  expect(v.servers[0].received + v.servers[1].received).toBe(6_000)
  // each connection landed on a server, as the proxy picked them in turn; after the kill, only on the other
  expect(s.perConnection.map(c => c.node)).toEqual(v.connectionNodes.slice(1))
  expect(v.proxyConnections.length).toBeGreaterThanOrEqual(s.connections)
  expect(new Set(v.proxyConnections.map(p => p.node))).toEqual(new Set([0, 1]))
  expect(v.proxyConnections.filter(p => p.atMs > (v.kill?.exitedAtMs ?? Infinity)).every(p => p.node !== killed)).toBe(true)
  expect(s.session?.server.used).toBe(1) // one session, across both servers
  expect(s.timeline.events.filter(e => e.type === 'server-killed')).toHaveLength(1)
  return v
}

describe.runIf(canRun(redisServerTool))('--servers: session servers as processes sharing sessions through a real redis-server', () => {
  it('--servers 2 --kill term: the SIGTERMed server hands its session over; 0 lost, 0 duplicated, in order', async () => {
    const s = await run('term')
    const v = expectServers(s, 'SIGTERM')
    expect(s.duplicated).toBe(0)
    expect(v.kill?.drainedSessions).toBe(1)
    expect(v.handovers).toBeGreaterThanOrEqual(1)
    expect(v.restores.recovered).toBe(0)
    expect(v.possibleDuplicates).toBe(0)
    expect(s.checks.map(c => c.name)).toContain('no duplicates')
  })

  it('--servers 2 --kill kill: the next server recovers what the SIGKILLed one persisted; 0 lost, duplicates within the counted possible ones', async () => {
    const s = await run('kill')
    const v = expectServers(s, 'SIGKILL')
    expect(v.kill?.drainedSessions).toBeNull()
    expect(v.restores.recovered).toBe(1)
    expect(s.duplicated).toBeLessThanOrEqual(2 * v.possibleDuplicates)
    expect(s.checks.find(c => c.name === 'duplicates within the possible duplicates')).toMatchObject({ ok: true })
    expect(v.servers[v.kill?.node ?? 0].final).toBe(false)
  })
})

describe('--servers options', () => {
  it('are parsed and validated: --kill needs --servers; a kill needs a second server; sessions are required', () => {
    expect(parseCli(['--servers', '3', '--kill', 'kill'])).toMatchObject({ options: { servers: 3, kill: 'kill' } })
    expect(() => parseCli(['--kill', 'term'])).toThrow(/--kill stops one of the servers of --servers/)
    expect(() => parseCli(['--servers', '2', '--kill', 'sometimes'])).toThrow(/--kill expects term, kill or none/)
    expect(resolveOptions({ servers: 2 })).toMatchObject({ servers: 2, kill: 'term' })
    expect(resolveOptions({})).toMatchObject({ servers: 0, kill: 'none' })
    expect(() => resolveOptions({ servers: 1 })).toThrow(/at least 2 to stop one/)
    expect(resolveOptions({ servers: 1, kill: 'none' })).toMatchObject({ servers: 1, kill: 'none' })
    expect(() => resolveOptions({ servers: 2, session: false })).toThrow(/used with sessions/)
  })

  it('without redis-server on the PATH, --servers fails at once (exit 64) saying how to install it', async () => {
    const demo = startDemo(['--servers', '2'], { PATH: '/nonexistent' })
    const { code } = await demo.exited
    expect(code).toBe(64)
    expect(demo.stderr()).toMatch(/RedisServerMissingError: --servers needs redis-server .*apt-get install redis-server/)
    expect(demo.stdout()).toBe('')
  })
})
