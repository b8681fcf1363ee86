/** What one `proto bench` run measured. Times in ms, rates per second, MB = 10^6 bytes. */
export interface BenchResult {
  target: string
  format: string
  heartbeat: string
  /** Body bytes per message. */
  size: number
  window: number
  warmup: number
  /** Messages measured (sent and echoed after the warm-up). */
  messages: number
  /** `'count'` when --count messages were measured, `'duration'` when --duration ran out first. */
  stoppedBy: 'count' | 'duration'
  /** From sending the first measured message to receiving the last echo. */
  elapsedMs: number
  msgPerSec: number
  /** Body bytes sent per second (the same number came back). */
  mbPerSec: number
  /** Round trip of each measured message, from handing it to the stack to reading its echo. */
  latencyMs: { min: number, mean: number, p50: number, p90: number, p99: number, max: number }
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
