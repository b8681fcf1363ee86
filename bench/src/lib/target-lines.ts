/**
 * The target lines `run.js` prints at the end of a run, read back (by `ab.js`) and compared pair by pair.
 * A line reads `  met    <name>: <value> (target <target>)`; a name may hold `: ` itself, a value never does.
 */

/** One target's reading in one run: its name, the ratios its value holds, and which way is better. */
export interface Reading { name: string, values: number[], higherIsBetter: boolean }

/** One compared figure of a target over the pairs (a target whose value holds several ratios gives several). */
export interface PairRow {
  label: string
  base: number[]
  head: number[]
  /** Pairs in which the head's figure was the better one. */
  headAhead: number
}

const LINE = /^\s+(?:met|MISSED)\s+(.+): (.+?) \(target ([^)]+)\)\s*$/

/** The targets in a run's output, in order; lines of any other kind are skipped. */
export function readTargets (stdout: string): Reading[] {
  const out: Reading[] = []
  for (const line of stdout.split('\n')) {
    const m = LINE.exec(line)
    if (m === null) continue
    const values = [...(m[2] as string).matchAll(/(\d+(?:\.\d+)?)×/g)].map(v => Number(v[1]))
    if (values.length > 0) out.push({ name: m[1] as string, values, higherIsBetter: (m[3] as string).includes('≥') })
  }
  return out
}

/**
 * One target's readings, base and head, the i-th of each from the i-th pair: a row per ratio of its value.
 * `undefined` when only one side reported it (no pair to compare).
 */
export function pairRows (name: string, base: Reading[], head: Reading[]): PairRow[] | undefined {
  const n = Math.min(base.length, head.length)
  if (n === 0) return undefined
  const b = base.slice(0, n)
  const h = head.slice(0, n)
  const width = Math.min(...b.map(r => r.values.length), ...h.map(r => r.values.length))
  const better = (b[0] as Reading).higherIsBetter
  const rows: PairRow[] = []
  for (let k = 0; k < width; k++) {
    const bs = b.map(r => r.values[k] as number)
    const hs = h.map(r => r.values[k] as number)
    const headAhead = hs.filter((v, i) => better ? v > (bs[i] as number) : v < (bs[i] as number)).length
    rows.push({ label: width > 1 ? `${name} (${k + 1} of ${width})` : name, base: bs, head: hs, headAhead })
  }
  return rows
}
