/**
 * The whole-stack benchmark suite: throughput, echo latency, reconnect and scale, each side by side with its
 * baseline in the same run. Writes a report (bench/out/RESULTS.md unless `--out` says otherwise).
 *
 * Run from the repository root: `npm run bench` (full) or `npm run bench -- --quick` (smoke run).
 * Flags: `--quick`; `--only=throughput,echo,reconnect,scale`; `--out=<file>` (default bench/out/RESULTS.md,
 * which git ignores; `--out=bench/RESULTS.md` updates the tracked copy);
 * `--variants=proto,lp-cork,…` (throughput subset); `--sizes=64,1024`; `--cpu-prof` (profile the worker processes into bench/profiles/).
 */
import { mkdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Worker } from './lib/ipc.js'
import { startWorker } from './lib/ipc.js'
import { machine } from './lib/machine.js'
import { runReconnect } from './reconnect.js'
import type { Section, Target } from './report.js'
import { writeReport } from './report.js'
import { runScale, STEADY_MS } from './scale.js'
import { runEcho, runThroughput } from './throughput.js'
import { echoClients, senders } from './variants.js'

const here = dirname(fileURLToPath(import.meta.url))
const benchDir = resolve(here, '..', '..')
const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const profile = argv.includes('--cpu-prof')
const only = argv.find(a => a.startsWith('--only='))?.slice(7).split(',')
const variants = argv.find(a => a.startsWith('--variants='))?.slice(11).split(',')
const sizes = argv.find(a => a.startsWith('--sizes='))?.slice(8).split(',').map(Number)
const out = argv.find(a => a.startsWith('--out='))?.slice(6) ?? join(benchDir, 'out', 'RESULTS.md')
const wants = (part: string): boolean => only === undefined || only.includes(part)
const log = (s: string): void => { process.stdout.write(`${s}\n`) }

const profDir = join(benchDir, 'profiles')
const nodeFlags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []
if (profile) mkdirSync(profDir, { recursive: true })

async function main (): Promise<void> {
  const t0 = performance.now()
  const targets: Target[] = []
  const sections: Section[] = []
  const notes: string[] = []
  log(`@proto bench (${quick ? 'quick' : 'full'}) — node ${process.version}`)

  if (wants('throughput') || wants('echo') || wants('reconnect')) {
    let server: Worker | undefined
    let client: Worker | undefined
    try {
      server = await startWorker(join(here, 'worker.js'), ['server'], { nodeFlags, fdLimit: 4096 })
      client = await startWorker(join(here, 'worker.js'), ['client'], { nodeFlags, fdLimit: 4096 })
      if (wants('throughput')) {
        log('throughput')
        const r = await runThroughput(server, client, { sizes: sizes ?? [64, 1024, 65536], rounds: quick ? 2 : 5, maxMs: quick ? 250 : 600, layers: !quick, ...(variants !== undefined ? { variants } : {}) }, v => senders[v].receiver, log)
        sections.push(r.section)
        targets.push(...r.targets)
      }
      if (wants('echo')) {
        log('echo latency')
        const r = await runEcho(server, client, { rounds: quick ? 2 : 5, count: quick ? 1_000 : 4_000, warmup: 200 }, v => echoClients[v].receiver, log)
        sections.push(r.section)
        targets.push(...r.targets)
      }
      if (wants('reconnect')) {
        log('reconnect')
        const r = await runReconnect(server, client, { outages: quick ? 3 : 8, outageMs: quick ? 600 : 1_000, backoff: { initialDelay: 50, factor: 2, maxDelay: 200 } }, log)
        sections.push(r.section)
        targets.push(...r.targets)
      }
    } finally {
      await client?.stop()
      await server?.stop()
    }
  }

  if (wants('scale')) {
    log('scale')
    const r = await runScale({
      connections: quick ? 2_000 : 10_000,
      rounds: quick ? 1 : 3,
      settleMs: 2_500,
      windowMs: quick ? 3_000 : 10_000,
      // a full run reads memory once idle connections hold all they keep; the quick one right after its window
      memoryAtMs: quick ? 0 : STEADY_MS,
      fdLimit: 65_536,
      layers: !quick
    }, here, log, nodeFlags)
    sections.push(r.section)
    targets.push(...r.targets)
    notes.push(...r.notes)
  }

  notes.push(
    'Loopback only (127.0.0.1). Client and server are separate processes; on a 2-core machine they share the cores with the OS and anything else running, so spreads can be wide: trust the same-run ratios.',
    'Heartbeat and reconnect run with their package defaults except where a table says otherwise.'
  )
  const seconds = (performance.now() - t0) / 1000
  const command = process.env.npm_lifecycle_event === 'bench'
    ? `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`
    : `npx tsc -b bench && node bench/dist/src/run.js${argv.length > 0 ? ` ${argv.join(' ')}` : ''}`
  mkdirSync(dirname(resolve(out)), { recursive: true })
  writeReport(out, { machine: machine(), command, mode: quick ? 'quick' : 'full', seconds, targets, sections, notes, findingsFile: join(benchDir, 'FINDINGS.md') })
  log(`wrote ${relative(process.cwd(), out)} in ${seconds.toFixed(0)} s`)
  for (const t of targets) log(`  ${t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.value} (target ${t.target})`)
}

await main()
