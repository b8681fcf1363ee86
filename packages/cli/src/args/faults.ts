import type { FaultPlan } from '@proto/fault-proxy'
import { UsageError } from '../errors.js'
import { badValue, parseDuration, parseDurationRange, parseInteger, parseSize, parseSizeRange } from './values.js'

/** The keys of a `--faults` plan, what each sets, and the help line for each. */
const KEYS: Record<string, { help: string, set: (plan: FaultPlan, flag: string, value: string) => void }> = {
  'cut-every': { help: 'cut every connection after a random time in this range, again and again (1s-3s)', set: (p, f, v) => { p.cutEvery = parseDurationRange(f, v) } },
  'cut-mode': {
    help: 'fin | reset | mixed: how cuts end connections (default mixed)',
    set: (p, f, v) => {
      if (v !== 'fin' && v !== 'reset' && v !== 'mixed') badValue(f, "'fin', 'reset' or 'mixed'", v)
      p.cutMode = v
    }
  },
  'blackhole-every': { help: 'start a black hole after a random pause in this range (nothing gets through, sockets stay open)', set: (p, f, v) => { p.blackHoleEvery = parseDurationRange(f, v) } },
  'blackhole-for': { help: 'how long each black hole lasts (needed with blackhole-every)', set: (p, f, v) => { p.blackHoleFor = parseDurationRange(f, v) } },
  fragment: {
    help: 're-slice forwarded bytes into pieces of min-max bytes (1-64)',
    set: (p, f, v) => {
      const [min, max] = parseSizeRange(f, v, { min: 1 })
      p.fragment = { min, max }
    }
  },
  coalesce: { help: 'hold forwarded bytes this long and write them together', set: (p, f, v) => { p.coalesceMs = parseDuration(f, v) } },
  delay: { help: 'added one-way latency', set: (p, f, v) => { p.delayMs = parseDuration(f, v) } },
  throttle: { help: 'bytes per second per direction of each connection (100kB)', set: (p, f, v) => { p.throttle = parseSize(f, v.replace(/\/s$/, ''), { min: 1 }) } },
  'max-faults': { help: 'the most random cuts and black holes run', set: (p, f, v) => { p.maxFaults = parseInteger(f, v) } },
  duration: { help: 'no random fault starts after this long', set: (p, f, v) => { p.durationMs = parseDuration(f, v) } }
}

/** Help lines for the `--faults` keys. */
export const FAULT_KEYS_HELP: ReadonlyArray<readonly [string, string]> = Object.entries(KEYS).map(([k, v]) => [k, v.help])

/**
 * `--faults` values, merged in order (a later key wins): `key=value` pairs separated by commas, or a JSON
 * `FaultPlan` object (the fault proxy checks its values).
 */
export function parseFaults (specs: readonly string[]): FaultPlan {
  const plan: FaultPlan = {}
  for (const spec of specs) {
    if (spec.trimStart().startsWith('{')) {
      let parsed: unknown
      try {
        parsed = JSON.parse(spec)
      } catch (err) {
        throw new UsageError(`expected --faults to be key=value pairs or a JSON FaultPlan, but got '${spec}', which is not valid JSON (${(err as Error).message})`)
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) badValue('--faults', 'a JSON object', spec)
      Object.assign(plan, parsed)
      continue
    }
    for (const pair of spec.split(',')) {
      if (pair.trim() === '') continue
      const eq = pair.indexOf('=')
      const key = (eq === -1 ? pair : pair.slice(0, eq)).trim()
      const entry = KEYS[key]
      if (entry === undefined) throw new UsageError(`unknown fault '${key}' in --faults; known: ${Object.keys(KEYS).join(', ')}`)
      if (eq === -1) throw new UsageError(`expected a value for fault '${key}' in --faults, as in '${key}=…'`)
      entry.set(plan, `--faults ${key}`, pair.slice(eq + 1).trim())
    }
  }
  if ((plan.blackHoleEvery === undefined) !== (plan.blackHoleFor === undefined)) {
    throw new UsageError('--faults blackhole-every and blackhole-for go together: how often, and for how long')
  }
  return plan
}
