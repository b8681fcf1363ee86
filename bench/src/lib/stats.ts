/** Small statistics and formatting helpers shared by every measurement. */

/** The middle value (upper middle for an even count); NaN for no values. */
export function median (values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** The value below which `p` (0–1) of the samples fall, nearest rank. */
export function percentile (sorted: Float64Array | readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))
  return sorted[i]
}

/** Half the range over the median, in percent: how far the rounds were apart. */
export function spread (values: readonly number[]): number {
  if (values.length < 2) return 0
  const m = median(values)
  if (m === 0) return 0
  return 100 * (Math.max(...values) - Math.min(...values)) / 2 / m
}

/** `1.23 M`, `456.7 k`, `89`. */
export function fmtCount (n: number): string {
  if (!Number.isFinite(n)) return '–'
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(2)} M`
  if (Math.abs(n) >= 1e3) return `${(n / 1e3).toFixed(1)} k`
  return n.toFixed(0)
}

/** A figure with its spread: `1.23 M ±4%`. */
export function fmtWithSpread (values: readonly number[], fmt: (n: number) => string = fmtCount): string {
  return `${fmt(median(values))} ±${spread(values).toFixed(0)}%`
}

/** Bytes per second as MB/s (10^6). */
export function fmtMBps (bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond)) return '–'
  const mb = bytesPerSecond / 1e6
  return mb >= 100 ? mb.toFixed(0) : mb.toFixed(1)
}

/** Microseconds from a number of microseconds. */
export function fmtMicros (us: number): string {
  if (!Number.isFinite(us)) return '–'
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`
}

/** Bytes as B / KiB / MiB. */
export function fmtBytes (n: number): string {
  if (!Number.isFinite(n)) return '–'
  if (Math.abs(n) >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`
  if (Math.abs(n) >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`
  return `${n.toFixed(0)} B`
}

/** `2.34×`. */
export function fmtRatio (r: number): string {
  if (!Number.isFinite(r)) return '–'
  return r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`
}

/** The ratio of each round's pair, then the median: steadier than the ratio of medians under drift. */
export function pairedRatio (numerators: readonly number[], denominators: readonly number[]): number {
  const n = Math.min(numerators.length, denominators.length)
  const ratios: number[] = []
  for (let i = 0; i < n; i++) ratios.push(numerators[i] / denominators[i])
  return median(ratios)
}
