/** Throughput and echo latency: the orchestrator's side (the work happens in the two worker processes). */
import type { Worker } from './lib/ipc.js'
import type { RunResult } from './lib/net-util.js'
import { fmtCount, fmtMBps, fmtMicros, fmtRatio, fmtWithSpread, median, pairedRatio, spread } from './lib/stats.js'
import type { Section, Target } from './report.js'
import type { EchoSummary } from './worker.js'

export interface ThroughputConfig { sizes: number[], rounds: number, maxMs: number, layers: boolean, variants?: string[] }
export interface EchoConfig { rounds: number, count: number, warmup: number }

const LABELS: Record<string, string> = {
  'net-write': 'raw net, 4-byte framing, one write per message',
  'net-batch': 'raw net, 4-byte framing, batched ~64 KiB writes',
  'net-bulk': 'raw net, unframed bulk writes',
  lp: 'it-length-prefixed, plain',
  'lp-cork': 'it-length-prefixed, corked',
  proto: '**@proto full stack** (transport+codec+heartbeat+reconnect)',
  'proto-batch': '@proto full stack, **batch sender** (`pushable()`, one `nextBatch()` per batch; not like for like)',
  'proto-hb': '@proto transport+codec+heartbeat',
  'proto-hb-batch': '@proto transport+codec+heartbeat, **batch sender** (not like for like)',
  'proto-codec': '@proto transport+codec',
  'proto-transport': '@proto transport only (pre-framed chunks)',
  'proto-deep': '@proto full stack, server queue as deep as a session\'s (sessions off)',
  session: '**@proto sessions on** (`sessionClient` → `sessionServer`)'
}

const MAX_COUNT: Record<number, number> = { 64: 50_000_000, 1024: 10_000_000, 65536: 500_000 }

function variantsFor (size: number, layers: boolean): string[] {
  const v = ['net-write', 'net-batch', 'lp', 'lp-cork', 'proto', 'proto-batch', 'proto-deep', 'session']
  if (size >= 65536) v.splice(2, 0, 'net-bulk')
  if (layers) v.push('proto-hb', 'proto-hb-batch', 'proto-codec', 'proto-transport')
  return v
}

function sizeLabel (size: number): string {
  return size >= 1024 ? `${size / 1024} KiB` : `${size} B`
}

async function portFor (server: Worker, receiver: string): Promise<number> {
  return await server.call<number>('listen', { kind: receiver })
}

export async function runThroughput (server: Worker, client: Worker, cfg: ThroughputConfig, receiverOf: (variant: string) => string, log: (s: string) => void): Promise<{ section: Section, targets: Target[] }> {
  const rows: string[] = []
  const targets: Target[] = []
  for (const size of cfg.sizes) {
    const variants = variantsFor(size, cfg.layers).filter(v => cfg.variants === undefined || cfg.variants.includes(v))
    const ports = new Map<string, number>()
    for (const v of variants) ports.set(v, await portFor(server, receiverOf(v)))
    const maxCount = MAX_COUNT[size] ?? 1_000_000
    // warm-up: one short untimed run of each
    for (const v of variants) await client.call<RunResult>('send', { variant: v, port: ports.get(v), size, maxCount, maxMs: 100 })
    const rates = new Map<string, number[]>(variants.map(v => [v, []]))
    for (let r = 0; r < cfg.rounds; r++) {
      const order = variants.map((_, i) => variants[(i + r) % variants.length])
      for (const v of order) {
        const res = await client.call<RunResult>('send', { variant: v, port: ports.get(v), size, maxCount, maxMs: cfg.maxMs })
        if (res.count <= 0 || Math.abs(res.bytes - res.count * size) > 0.5) throw new Error(`${v} ${size} B: receiver got ${res.count} messages / ${res.bytes} bytes`)
        rates.get(v)?.push(res.count / res.seconds)
      }
      log(`  throughput ${sizeLabel(size)} round ${r + 1}/${cfg.rounds}: ${variants.map(v => `${v} ${fmtCount(rates.get(v)?.at(-1) ?? NaN)}`).join(', ')}`)
    }
    const full = rates.get('proto') ?? []
    const corked = rates.get('lp-cork') ?? []
    const bulk = rates.get('net-bulk') ?? []
    const batch = rates.get('net-batch') ?? []
    const deep = rates.get('proto-deep') ?? []
    const sessions = rates.get('session') ?? []
    for (const v of variants) {
      const xs = rates.get(v) ?? []
      if (xs.length === 0) continue
      const vsCork = pairedRatio(xs, corked)
      const vsBase = size >= 65536 ? pairedRatio(xs, bulk) : pairedRatio(xs, batch)
      const vsOff = v === 'session' ? fmtRatio(pairedRatio(xs, deep)) : v === 'proto-deep' ? '1.00×' : ''
      rows.push(`| ${sizeLabel(size)} | ${LABELS[v] ?? v} | ${fmtWithSpread(xs)} | ${fmtMBps(median(xs) * size)} | ${fmtRatio(vsCork)} | ${fmtRatio(vsBase)} | ${vsOff} |`)
    }
    if ((size === 64 || size === 65536) && sessions.length > 0 && deep.length > 0) {
      const ratio = pairedRatio(sessions, deep)
      targets.push({ name: `Throughput ${sizeLabel(size)}, sessions on ÷ off (same queue depths)`, target: '≥ 0.9×', value: fmtRatio(ratio), met: ratio >= 0.9 })
    }
    if (size === 64 && full.length > 0 && corked.length > 0) {
      const ratio = pairedRatio(full, corked)
      targets.push({ name: 'Throughput 64 B: full stack msg/s ÷ it-length-prefixed corked', target: '≥ 5×', value: fmtRatio(ratio), met: ratio >= 5 })
    }
    if (size === 65536 && full.length > 0 && bulk.length > 0) {
      const ratio = pairedRatio(full, bulk)
      targets.push({ name: 'Throughput 64 KiB: full stack MB/s ÷ raw net bulk', target: '≥ 0.8×', value: fmtRatio(ratio), met: ratio >= 0.8 })
    }
  }
  const body = [
    `Client and receiver in two processes; ${cfg.rounds} interleaved rounds per size (variant order rotated each round), each run sending for ~${cfg.maxMs} ms then waiting for the receiver's tally; medians, spread = half range ÷ median. Every sender takes its messages one at a time from the same kind of async generator (\`bench/src/lib/producers.ts\`), except the **batch sender** rows: an application that has its messages ready pushes them into a bounded \`pushable()\` and the stack's sink takes each batch with one \`nextBatch()\`, so those rows are not like for like with it-lp corked (which reads one message at a time); the item-by-item rows stay beside them. Ratios are per-round pairs, then the median. "÷ baseline" is ÷ raw net batched for 64 B and 1 KiB, ÷ raw net bulk for 64 KiB. "sessions ÷ off" compares \`sessionClient\` → \`sessionServer\` with the full stack whose server queue holds as many items as the session server's two queues (the heartbeat's, and the session's, which holds at most its inbound limit of what the client's window lets through), so both servers queue as many items for their application.`,
    '',
    '| size | variant | msg/s | MB/s | ÷ it-lp corked | ÷ baseline | sessions ÷ off |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...rows
  ].join('\n')
  return { section: { title: 'Throughput over loopback TCP', body }, targets }
}

export async function runEcho (server: Worker, client: Worker, cfg: EchoConfig, receiverOf: (variant: string) => string, log: (s: string) => void): Promise<{ section: Section, targets: Target[] }> {
  const variants = ['net', 'proto', 'session']
  const ports = new Map<string, number>()
  for (const v of variants) ports.set(v, await server.call<number>('listen', { kind: receiverOf(v) }))
  const results = new Map<string, EchoSummary[]>(variants.map(v => [v, []]))
  for (let r = 0; r < cfg.rounds; r++) {
    const order = variants.map((_, i) => variants[(i + r) % variants.length])
    for (const v of order) {
      const s = await client.call<EchoSummary>('echo', { variant: v, port: ports.get(v), size: 32, count: cfg.count, warmup: cfg.warmup })
      results.get(v)?.push(s)
    }
    log(`  echo round ${r + 1}/${cfg.rounds}: ${variants.map(v => `${v} p50 ${fmtMicros(results.get(v)?.at(-1)?.p50 ?? NaN)}`).join(', ')}`)
  }
  const label: Record<string, string> = {
    net: 'raw net, 4-byte framing',
    proto: '**@proto full stack** ↔ listen+codec+heartbeat echo',
    session: '**@proto sessions on**: `sessionClient` ↔ `sessionServer` echo'
  }
  const raw = results.get('net') ?? []
  const proto = results.get('proto') ?? []
  const rows = variants.map((v) => {
    const xs = results.get(v) ?? []
    const p50s = xs.map(x => x.p50)
    const ratio = pairedRatio(p50s, raw.map(x => x.p50))
    const vsOff = v === 'session' ? fmtRatio(pairedRatio(p50s, proto.map(x => x.p50))) : ''
    return `| ${label[v]} | ${fmtMicros(median(p50s))} ±${spread(p50s).toFixed(0)}% | ${fmtMicros(median(xs.map(x => x.p90)))} | ${fmtMicros(median(xs.map(x => x.p99)))} | ${fmtMicros(Math.max(...xs.map(x => x.max)))} | ${fmtRatio(ratio)} | ${vsOff} |`
  })
  const ratio = pairedRatio(proto.map(x => x.p50), raw.map(x => x.p50))
  const sessions = results.get('session') ?? []
  const sessionRatio = pairedRatio(sessions.map(x => x.p50), proto.map(x => x.p50))
  const body = [
    `32-byte message, one at a time (send, wait for the echo, repeat); ${cfg.rounds} interleaved rounds of ${cfg.count} round trips after ${cfg.warmup} untimed ones. p50/p90/p99 are medians over rounds; max is the largest of all rounds.`,
    '',
    '| variant | p50 | p90 | p99 | max | p50 ÷ raw | p50 sessions ÷ off |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows
  ].join('\n')
  return {
    section: { title: 'Echo latency', body },
    targets: [
      { name: 'Echo 32 B: full stack p50 ÷ raw net p50', target: '≤ 1.2×', value: fmtRatio(ratio), met: ratio <= 1.2 },
      { name: 'Echo 32 B: p50 sessions on ÷ off', target: '≤ 1.1×', value: fmtRatio(sessionRatio), met: sessionRatio <= 1.1 }
    ]
  }
}
