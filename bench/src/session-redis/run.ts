/**
 * The Redis session store benchmark, side by side with the memory store in one run:
 * 1. throughput at 1 KiB, both directions, memory store vs Redis store (persist interval 10 ms, the
 *    default; 0, write-through; 50 ms), rounds interleaved, ratio per round; Redis commands per message;
 * 2. sizing: a paced fleet of sessions (chat-like traffic), Redis commands per second and per message,
 *    Redis memory per session; idle sessions' refresh cost;
 * 3. resume time: a connection cut and resumed on another node (handover through Redis) vs on the same node;
 * 4. the duplicate window: a node SIGKILLed mid-stream, its session recovered on another node from what it
 *    persisted, per persist interval.
 *
 * Run from the repository root: `npx tsc -b bench && node bench/dist/src/session-redis/run.js [--quick]
 * [--out=<file>]` (default output bench/session-redis.md). Needs `redis-server` (Debian's package).
 */
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Worker } from '../lib/ipc.js'
import { startWorker } from '../lib/ipc.js'
import { machine } from '../lib/machine.js'
import type { RunResult } from '../lib/net-util.js'
import { fmtBytes, fmtCount, fmtRatio, fmtWithSpread, median, percentile } from '../lib/stats.js'
import type { NodeInit, NodeStats } from './node.js'
import type { BenchRedis } from './redis.js'
import { startBenchRedis } from './redis.js'

const here = dirname(fileURLToPath(import.meta.url))
const benchDir = resolve(here, '..', '..', '..')
const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const out = argv.find(a => a.startsWith('--out='))?.slice(6) ?? join(benchDir, 'session-redis.md')
const log = (s: string): void => { process.stdout.write(`${s}\n`) }
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

const SIZE = 1024
/** Only the throughput section (for iterating on the store's hot path); the report is not written. */
const throughputOnly = argv.includes('--throughput-only')
/** `--direction=up` or `--direction=down`: one direction's throughput only. */
const direction = argv.find(a => a.startsWith('--direction='))?.slice(12)
const directions = (['up', 'down'] as const).filter(d => direction === undefined || d === direction)
const ROUNDS = Number(argv.find(a => a.startsWith('--rounds='))?.slice(9) ?? (quick ? 3 : 5))
const RUN_MS = quick ? 300 : 700
const PACED_SESSIONS = quick ? 50 : 200
const PACED_EVERY = 100
const PACED_MS = quick ? 2_000 : 5_000
const IDLE_TTL = 6_000
const MOVES = quick ? 4 : 10
const KILLS = quick ? 1 : 3
const PREFIX = 'bench:'
const script = join(here, 'worker.js')

interface Variant {
  name: string
  init: Omit<NodeInit, 'url'>
  /** The client's replay window in bytes (client → server only); default the client's (16 MiB). */
  windowBytes?: number
  /** The variant the ratio is taken against. */
  base?: Variant
  /** Not run server → client (the client's window does not matter there). */
  upOnly?: boolean
  worker?: Worker
  port?: number
}

interface Ops { commands: number, sent: number, persists: number, frames: number, messages: number }

type Stats = Omit<NodeStats, 'store'> & { store: NonNullable<NodeStats['store']> }

async function throughput (redis: BenchRedis, client: Worker, all: Variant[]): Promise<string> {
  const rows: string[] = []
  let variants: Variant[]
  for (const dir of directions) {
    variants = all.filter(v => dir === 'up' || v.upOnly !== true)
    const rates = new Map<Variant, number[]>(variants.map(v => [v, []]))
    const ratios = new Map<Variant, number[]>(variants.map(v => [v, []]))
    const ops = new Map<Variant, Ops>(variants.map(v => [v, { commands: 0, sent: 0, persists: 0, frames: 0, messages: 0 }]))
    /** Per round: the node's CPU µs per message, and the node's plus Redis's. */
    const cpu = new Map<Variant, { node: number[], total: number[] }>(variants.map(v => [v, { node: [], total: [] }]))
    const run = async (v: Variant, count: boolean): Promise<number> => {
      const c0 = await redis.commands()
      const r0 = await redis.cpuSeconds()
      const s0 = await (v.worker as Worker).call<NodeStats>('stats')
      const r = await client.call<RunResult>(dir, { port: v.port, size: SIZE, maxCount: 1_000_000, maxMs: RUN_MS, ...(v.windowBytes !== undefined ? { windowBytes: v.windowBytes } : {}) })
      if (count) {
        const s1 = await (v.worker as Worker).call<NodeStats>('stats')
        const r1 = await redis.cpuSeconds()
        const nodeUs = (s1.cpu - s0.cpu) / r.count
        const c = cpu.get(v) as { node: number[], total: number[] }
        c.node.push(nodeUs)
        c.total.push(nodeUs + (v.init.store === 'redis' ? (r1 - r0) * 1e6 / r.count : 0))
      }
      if (count && v.init.store === 'redis') {
        const c1 = await redis.commands()
        const s1 = await (v.worker as Worker).call<Stats>('stats')
        const o = ops.get(v) as Ops
        o.commands += c1 - c0
        o.sent += s1.store.commands - (s0.store?.commands ?? 0)
        o.persists += s1.store.persists - (s0.store?.persists ?? 0)
        o.frames += s1.store.framesPersisted - (s0.store?.framesPersisted ?? 0)
        o.messages += r.count
      }
      return r.count / r.seconds
    }
    for (const v of variants) await run(v, false)
    for (let round = 0; round < ROUNDS; round++) {
      const order = [...variants.slice(round % variants.length), ...variants.slice(0, round % variants.length)]
      const got = new Map<Variant, number>()
      for (const v of order) got.set(v, await run(v, true))
      for (const v of variants) { rates.get(v)?.push(got.get(v) as number); ratios.get(v)?.push((got.get(v) as number) / (got.get(v.base ?? variants[0]) as number)) }
    }
    const base = (v: Variant): Variant => v.base ?? variants[0]
    const cpuCell = (v: Variant, which: 'node' | 'total'): string => {
      const mine = (cpu.get(v) as { node: number[], total: number[] })[which]
      const theirs = (cpu.get(base(v)) as { node: number[], total: number[] }).node
      return `${median(mine).toFixed(2)} µs (${fmtRatio(median(mine.map((x, i) => x / theirs[i])))})`
    }
    for (const v of variants) {
      const r = ratios.get(v) as number[]
      const o = ops.get(v) as Ops
      const perMsg = v.init.store === 'redis' ? `${(o.sent / o.messages).toFixed(4)} sent (${(o.persists / o.messages).toFixed(4)} PERSIST scripts, ${(o.frames / o.messages).toFixed(2)} frames written); ${(o.commands / o.messages).toFixed(3)} processed` : ''
      const goal = v.name.includes('default') && v.windowBytes === undefined ? (median(r) >= 0.8 ? '≥ 0.80×: met' : '≥ 0.80×: not met') : ''
      const redisCpu = v.init.store === 'redis' ? cpuCell(v, 'total') : ''
      rows.push(`| ${dir === 'up' ? 'client → server' : 'server → client'} | ${v.name} | ${fmtWithSpread(rates.get(v) as number[])} | ${fmtRatio(median(r))} (${fmtRatio(Math.min(...r))}–${fmtRatio(Math.max(...r))})${v.base !== undefined ? ` ÷ ${v.base.name}` : ''} | ${cpuCell(v, 'node')} | ${redisCpu} | ${perMsg} | ${goal} |`)
      log(`  ${dir} ${v.name}: ${fmtCount(median(rates.get(v) as number[]))} msg/s, ${fmtRatio(median(r))}, node CPU ${cpuCell(v, 'node')}${redisCpu === '' ? '' : `, node + Redis CPU ${redisCpu}`}${perMsg === '' ? '' : `, ${perMsg} Redis commands/msg`}`)
    }
  }
  return [
    '## Throughput at 1 KiB: Redis store vs memory store',
    '',
    `Messages per second through one session, ${SIZE}-byte frames, one direction at a time, counted by the receiving application; ${ROUNDS} rounds of ~${RUN_MS} ms after a warm-up, variants interleaved, the ratio taken per round against the memory store (median, and the range). Each variant is its own server process (\`sessionServer\` under \`listen\`); the client is another; Redis a third, all on loopback. *client → server*: what a server persists is its positions (the ACKs it sends cover only what is persisted). *server → client*: every frame the server writes is persisted (its journal) until the client acknowledges it. Redis commands per message, over the rounds: *sent*, the commands the node sent (its store's \`stats().commands\`: PERSIST scripts, liveness writes); *processed*, Redis's \`total_commands_processed\`, which also counts each command a script runs inside Redis (a PERSIST runs five to eight, plus one RPUSH per frame it writes). *CPU / msg*: the server node process's CPU time (user + system) per message, and the node's plus the Redis process's, per round, median, with the ratio to the memory store's node (per round, median): what the store costs the node, and in all, apart from how the three processes share this machine's cores. *Durable store without I/O*: a store that keeps nothing and never holds an ACK, so the server journals what it writes as it does for a durable store: the journal's own cost. *1 MiB, 8 MiB client window*: windows smaller than the client's default (16 MiB; it was 1 MiB, then 4 MiB), each against the memory store with the same window (a writer moves at most one window per acknowledgement round trip, and the Redis store's round trip includes a PERSIST).`,
    '',
    '| direction | store | msg/s | ÷ memory (per round) | node CPU / msg (÷ memory) | node + Redis CPU / msg (÷ memory) | Redis commands / msg | goal |',
    '|---|---|---:|---:|---:|---:|---|---|',
    ...rows
  ].join('\n')
}

async function sizing (redis: BenchRedis, client: Worker, node: Variant, idleNode: Variant): Promise<{ text: string, figures: Record<string, number> }> {
  await client.call('paced.start', { port: node.port, sessions: PACED_SESSIONS, every: PACED_EVERY, size: SIZE }, 300_000)
  await sleep(1_000)
  const c0 = await redis.commands()
  const cs0 = await redis.commandStats()
  const k0 = await client.call<{ sent: number, echoed: number }>('paced.counts')
  const n0 = await (node.worker as Worker).call<Stats>('stats')
  const cpu0 = await redis.cpuSeconds()
  const t0 = performance.now()
  await sleep(PACED_MS)
  const c1 = await redis.commands()
  const cs1 = await redis.commandStats()
  const k1 = await client.call<{ sent: number, echoed: number }>('paced.counts')
  const n1 = await (node.worker as Worker).call<Stats>('stats')
  const cpu1 = await redis.cpuSeconds()
  const secs = (performance.now() - t0) / 1000
  await client.call('paced.quiet')
  await sleep(500)
  const keys = await redis.keyMemory(`${PREFIX}s:*`)
  await client.call('paced.close', undefined, 60_000)
  let hashes = 0
  let lists = 0
  let nHash = 0
  let nList = 0
  for (const [k, bytes] of keys) {
    if (k.endsWith(':j')) { lists += bytes; nList++ } else { hashes += bytes; nHash++ }
  }
  const messages = (k1.sent - k0.sent) + (k1.echoed - k0.echoed)
  const perSessionOps = (c1 - c0) / secs / PACED_SESSIONS
  const sent = n1.store.commands - n0.store.commands
  const perSessionSent = sent / secs / PACED_SESSIONS
  const persists = n1.store.persists - n0.store.persists
  const cpu = (cpu1 - cpu0) / secs // Redis CPU seconds per second
  const byCommand = Object.entries(cs1).map(([k, v]) => [k, v - (cs0[k] ?? 0)] as const).filter(([, d]) => d > 0).sort((a, b) => b[1] - a[1])
  log(`  paced: ${PACED_SESSIONS} sessions, ${fmtCount(messages / secs)} msg/s; sent ${fmtCount(sent / secs)} commands/s (${perSessionSent.toFixed(2)} per session, ${(sent / messages).toFixed(3)} per message); processed ${fmtCount((c1 - c0) / secs)} /s (${perSessionOps.toFixed(2)} per session); Redis CPU ${(cpu * 100).toFixed(1)} %`)

  // idle sessions: a node whose key ttl is short enough to see its refreshes in the window; Redis's memory
  // with them held, over none (quiet: no traffic, nothing unacknowledged)
  await sleep(1_000)
  const m0 = await redis.usedMemory()
  await client.call('paced.start', { port: idleNode.port, sessions: PACED_SESSIONS, every: 3_600_000, size: SIZE }, 300_000)
  await client.call('paced.quiet')
  await sleep(1_000)
  const m1 = await redis.usedMemory()
  const perSessionMemory = (m1 - m0) / PACED_SESSIONS
  const i0 = await redis.commands()
  const ti = performance.now()
  await sleep(IDLE_TTL)
  const i1 = await redis.commands()
  const idleSecs = (performance.now() - ti) / 1000
  await client.call('paced.close', undefined, 60_000)
  const idleOps = (i1 - i0) / idleSecs / PACED_SESSIONS
  log(`  idle: ${idleOps.toFixed(3)} Redis commands processed /s per session at a ${IDLE_TTL} ms ttl; ${fmtBytes(perSessionMemory)} of Redis memory per session`)
  const text = [
    '## Sizing: Redis commands and memory per session',
    '',
    `${PACED_SESSIONS} sessions on one node (Redis store, persist interval 10 ms), each client sending a ${SIZE}-byte item every ${PACED_EVERY} ms that the server echoes (chat-like: ${(2000 / PACED_EVERY).toFixed(0)} messages per second per session, both directions), measured over ${secs.toFixed(1)} s after a 1 s warm-up. Memory: \`MEMORY USAGE\` of each session's keys once the traffic stopped; and Redis's \`used_memory\` with ${PACED_SESSIONS} idle sessions held (connected, nothing unacknowledged) over the same Redis without them, divided by the count (keys, their expiry entries, the keyspace's overhead).`,
    '',
    '| measured | value |',
    '|---|---:|',
    `| messages (both directions) | ${fmtCount(messages / secs)} /s |`,
    `| commands the node sent (round trips, pipelined) | ${fmtCount(sent / secs)} /s |`,
    `| … per session | ${perSessionSent.toFixed(2)} /s |`,
    `| … per message | ${(sent / messages).toFixed(3)} (${(persists / messages).toFixed(3)} PERSIST scripts) |`,
    `| commands Redis processed (scripts' inner commands included) | ${fmtCount((c1 - c0) / secs)} /s |`,
    `| … per session | ${perSessionOps.toFixed(2)} /s |`,
    `| … per message | ${((c1 - c0) / messages).toFixed(3)} |`,
    `| Redis CPU (\`INFO cpu\`, user + sys) | ${(cpu * 100).toFixed(1)} % of a core: ${(cpu * 1e6 / PACED_SESSIONS).toFixed(0)} µs/s per session, ${(cpu * 1e6 / ((c1 - c0) / secs)).toFixed(2)} µs per processed command, ${(cpu * 1e6 / (persists / secs)).toFixed(1)} µs per PERSIST |`,
    `| processed, by command, per session | ${byCommand.slice(0, 8).map(([k, d]) => `${k} ${(d / secs / PACED_SESSIONS).toFixed(2)}/s`).join(', ')} |`,
    `| Redis \`used_memory\` per idle session held | ${fmtBytes(perSessionMemory)} |`,
    `| session hash (\`MEMORY USAGE\`, mean of ${nHash}) | ${fmtBytes(nHash === 0 ? 0 : hashes / nHash)} |`,
    `| journal list (mean of ${nList}; only while frames are unacknowledged) | ${fmtBytes(nList === 0 ? 0 : lists / nList)} |`,
    `| idle session (one PERSIST every ttl/3; measured at a ${IDLE_TTL / 1000} s ttl) | ${idleOps.toFixed(3)} processed/s |`,
    `| idle session at the default 120 s ttl (the same 3 PERSISTs per ttl) | ${(idleOps * IDLE_TTL / 120_000).toFixed(4)} processed/s |`
  ].join('\n')
  return { text, figures: { perSessionOps, perSessionSent, perSessionMemory, idleOps120: idleOps * IDLE_TTL / 120_000 } }
}

async function resume (client: Worker, a: Variant, b: Variant): Promise<string> {
  await client.call('mv.start', { port: a.port })
  const cross = { resumed: [] as number[], echoed: [] as number[] }
  const same = { resumed: [] as number[], echoed: [] as number[] }
  let at = a
  for (let i = 0; i < MOVES * 2; i++) {
    await sleep(100)
    const to = i % 2 === 0 ? (at === a ? b : a) : at
    const r = await client.call<{ resumed: number, echoed: number }>('mv.move', { port: to.port })
    const into = to === at ? same : cross
    into.resumed.push(r.resumed)
    into.echoed.push(r.echoed)
    at = to
  }
  const s = await client.call<{ possibleDuplicates: number, sessionsLost: number, resumes: number }>('mv.stop')
  const row = (name: string, values: number[]): string => {
    const v = [...values].sort((x, y) => x - y)
    return `| ${name} | ${median(v).toFixed(1)} ms | ${percentile(v, 0.9).toFixed(1)} ms | ${v[v.length - 1].toFixed(1)} ms |`
  }
  log(`  resume: other node ${median(cross.resumed).toFixed(1)} ms, same node ${median(same.resumed).toFixed(1)} ms (${s.resumes} resumes, ${s.possibleDuplicates} possible duplicates, ${s.sessionsLost} lost)`)
  return [
    '## Resume time: on another node vs on the same node',
    '',
    `One session sending a 32-byte item every 5 ms, echoed by the server. Its connection is cut (\`reconnect()\`) and it dials either the other node (the session is handed over through Redis: the new node asks the holder over pub/sub, the holder stops serving it and persists its final state, the new node claims it) or the same node again (the session is in its memory), ${MOVES} times each, alternating. Times from the cut, at the client: to the \`resumed\` event, and to the echo of the first item written after the cut. ${s.resumes} resumes, ${s.possibleDuplicates} possible duplicates, ${s.sessionsLost} sessions lost: handovers are exact.`,
    '',
    '| from the cut to | median | p90 | max |',
    '|---|---:|---:|---:|',
    row('resumed on another node', cross.resumed),
    row('resumed on the same node', same.resumed),
    row('first new item echoed, another node', cross.echoed),
    row('first new item echoed, same node', same.echoed)
  ].join('\n')
}

async function kills (redis: BenchRedis, client: Worker, survivor: Variant): Promise<string> {
  const rows: string[] = []
  for (const persistInterval of [0, 10, 50]) {
    const dups: number[] = []
    const windows: number[] = []
    const resumes: number[] = []
    let lost = 0
    for (let i = 0; i < KILLS; i++) {
      const victim = await startWorker(script, ['node'])
      const port = await victim.call<number>('listen', { store: 'redis', url: redis.url, prefix: PREFIX, persistInterval })
      await client.call('kill.start', { port })
      const t0 = performance.now()
      await sleep(500)
      await client.call('kill.target', { port: survivor.port })
      process.kill(victim.pid, 'SIGKILL')
      const r = await client.call<{ resumed: number, sent: number, possibleDuplicates: number, sessionsLost: number }>('kill.wait', undefined, 30_000)
      const rate = r.sent / (performance.now() - t0 - r.resumed) // items per ms while the node was alive
      await victim.stop()
      dups.push(r.possibleDuplicates)
      windows.push(r.possibleDuplicates / rate)
      resumes.push(r.resumed)
      lost += r.sessionsLost
    }
    log(`  SIGKILL, persist interval ${persistInterval} ms: ${median(dups)} possible duplicates (≈ ${median(windows).toFixed(1)} ms of traffic), resumed after ${median(resumes).toFixed(0)} ms, ${lost} lost`)
    rows.push(`| ${persistInterval} ms${persistInterval === 10 ? ' (default)' : persistInterval === 0 ? ' (write-through)' : ''} | ${median(dups)} (max ${Math.max(...dups)}) | ${median(windows).toFixed(1)} ms (max ${Math.max(...windows).toFixed(1)} ms) | ${median(resumes).toFixed(0)} ms | ${lost} |`)
  }
  return [
    '## The duplicate window: a node SIGKILLed mid-stream',
    '',
    `A session client sends two 1 KiB items every 2 ms (about 1 item/ms) to node A, which echoes them; after 500 ms A is killed with SIGKILL (no handover, no flush) and the client dials node B, which restores the session from what A persisted as it went. The client counts as *possible duplicates* the items it had sent beyond what B's copy says was received: A's application may have taken them (at-least-once at that boundary). ${KILLS} kills per persist interval. The window in ms is that count over the send rate. Resume time is from the kill to the \`resumed\` event at the client: B first asks A to hand the session over, and A's liveness key outlives it by up to \`nodeTtl\` (3 s), so B waits \`handoverTimeout\` (2 s) before it takes the session anyway.`,
    '',
    '| persist interval | possible duplicates | ≈ window | resumed after | sessions lost |',
    '|---|---:|---:|---:|---:|',
    ...rows
  ].join('\n')
}

/** `BENCH_NODE_FLAGS` (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`) for the server nodes; `BENCH_NODE_FLAGS_FOR`, a substring of the variants' names to give them to (default all). */
function nodeFlags (v: Variant): string[] {
  const only = process.env.BENCH_NODE_FLAGS_FOR
  if (only !== undefined && !v.name.includes(only)) return []
  return process.env.BENCH_NODE_FLAGS?.split(' ').filter(f => f !== '') ?? []
}

async function main (): Promise<void> {
  const t0 = performance.now()
  const loadBefore = loadavg()[0]
  const redis = await startBenchRedis()
  const client = await startWorker(script, ['client'], { fdLimit: 65_536 })
  const variants: Variant[] = [
    { name: 'memory store', init: { store: 'memory' } },
    { name: 'Redis store, persist interval 10 ms (default)', init: { store: 'redis', prefix: PREFIX, persistInterval: 10 } },
    { name: 'Redis store, write-through (persist interval 0)', init: { store: 'redis', prefix: PREFIX, persistInterval: 0 } },
    { name: 'Redis store, persist interval 50 ms', init: { store: 'redis', prefix: PREFIX, persistInterval: 50 } },
    { name: 'durable store without I/O (the journal alone)', init: { store: 'journal' } }
  ]
  // the client's window against the store's round trip: 1 MiB (its first default) and 8 MiB, each pair
  // against the memory store with the same window
  for (const mib of [1, 8]) {
    const memory: Variant = { name: `memory store, ${mib} MiB client window`, init: { store: 'memory' }, windowBytes: mib * 1024 * 1024, upOnly: true }
    variants.push(memory, { name: `Redis store, persist interval 10 ms (default), ${mib} MiB client window`, init: { store: 'redis', prefix: PREFIX, persistInterval: 10 }, windowBytes: mib * 1024 * 1024, upOnly: true, base: memory })
  }
  const paced: Variant = { name: 'paced', init: { store: 'redis', prefix: PREFIX, persistInterval: 10 } }
  const idle: Variant = { name: 'idle', init: { store: 'redis', prefix: PREFIX, persistInterval: 10, ttl: IDLE_TTL } }
  const all = [...variants, paced, idle]
  const sections: string[] = []
  try {
    for (const v of all) {
      v.worker = await startWorker(script, ['node'], { fdLimit: 65_536, nodeFlags: nodeFlags(v) })
      v.port = await v.worker.call<number>('listen', { ...v.init, url: redis.url })
    }
    log('throughput at 1 KiB …')
    sections.push(await throughput(redis, client, variants))
    if (throughputOnly) return
    log('sizing …')
    sections.push((await sizing(redis, client, paced, idle)).text)
    log('resume across nodes …')
    sections.push(await resume(client, variants[1], paced))
    log('SIGKILL and the duplicate window …')
    sections.push(await kills(redis, client, paced))
  } finally {
    await client.stop()
    for (const v of all) await v.worker?.stop()
    await redis.close()
  }
  if (throughputOnly) return
  const m = machine()
  const report = [
    '# @proto/session-redis benchmark results',
    '',
    `${m.cpu}, ${m.cores} cores, ${m.memory}, ${m.os}, Node ${m.node}, redis-server ${redis.version}; ${m.date}; ${quick ? 'quick run' : 'full run'} in ${((performance.now() - t0) / 1000).toFixed(0)} s; load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after (other work on the machine makes single rounds swing).`,
    'Reproduce: `npx tsc -b bench && node bench/dist/src/session-redis/run.js` (add `--quick` for a smoke run, `--rounds=N` for more throughput rounds on a busy machine, `--throughput-only [--direction=up|down]` to print the throughput rows and write nothing; needs `redis-server`). Server nodes, clients and Redis are separate processes sharing the machine\'s cores.',
    '',
    ...sections.flatMap(s => [s, ''])
  ].join('\n')
  writeFileSync(out, report)
  log(`wrote ${out}`)
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
