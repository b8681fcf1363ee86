/**
 * The session probes that the whole-stack suite (`run.js`, where sessions on and off are compared for
 * throughput, echo latency and idle cost) does not cover:
 * 1. recovery: the server goes away and comes back (its sessions kept): time to the resumed session and to
 *    the first replayed item at the server;
 * 2. memory per idle connection on the server: plain (heartbeat and codec), session, detached session.
 *
 * Run from the repository root: `npx tsc -b bench && node bench/dist/src/session/run.js [--quick] [--out=<file>]`
 * (default output bench/out/SESSION-RESULTS.md, which git ignores; `--out=bench/SESSION-RESULTS.md` updates the
 * tracked copy).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Worker } from '../lib/ipc.js'
import { startWorker } from '../lib/ipc.js'
import { machine } from '../lib/machine.js'
import { fmtBytes, fmtRatio, median, percentile } from '../lib/stats.js'
import type { Recovery } from './probes.js'

const here = dirname(fileURLToPath(import.meta.url))
const benchDir = resolve(here, '..', '..', '..')
const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const out = argv.find(a => a.startsWith('--out='))?.slice(6) ?? join(benchDir, 'out', 'SESSION-RESULTS.md')
const log = (s: string): void => { process.stdout.write(`${s}\n`) }

const OUTAGES = quick ? 3 : 5
const OUTAGE_MS = 1_000
const BACKOFF = { initialDelay: 50, factor: 2, maxDelay: 200 }
const IDLE = quick ? 500 : 2_000
/** From every connection held to the idle-memory reading (ms). */
const SETTLE_MS = 1_000
/** Connections of each kind opened and closed before its reading (see `warmUp`). */
const WARM_UP = quick ? 100 : 500

async function recovery (server: Worker, client: Worker): Promise<string> {
  const port = await server.call<number>('rc.listen')
  await client.call('rc.start', { port, backoff: BACKOFF })
  const results: Recovery[] = []
  for (let i = 0; i < OUTAGES; i++) {
    await server.call('rc.down')
    // the outage itself is the scenario: the server stays away this long while the client backs off
    await new Promise(resolve => setTimeout(resolve, OUTAGE_MS))
    const r = await server.call<Recovery>('rc.up')
    results.push(r)
    log(`  outage ${i + 1}/${OUTAGES}: redial ${r.accept.toFixed(0)} ms, resumed ${r.resumed.toFixed(0)} ms, first replayed item ${r.first.toFixed(0)} ms after the server came back`)
  }
  const delays = await client.call<number[]>('rc.delays')
  const stats = await client.call<{ reconnects: number, resumes: number }>('rc.stop')
  await server.call('rc.stop')
  const row = (name: string, values: number[]): string => {
    const s = [...values].sort((a, b) => a - b)
    return `| ${name} | ${median(s).toFixed(1)} ms | ${percentile(s, 0.9).toFixed(1)} ms | ${s[s.length - 1].toFixed(1)} ms |`
  }
  return [
    '## Recovery: from the server coming back to the first replayed item',
    '',
    `A session client writes a 32-byte item every 5 ms. The server (its listener and every connection) goes away for ${OUTAGE_MS} ms, ${OUTAGES} times; its sessions stay in memory. Times are taken in the server process from the moment it listens again: the redialled connection accepted, the session resumed on it (the connection taken into use after the RESUME exchange), and the first item of the client's replay handed to the server's application. Client backoff \`${JSON.stringify(BACKOFF)}\` (full jitter): after ${OUTAGE_MS} ms of refused dials the client sleeps at most ${BACKOFF.maxDelay} ms. Median drawn delay ${median(delays).toFixed(0)} ms; ${stats.resumes} resumes.`,
    '',
    '| from the server back to | median | p90 | max |',
    '|---|---:|---:|---:|',
    row('redial accepted', results.map(r => r.accept)),
    row('session resumed', results.map(r => r.resumed)),
    row('first replayed item delivered', results.map(r => r.first)),
    row('resumed → first replayed item (the session\'s own cost)', results.map(r => r.first - r.resumed))
  ].join('\n')
}

interface Memory { heap: number, connections: number, sessions: number, detached: number }

async function idleMemory (server: Worker, client: Worker): Promise<string> {
  const measure = async (): Promise<Memory> => await server.call<Memory>('idle.measure')
  // once the server holds every connection (and session) and a second has passed: what opening them left
  // in flight is gone, and the reading is of idle connections only
  const settled = async (count: number, sessions: number): Promise<Memory> => {
    let m = await measure()
    for (let i = 0; i < 100 && (m.connections < count || m.sessions < sessions); i++) {
      await new Promise(resolve => setTimeout(resolve, 100))
      m = await measure()
    }
    // a reading of fewer would be divided by `count` all the same
    if (m.connections < count || m.sessions < sessions) throw new Error(`expected the server to hold ${count} connections and ${sessions} sessions within 10 s, but it holds ${m.connections} and ${m.sessions}`)
    await new Promise(resolve => setTimeout(resolve, SETTLE_MS))
    return await measure()
  }
  const per = (a: Memory, b: Memory): number => (b.heap - a.heap) / IDLE
  // a first round of each kind, opened and closed before the reading's baseline, so the code it compiles
  // (the same at 2000 connections as at one) is not counted per connection
  const warmUp = async (kind: 'plain' | 'session'): Promise<void> => {
    const port = await server.call<number>('idle.listen', { kind })
    await client.call('idle.open', { port, kind, count: WARM_UP }, 300_000)
    await settled(WARM_UP, kind === 'session' ? WARM_UP : 0)
    await client.call('idle.close')
    await server.call('idle.close')
  }
  await warmUp('plain')
  const plainPort = await server.call<number>('idle.listen', { kind: 'plain' })
  const p0 = await measure()
  await client.call('idle.open', { port: plainPort, kind: 'plain', count: IDLE }, 300_000)
  const p1 = await settled(IDLE, 0)
  await client.call('idle.close')
  await server.call('idle.close')
  await warmUp('session')
  const sessionPort = await server.call<number>('idle.listen', { kind: 'session' })
  const s0 = await measure()
  await client.call('idle.open', { port: sessionPort, kind: 'session', count: IDLE }, 300_000)
  const s1 = await settled(IDLE, IDLE)
  await client.call('idle.drop')
  let s2 = await measure()
  for (let i = 0; i < 100 && (s2.detached < IDLE || s2.connections > 0); i++) {
    await new Promise(resolve => setTimeout(resolve, 100))
    s2 = await measure()
  }
  await client.call('idle.close')
  await server.call('idle.close')
  const plain = per(p0, p1)
  const live = per(s0, s1)
  const detached = per(s0, s2)
  log(`  idle: plain ${fmtBytes(plain)} heap, session ${fmtBytes(live)}, detached ${fmtBytes(detached)} per connection`)
  return [
    '## Memory per idle connection on the server',
    '',
    `${IDLE} idle clients (default heartbeat, 15 s pings) connected to one server process; its heap (after two forced collections, once it holds every connection and a second has passed) over the same server with none, divided by the count; before each kind's baseline, ${WARM_UP} connections of that kind were opened and closed, so the code they compile is not counted per connection. RSS is not read here: the three readings share one process, whose RSS does not shrink back when the plain connections close; the scale suite (bench/RESULTS.md) reads it in a fresh process per server. *plain*: heartbeat over codec over transport. *session*: the same plus a session (its state, a durable duplex with its retention and buffer, the stage, the registry entry). *detached*: the clients' connections reset without a word; the server keeps each session for its ttl with no connection (${s2.detached} detached).`,
    '',
    '| per connection | heap | heap vs plain |',
    '|---|---:|---:|',
    `| plain (heartbeat + codec + transport) | ${fmtBytes(plain)} | 1.00× |`,
    `| session, connected | ${fmtBytes(live)} | ${fmtRatio(live / plain)} |`,
    `| session, detached (kept for its ttl) | ${fmtBytes(detached)} | ${fmtRatio(detached / plain)} |`
  ].join('\n')
}

async function main (): Promise<void> {
  const t0 = performance.now()
  const script = join(here, 'worker.js')
  const server = await startWorker(script, ['server'], { nodeFlags: ['--expose-gc'], fdLimit: 65_536 })
  const client = await startWorker(script, ['client'], { fdLimit: 65_536 })
  const sections: string[] = []
  try {
    log('session recovery …')
    sections.push(await recovery(server, client))
    log('idle memory …')
    sections.push(await idleMemory(server, client))
  } finally {
    await client.stop()
    await server.stop()
  }
  const m = machine()
  const report = [
    '# @proto/session benchmark results',
    '',
    `${m.cpu}, ${m.cores} cores, ${m.memory}, ${m.os}, Node ${m.node}; ${m.date}; ${quick ? 'quick run' : 'full run'} in ${((performance.now() - t0) / 1000).toFixed(0)} s.`,
    'Reproduce: `npx tsc -b bench && node bench/dist/src/session/run.js` (add `--quick` for a smoke run). Server and client are separate processes, so each has a core.',
    '',
    ...sections.flatMap(s => [s, ''])
  ].join('\n')
  mkdirSync(dirname(resolve(out)), { recursive: true })
  writeFileSync(out, report)
  log(`wrote ${out}`)
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
