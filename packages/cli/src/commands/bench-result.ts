/** What one `proto bench` run measured. Times in ms, rates per second, MB = 10^6 bytes. */
export interface BenchResult {
  /** The server measured, as `HOST:PORT` or a Unix path, prefixed `tls://` under TLS. */
  target: string
  /** The framing: the preset's name, or the layout as compact JSON. */
  format: string
  /** The keep-alive in use, as shown in the table: `heartbeat 15s/45s`, `no heartbeat` … */
  heartbeat: string
  /** Body bytes per message. */
  size: number
  /** Messages in flight at most (`--window`). */
  window: number
  /** Messages sent and checked first, before measuring (`--warmup`). */
  warmup: number
  /** Messages measured (sent and echoed after the warm-up). */
  messages: number
  /** `'count'` when --count messages were measured, `'duration'` when --duration ran out first. */
  stoppedBy: 'count' | 'duration'
  /** From sending the first measured message to receiving the last echo. */
  elapsedMs: number
  /** Measured messages per second over `elapsedMs`. */
  msgPerSec: number
  /** Body bytes sent per second (the same number came back). */
  mbPerSec: number
  /** Round trip of each measured message, from handing it to the stack to reading its echo. */
  latencyMs: {
    /** The fastest round trip. */
    min: number
    /** The arithmetic mean. */
    mean: number
    /** The median (nearest-rank, as every percentile here). */
    p50: number
    /** The 90th percentile. */
    p90: number
    /** The 99th percentile. */
    p99: number
    /** The slowest round trip. */
    max: number
  }
}

/** Nearest-rank percentile of sorted samples (`p` in 0–1]. */
export function percentile (sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

/** Latency figures from raw samples (sorted in place). */
export function latencySummary (samples: Float64Array): BenchResult['latencyMs'] {
  samples.sort()
  let sum = 0
  for (const s of samples) sum += s
  return {
    min: samples[0] ?? NaN,
    mean: sum / samples.length,
    p50: percentile(samples, 0.5),
    p90: percentile(samples, 0.9),
    p99: percentile(samples, 0.99),
    max: samples[samples.length - 1] ?? NaN
  }
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const ms = (v: number): string => v < 10 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(1)

/** The human table. */
export function formatBench (r: BenchResult): string {
  const l = r.latencyMs
  return [
    `proto bench ${r.target}: ${r.format}, ${int.format(r.size)} B bodies, window ${r.window}, ${r.heartbeat}`,
    `  messages      ${int.format(r.messages)} measured after ${int.format(r.warmup)} warm-up, stopped by ${r.stoppedBy}`,
    `  elapsed       ${ms(r.elapsedMs)} ms`,
    `  throughput    ${int.format(r.msgPerSec)} msg/s   ${r.mbPerSec.toFixed(2)} MB/s`,
    '  latency ms    min      p50      p90      p99      max      mean',
    `                ${[l.min, l.p50, l.p90, l.p99, l.max, l.mean].map(v => ms(v).padEnd(8)).join(' ').trimEnd()}`,
    ''
  ].join('\n')
}

/** Rounds every figure to 3 decimals for `--json`. */
export function roundResult (r: BenchResult): BenchResult {
  const round = (v: number): number => Math.round(v * 1000) / 1000
  const l = r.latencyMs
  return {
    ...r,
    elapsedMs: round(r.elapsedMs),
    msgPerSec: round(r.msgPerSec),
    mbPerSec: round(r.mbPerSec),
    latencyMs: { min: round(l.min), mean: round(l.mean), p50: round(l.p50), p90: round(l.p90), p99: round(l.p99), max: round(l.max) }
  }
}
