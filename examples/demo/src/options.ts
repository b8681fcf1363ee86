import { randomSeed } from '@proto/fault-proxy'
import { MIN_MESSAGE_SIZE } from './message.js'

/** A `[min, max]` range in milliseconds; one value is drawn per use from the seed. */
export type Range = readonly [min: number, max: number]

/** Where the demo writes: a terminal gets a redrawn progress line, anything else plain periodic lines. */
export interface Output {
  write(text: string): void
  isTTY?: boolean
}

/** Options of `runDemo()`. Every field is optional. */
export interface DemoOptions {
  /** Messages the client sends. @default 20000 */
  messages?: number
  /** Bytes per message, header included (at least 16). @default 256 */
  size?: number
  /** Messages per second the client offers; `0` sends as fast as the link takes them. @default 2000 */
  rate?: number
  /** Seed of every random fault choice; the same seed replays the same fault schedule. @default random */
  seed?: number
  /** Inject faults at all. `false` gives a clean link (no cuts, black holes, fragmentation or coalescing). @default true */
  faults?: boolean
  /** Cut the link (FIN or reset, drawn per cut) every this many ms; `undefined` turns cuts off. @default [800, 2500] */
  cutEvery?: Range | undefined
  /** Black-hole the link every this many ms (counted from the end of the previous one); `undefined` = never. @default [2000, 4000] */
  blackHoleEvery?: Range | undefined
  /** How long each black hole lasts, in ms; longer than `heartbeatTimeout`, so the heartbeat must notice. @default [1300, 2000] */
  blackHoleFor?: Range
  /** Switch between fragmented (1…1460-byte pieces) and coalesced reads every this many ms. @default [500, 1500] */
  linkChangeEvery?: Range
  /** Heartbeat ping interval on both ends, in ms. @default 250 */
  heartbeatInterval?: number
  /** Heartbeat dead-peer timeout on both ends, in ms. @default 1000 */
  heartbeatTimeout?: number
  /** Hard limit on the whole run, in ms: past it everything is aborted and the run fails. @default 120000 */
  durationLimit?: number
  /** Where progress goes. @default no output */
  output?: Output
  /** How often progress is drawn, in ms (a terminal line is redrawn 10× as often). @default 1000 */
  progressInterval?: number
}

export const DEFAULTS = {
  messages: 20_000,
  size: 256,
  rate: 2_000,
  cutEvery: [800, 2_500] as Range,
  blackHoleEvery: [2_000, 4_000] as Range,
  blackHoleFor: [1_300, 2_000] as Range,
  linkChangeEvery: [500, 1_500] as Range,
  fragment: { min: 1, max: 1460 },
  coalesceMs: 3,
  heartbeatInterval: 250,
  heartbeatTimeout: 1_000,
  durationLimit: 120_000,
  progressInterval: 1_000
}

/** Options with defaults applied. */
export interface ResolvedOptions {
  messages: number
  size: number
  rate: number
  seed: number
  faults: boolean
  cutEvery: Range | undefined
  blackHoleEvery: Range | undefined
  blackHoleFor: Range
  linkChangeEvery: Range
  heartbeatInterval: number
  heartbeatTimeout: number
  durationLimit: number
  output: Output | undefined
  progressInterval: number
}

export class InvalidParametersError extends Error {
  static override name = 'InvalidParametersError'
  constructor (message = 'invalid option', options?: ErrorOptions) {
    super(message, options)
    this.name = 'InvalidParametersError'
  }
}

function int (name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new InvalidParametersError(`${name} must be a whole number ≥ ${min}; got ${value}`)
  return value
}

function range (name: string, value: Range | undefined): Range | undefined {
  if (value === undefined) return undefined
  const [min, max] = value
  if (!Number.isFinite(min) || !Number.isFinite(max) || min < 1 || max < min || max > 600_000) {
    throw new InvalidParametersError(`${name} must be [min, max] ms with 1 ≤ min ≤ max ≤ 600000; got [${min}, ${max}]`)
  }
  return value
}

/** Applies defaults; throws `InvalidParametersError` for anything out of range. */
export function resolveOptions (o: DemoOptions): ResolvedOptions {
  const heartbeatInterval = int('heartbeatInterval', o.heartbeatInterval ?? DEFAULTS.heartbeatInterval, 1)
  const heartbeatTimeout = int('heartbeatTimeout', o.heartbeatTimeout ?? DEFAULTS.heartbeatTimeout, heartbeatInterval + 1)
  return {
    messages: int('messages', o.messages ?? DEFAULTS.messages, 1),
    size: int('size', o.size ?? DEFAULTS.size, MIN_MESSAGE_SIZE),
    rate: int('rate', o.rate ?? DEFAULTS.rate, 0),
    seed: int('seed', o.seed ?? randomSeed(), 0),
    faults: o.faults ?? true,
    cutEvery: range('cutEvery', 'cutEvery' in o ? o.cutEvery : DEFAULTS.cutEvery),
    blackHoleEvery: range('blackHoleEvery', 'blackHoleEvery' in o ? o.blackHoleEvery : DEFAULTS.blackHoleEvery),
    blackHoleFor: range('blackHoleFor', o.blackHoleFor ?? DEFAULTS.blackHoleFor) ?? DEFAULTS.blackHoleFor,
    linkChangeEvery: range('linkChangeEvery', o.linkChangeEvery ?? DEFAULTS.linkChangeEvery) ?? DEFAULTS.linkChangeEvery,
    heartbeatInterval,
    heartbeatTimeout,
    durationLimit: int('durationLimit', o.durationLimit ?? DEFAULTS.durationLimit, 1),
    output: o.output,
    progressInterval: int('progressInterval', o.progressInterval ?? DEFAULTS.progressInterval, 10)
  }
}
