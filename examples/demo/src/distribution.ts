/** Log-spaced histogram bins: this many per factor of ten. */
const BINS_PER_DECADE = 4

/** A distribution of times in ms: percentiles (nearest rank; `NaN` when empty) and a histogram. */
export interface Distribution {
  count: number
  min: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
  /**
   * `counts[i]` samples fell in `[edges[i], edges[i + 1])`; edges grow by a constant factor
   * (`10^(1/4)`), so each decade has four bins. Empty when there are no samples.
   */
  histogram: { edges: number[], counts: number[] }
}

/** The value at quantile `q` of ascending `sorted` (nearest rank); `NaN` when empty. */
export function quantile (sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

/** The value at quantile `q` of `values` (nearest rank); `NaN` when empty. */
export function percentile (values: ArrayLike<number>, q: number): number {
  return quantile(Float64Array.from(values).sort(), q)
}

function histogram (sorted: Float64Array): Distribution['histogram'] {
  if (sorted.length === 0) return { edges: [], counts: [] }
  const step = 1 / BINS_PER_DECADE
  const floor = Math.max(sorted[0], 1e-3)
  let e = Math.floor(Math.log10(floor) / step) * step
  const top = sorted[sorted.length - 1]
  const edges: number[] = []
  do {
    edges.push(10 ** e)
    e += step
  } while (10 ** (e - step) <= top)
  const counts = new Array<number>(edges.length - 1).fill(0)
  let bin = 0
  for (const v of sorted) {
    while (bin < counts.length - 1 && v >= edges[bin + 1]) bin++
    counts[bin]++
  }
  return { edges, counts }
}

/** Percentiles and a log-spaced histogram of `values` (ms). */
export function distribution (values: ArrayLike<number>): Distribution {
  const sorted = Float64Array.from(values).sort()
  return {
    count: sorted.length,
    min: sorted.length === 0 ? NaN : sorted[0],
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    p999: quantile(sorted, 0.999),
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1],
    histogram: histogram(sorted)
  }
}
