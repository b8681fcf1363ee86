/**
 * Scale, orchestrator side: for each round and variant, a fresh server process (measured) and a fresh client
 * process (N idle connections answering pings). Memory per connection = (after − before) ÷ live connections,
 * both taken after two forced GCs (RSS once it has settled, `@proto/stage-compliance/memory`); CPU = `process.cpuUsage()` of
 * the server over a window, per second.
 */
import type { Worker } from './lib/ipc.js'
import { startWorker } from './lib/ipc.js'
import { SCALE_INTERVAL, SCALE_TIMEOUT } from './lib/scale-settings.js'
import { fmtBytes, fmtRatio, median, pairedRatio, spread } from './lib/stats.js'
import type { Section, Target } from './report.js'
import type { MemorySnapshot, ScaleVariant } from './scale-server.js'

/**
 * `settleMs`: from the last connection accepted to the CPU window. `memoryAtMs`: from the last connection
 * accepted to the memory reading, taken after the CPU window (so at least `settleMs` + `windowMs`).
 */
export interface ScaleConfig { connections: number, rounds: number, settleMs: number, windowMs: number, memoryAtMs: number, fdLimit: number, layers: boolean }

interface ScaleRun { live: number, rssPerConn: number, youngPerConn: number, heapPerConn: number, cpuMsPerSec: number, userMsPerSec: number, pingsPerSec: number, pongsPerSec: number, openSeconds: number }

const FD_SPARE = 200

/**
 * From the last connection accepted to the memory reading for what an idle connection keeps for good: the
 * heartbeat's RTT statistics take their final 32 slots at the 17th round trip, one per second here.
 */
export const STEADY_MS = 20_000

/** When memory is read, in s after the last connection was accepted: after the CPU window, at `memoryAtMs` at the earliest. */
function memoryAt (cfg: ScaleConfig): string {
  return (Math.max(cfg.memoryAtMs, cfg.settleMs + cfg.windowMs) / 1000).toFixed(1)
}

async function one (variant: ScaleVariant, cfg: ScaleConfig, dir: string, wanted: number, nodeFlags: string[]): Promise<ScaleRun & { limit: number }> {
  // BENCH_SCALE_FLAGS: extra node flags for the measured server (e.g. --trace-gc)
  const extra = process.env.BENCH_SCALE_FLAGS?.split(' ').filter(f => f !== '') ?? []
  const server = await startWorker(`${dir}/scale-server.js`, [], { nodeFlags: ['--expose-gc', ...nodeFlags, ...extra], fdLimit: cfg.fdLimit })
  let client: Worker | undefined
  try {
    client = await startWorker(`${dir}/scale-clients.js`, [], { fdLimit: cfg.fdLimit })
    const limit = Math.min(await server.call<number>('scale.limit'), await client.call<number>('scale.limit'))
    const n = Math.min(wanted, limit - FD_SPARE)
    const { port, before } = await server.call<{ port: number, before: MemorySnapshot }>('scale.prepare', { variant })
    const opened = await client.call<{ opened: number, seconds: number }>('scale.open', { port, n, parallel: 256, sessions: variant === 'session', heartbeats: variant === 'proto-hello', interval: SCALE_INTERVAL, timeout: SCALE_TIMEOUT }, 300_000)
    await server.call<{ live: number }>('scale.settle', { n, settleMs: cfg.settleMs })
    const cpu = await server.call<{ cpuMsPerSec: number, userMsPerSec: number, pingsPerSec: number, pongsPerSec: number, live: number }>('scale.cpu', { windowMs: cfg.windowMs })
    const { live, after } = await server.call<{ live: number, after: MemorySnapshot }>('scale.memory', { sinceLiveMs: cfg.memoryAtMs }, cfg.memoryAtMs + 60_000)
    return {
      limit,
      live,
      rssPerConn: (after.rss - before.rss) / live,
      youngPerConn: (after.young - before.young) / live,
      heapPerConn: (after.heapUsed + after.external - before.heapUsed - before.external) / live,
      cpuMsPerSec: cpu.cpuMsPerSec,
      userMsPerSec: cpu.userMsPerSec,
      pingsPerSec: cpu.pingsPerSec,
      pongsPerSec: cpu.pongsPerSec,
      openSeconds: opened.seconds
    }
  } finally {
    await client?.stop()
    await server.stop()
  }
}

export async function runScale (cfg: ScaleConfig, dir: string, log: (s: string) => void, nodeFlags: string[] = []): Promise<{ section: Section, targets: Target[], notes: string[] }> {
  const runs = new Map<string, ScaleRun[]>([['net', []], ['proto', []], ['proto-hello', []], ['session', []], ['proto-codec', []], ['proto-transport', []]])
  const notes: string[] = []
  let wanted = cfg.connections
  for (let r = 0; r < cfg.rounds; r++) {
    const variants: Array<'net' | 'proto' | 'proto-hello' | 'session'> = ['net', 'proto', 'proto-hello', 'session']
    const order = variants.map((_, i) => variants[(i + r) % variants.length])
    for (const v of order) {
      const res = await one(v, cfg, dir, wanted, nodeFlags)
      if (res.limit - FD_SPARE < wanted) {
        notes.push(`The file-descriptor limit could only be raised to ${res.limit}; the scale test ran with ${res.limit - FD_SPARE} connections instead of ${cfg.connections}.`)
        wanted = res.limit - FD_SPARE
      }
      runs.get(v)?.push(res)
      log(`  scale ${v} round ${r + 1}/${cfg.rounds}: ${res.live} live, RSS ${fmtBytes(res.rssPerConn)}/conn (young generation ${fmtBytes(res.youngPerConn)}), heap ${fmtBytes(res.heapPerConn)}/conn, CPU ${res.cpuMsPerSec.toFixed(1)} ms/s, ${res.pingsPerSec.toFixed(0)} pings/s, opened in ${res.openSeconds.toFixed(1)} s`)
    }
  }
  if (cfg.layers) {
    // memory breakdown: one run each, idle connections without heartbeat (so no pings either way)
    for (const v of ['proto-transport', 'proto-codec'] as const) {
      // nothing of theirs grows after the first seconds: no pings, no RTT samples
      const res = await one(v, { ...cfg, windowMs: Math.min(cfg.windowMs, 3_000), memoryAtMs: 0 }, dir, wanted, nodeFlags)
      runs.get(v)?.push(res)
      log(`  scale ${v}: ${res.live} live, RSS ${fmtBytes(res.rssPerConn)}/conn, heap ${fmtBytes(res.heapPerConn)}/conn, CPU ${res.cpuMsPerSec.toFixed(1)} ms/s`)
    }
  }
  const net = runs.get('net') ?? []
  const proto = runs.get('proto') ?? []
  const label: Record<string, string> = {
    net: 'bare net sockets + one shared 1 s timer',
    proto: '**@proto** listen+codec+heartbeat (interval 1 s), echo application',
    'proto-hello': '@proto the same with HELLO, clients with a heartbeat and HELLO too (sessions off)',
    session: '**@proto sessions on**: the same under `sessionServer`, echo on every session',
    'proto-codec': '@proto listen+codec, no heartbeat (breakdown; no pings)',
    'proto-transport': '@proto listen only, no heartbeat (breakdown; no pings)'
  }
  const rows = (['net', 'proto', 'proto-hello', 'session', 'proto-codec', 'proto-transport'] as const).filter(v => (runs.get(v) ?? []).length > 0).map((v) => {
    const xs = runs.get(v) ?? []
    const rss = xs.map(x => x.rssPerConn)
    const heap = xs.map(x => x.heapPerConn)
    const cpu = xs.map(x => x.cpuMsPerSec)
    const perPing = xs.map(x => x.pingsPerSec > 0 ? 1000 * x.cpuMsPerSec / x.pingsPerSec : NaN)
    return `| ${label[v]} | ${median(xs.map(x => x.live))} | ${fmtBytes(median(rss))} ±${spread(rss).toFixed(0)}% | ${fmtBytes(median(xs.map(x => x.youngPerConn)))} | ${fmtBytes(median(heap))} ±${spread(heap).toFixed(0)}% | ${median(cpu).toFixed(1)} ms ±${spread(cpu).toFixed(0)}% | ${median(xs.map(x => x.userMsPerSec)).toFixed(1)} ms | ${median(xs.map(x => x.pingsPerSec)).toFixed(0)} | ${median(xs.map(x => x.pongsPerSec)).toFixed(0)} | ${Number.isFinite(median(perPing)) ? `${median(perPing).toFixed(1)} µs` : '–'} | ${fmtRatio(pairedRatio(rss, net.map(x => x.rssPerConn)))} | ${fmtRatio(pairedRatio(heap, net.map(x => x.heapPerConn)))} | ${fmtRatio(pairedRatio(cpu, net.map(x => x.cpuMsPerSec)))} |`
  })
  const rssRatio = pairedRatio(proto.map(x => x.rssPerConn), net.map(x => x.rssPerConn))
  const heapRatio = pairedRatio(proto.map(x => x.heapPerConn), net.map(x => x.heapPerConn))
  const cpuRatio = pairedRatio(proto.map(x => x.cpuMsPerSec), net.map(x => x.cpuMsPerSec))
  // the heartbeat pings when nothing was sent for `interval`, so under load its period runs a little over 1 s:
  // the same CPU scaled to exactly one ping per second per connection
  const perPingRatio = pairedRatio(proto.map(x => x.cpuMsPerSec / x.pingsPerSec), net.map(x => x.cpuMsPerSec / x.pingsPerSec))
  // sessions on ÷ off, like for like: a session's two ends both run a heartbeat with HELLO (either may
  // ping), so "off" is the plain stack with HELLO against clients that run one too
  const sessions = runs.get('session') ?? []
  const off = runs.get('proto-hello') ?? []
  const sRss = pairedRatio(sessions.map(x => x.rssPerConn), off.map(x => x.rssPerConn))
  const sHeap = pairedRatio(sessions.map(x => x.heapPerConn), off.map(x => x.heapPerConn))
  const sCpu = pairedRatio(sessions.map(x => x.cpuMsPerSec / x.pingsPerSec), off.map(x => x.cpuMsPerSec / x.pingsPerSec))
  const body = [
    `${wanted} idle connections on one server process (the one measured); the clients live in another process and answer every ping with a pong; against the two HELLO servers (sessions off and on) they run a heartbeat of their own, so either end may ping, and "sessions on ÷ off" compares those two rows. Fresh processes per run, ${cfg.rounds} interleaved round(s). Memory: (after − before) ÷ live connections, each snapshot after two forced GCs (RSS once it has settled: V8 releases the pages a GC freed from background threads, some milliseconds later); "after" is taken ${memoryAt(cfg)} s after the last connection was accepted, ${cfg.memoryAtMs >= STEADY_MS ? 'when every connection has measured at least 17 round trips, so its RTT statistics hold their final 32 slots (what an idle connection keeps for good)' : 'before the connections\' RTT statistics have taken their final 32 slots (0.1 KiB more per pinging connection from its 17th round trip on)'}; "heap" = V8 heap used + external; "of which young generation" = the growth of V8's young generation (its semi-spaces), a space of the process that V8 sizes by its allocation rate, counted in RSS whether or not it holds anything. CPU: server user+system CPU over a ${cfg.windowMs / 1000} s window starting ${cfg.settleMs / 1000} s after the last connection was accepted (after two forced GCs), per second of wall time, and per ping sent (the heartbeat pings when nothing was sent for 1 s, so its period runs a little over 1 s when its timers fire late; the per-ping figure corrects for that).`,
    '',
    '| server | live | RSS / conn | of which young generation | heap / conn | CPU per second | of which user | pings/s (sent + answered) | pongs/s received | CPU per ping | RSS ÷ bare | heap ÷ bare | CPU ÷ bare |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows
  ].join('\n')
  return {
    section: { title: `Scale: ${wanted} idle connections with heartbeat`, body },
    targets: [
      { name: `${wanted} idle: RSS/conn ÷ bare net`, target: '≤ 2×', value: fmtRatio(rssRatio), met: rssRatio <= 2 },
      { name: `${wanted} idle: heap/conn ÷ bare net`, target: '≤ 3×', value: fmtRatio(heapRatio), met: heapRatio <= 3 },
      { name: `${wanted} idle: heartbeat CPU ÷ shared-timer loop (per second; per ping)`, target: '≤ 1.5×', value: `${fmtRatio(cpuRatio)}; ${fmtRatio(perPingRatio)}`, met: cpuRatio <= 1.5 && perPingRatio <= 1.5 },
      ...(sessions.length > 0
        ? [
            { name: `${wanted} idle: sessions on ÷ off, RSS/conn; heap/conn`, target: '≤ 1.1×', value: `${fmtRatio(sRss)}; ${fmtRatio(sHeap)}`, met: sRss <= 1.1 && sHeap <= 1.1 },
            { name: `${wanted} idle: sessions on ÷ off, CPU per ping`, target: '≤ 1.1×', value: fmtRatio(sCpu), met: sCpu <= 1.1 }
          ]
        : [])
    ],
    notes
  }
}
