/**
 * Back-to-back pairs of whole-stack benchmark runs, one build against another: each revision is checked out
 * in a git worktree of its own, installed and built there, and the pairs alternate which build runs first
 * (the one run second in a pair tends to lose on a busy machine). Both sides run from worktrees, so neither
 * gets the main checkout's warm caches. Reports every target's ratio per pair, the means, and in how many
 * pairs the head was ahead:
 *
 *   npx tsc -b bench && node bench/dist/src/ab.js --base=<rev> [--head=<rev>] [--pairs=4] [--keep] -- <run.js flags>
 *
 * e.g. `--base=HEAD~3 --pairs=6 -- --only=throughput --sizes=64 --variants=proto-deep,session`. Only committed
 * revisions are compared (`--head` defaults to `HEAD`). Reports go to the worktrees, never to a tracked file;
 * the worktrees are removed at the end unless `--keep`.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Reading } from './lib/target-lines.js'
import { pairRows, readTargets } from './lib/target-lines.js'

const PNPM = ['-y', 'pnpm@12.4.2']

interface Side { name: 'base' | 'head', rev: string, dir: string }

const argv = process.argv.slice(2)
const dash = argv.indexOf('--')
const own = dash < 0 ? argv : argv.slice(0, dash)
const runFlags = dash < 0 ? [] : argv.slice(dash + 1)
const flag = (name: string): string | undefined => own.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const base = flag('base')
const head = flag('head') ?? 'HEAD'
const pairs = Number(flag('pairs') ?? 4)
const keep = own.includes('--keep')
if (base === undefined || !Number.isInteger(pairs) || pairs < 1) {
  console.error('usage: node bench/dist/src/ab.js --base=<rev> [--head=<rev>] [--pairs=N] [--keep] -- <run.js flags>')
  process.exit(2)
}
if (runFlags.some(a => a.startsWith('--out='))) {
  console.error('ab: --out is set per run (each report stays in its worktree); leave it out')
  process.exit(2)
}

function run (cmd: string, args: string[], cwd: string, quiet = false): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited with ${r.status ?? r.signal}:\n${r.stderr}${r.stdout}`)
  if (!quiet) process.stderr.write(r.stderr)
  return r.stdout
}

const root = run('git', ['rev-parse', '--show-toplevel'], process.cwd()).trim()
const tmp = mkdtempSync(join(tmpdir(), 'proto-ab-'))

/** Checks `rev` out into a worktree (listed in `sides` at once, so it is removed whatever happens next) and builds it. */
function prepare (name: Side['name'], rev: string, sides: Side[]): void {
  const sha = run('git', ['rev-parse', '--verify', `${rev}^{commit}`], root).trim()
  const dir = join(tmp, name)
  run('git', ['worktree', 'add', '--detach', dir, sha], root, true)
  sides.push({ name, rev, dir })
  console.log(`ab: ${name} = ${rev} (${sha.slice(0, 7)}) in ${dir}: install and build`)
  run('npx', [...PNPM, 'install', '--frozen-lockfile', '--prefer-offline', '--loglevel=warn'], dir, true)
  run('npx', ['tsc', '-b'], dir, true)
  run('npx', ['tsc', '-b', 'bench'], dir, true)
}

const fmt = (v: number): string => `${v.toFixed(2)}×`
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length

function report (results: Map<string, { base: Reading[], head: Reading[] }>): void {
  console.log(`\n${pairs} pair(s), base ${base} against head ${head}, \`run.js ${runFlags.join(' ')}\`; per pair base / head, then the means.\n`)
  console.log('| target | pairs (base / head) | mean base | mean head | head ahead |')
  console.log('|---|---|---:|---:|---:|')
  for (const [name, { base: b, head: h }] of results) {
    const rows = pairRows(name, b, h)
    if (rows === undefined) {
      console.log(`| ${name} | reported by the ${b.length > 0 ? 'base' : 'head'} only | | | |`)
      continue
    }
    for (const r of rows) {
      console.log(`| ${r.label} | ${r.base.map((v, i) => `${fmt(v)} / ${fmt(r.head[i] as number)}`).join(', ')} | ${fmt(mean(r.base))} | ${fmt(mean(r.head))} | ${r.headAhead} of ${r.base.length} |`)
    }
  }
}

const sides: Side[] = []
try {
  prepare('base', base, sides)
  prepare('head', head, sides)
  const results = new Map<string, { base: Reading[], head: Reading[] }>()
  for (let p = 0; p < pairs; p++) {
    const order = p % 2 === 0 ? sides : [...sides].reverse()
    for (const side of order) {
      console.log(`ab: pair ${p + 1}/${pairs}, ${side.name}`)
      const stdout = run('node', ['bench/dist/src/run.js', ...runFlags, `--out=${join(side.dir, 'bench', 'out', `ab-${p + 1}.md`)}`], side.dir)
      const got = readTargets(stdout)
      if (got.length === 0) throw new Error(`ab: the ${side.name} run printed no targets:\n${stdout}`)
      for (const r of got) {
        const entry = results.get(r.name) ?? { base: [], head: [] }
        entry[side.name].push(r)
        results.set(r.name, entry)
      }
      console.log(`    ${got.map(r => `${r.name}: ${r.values.map(fmt).join('; ')}`).join('\n    ')}`)
    }
  }
  report(results)
} finally {
  if (keep) {
    console.log(`ab: worktrees kept in ${tmp} (remove with \`git worktree remove --force <dir>\`)`)
  } else {
    for (const side of sides) run('git', ['worktree', 'remove', '--force', side.dir], root, true)
    run('git', ['worktree', 'prune'], root, true)
    rmSync(tmp, { recursive: true, force: true })
  }
}
