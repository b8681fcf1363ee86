import { randomSeed } from '@proto/fault-proxy'
import { validate } from '@proto/interface'
import { MIN_MESSAGE_SIZE } from './message.js'

/** A `[min, max]` range in milliseconds; one value is drawn per use from the seed. */
export type Range = readonly [min: number, max: number]

/** Where the demo writes: a terminal gets a redrawn progress line, anything else plain periodic lines. */
export interface Output {
  write(text: string): void
  /** A terminal: progress is one line redrawn in place. @default false */
  isTTY?: boolean
  /** The terminal's width in columns, read at every redraw (so a resize is followed). @default 80 */
  readonly columns?: number | undefined
  /** Whether ANSI colours may be used. @default false */
  color?: boolean
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
  /**
   * Run the client and the server with `@proto/session` (exactly once, in order, both ways, across
   * reconnects). `false` runs the plain stack (reconnect without retention: at most once, every loss
   * counted) for comparison. @default true
   */
  session?: boolean
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
  /**
   * Stops the run early (Ctrl-C): sending stops, faults stop, what is in flight drains for up to
   * `stopDrain` ms, then everything is closed. The summary is marked `interrupted`. @default none
   */
  signal?: AbortSignal
  /** After `signal` aborts, how long in-flight messages may drain before the link is torn down, in ms. @default 1000 */
  stopDrain?: number
  /**
   * Run this many session servers, each its own process, sharing their sessions through a `redis-server`
   * the run starts (it must be installed); the proxy sends each new connection to the next server in turn,
   * so the session resumes across servers. `0`: one server inside the demo's process, no Redis. Needs
   * sessions. @default 0
   */
  servers?: number
  /**
   * With `servers`: halfway through, stop the server the client is connected to. `'term'`: SIGTERM, it
   * drains (hands its session over through Redis; exactly once still holds); `'kill'`: SIGKILL, the next
   * server recovers what it persisted (at-least-once at that point: the client counts possible
   * duplicates); `'none'`: no server is stopped. The stopped server is not restarted. @default 'term'
   */
  kill?: KillMode
}

/** How `--kill` stops a server: SIGTERM (graceful drain), SIGKILL, or not at all. */
export type KillMode = 'term' | 'kill' | 'none'

export const DEFAULTS = {
  messages: 20_000,
  size: 256,
  rate: 2_000,
  session: true,
  cutEvery: [800, 2_500] as Range,
  blackHoleEvery: [2_000, 4_000] as Range,
  blackHoleFor: [1_300, 2_000] as Range,
  linkChangeEvery: [500, 1_500] as Range,
  fragment: { min: 1, max: 1460 },
  coalesceMs: 3,
  heartbeatInterval: 250,
  heartbeatTimeout: 1_000,
  durationLimit: 120_000,
  progressInterval: 1_000,
  stopDrain: 1_000,
  servers: 0,
  kill: 'term' as KillMode
}

/** At most this many server processes (`servers`). */
export const MAX_SERVERS = 16

/** Options with defaults applied. */
export interface ResolvedOptions {
  messages: number
  size: number
  rate: number
  seed: number
  session: boolean
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
  signal: AbortSignal | undefined
  stopDrain: number
  servers: number
  kill: KillMode
}

const MAX_RANGE_MS = 600_000

function range (name: string, value: Range | undefined): Range | undefined {
  if (value === undefined) return undefined
  const ok = Array.isArray(value) && value.length === 2 && value.every(v => Number.isFinite(v))
    && value[0] >= 1 && value[1] >= value[0] && value[1] <= MAX_RANGE_MS
  if (!ok) validate.invalid(name, `[min, max] in ms with 1 ≤ min ≤ max ≤ ${MAX_RANGE_MS}`, Array.isArray(value) ? `[${value.join(', ')}]` : value)
  return value
}

/** Applies defaults; throws `InvalidParametersError` for anything out of range. */
export function resolveOptions (o: DemoOptions): ResolvedOptions {
  const heartbeatInterval = validate.integer('heartbeatInterval', o.heartbeatInterval, DEFAULTS.heartbeatInterval, { min: 1 })
  const heartbeatTimeout = validate.integer('heartbeatTimeout', o.heartbeatTimeout, DEFAULTS.heartbeatTimeout, { min: heartbeatInterval + 1 })
  const session = validate.flag('session', o.session, DEFAULTS.session)
  const servers = validate.integer('servers', o.servers, DEFAULTS.servers, { min: 0, max: MAX_SERVERS })
  const kill = validate.oneOf('kill', o.kill, ['term', 'kill', 'none'] as const, DEFAULTS.kill)
  if (servers > 0 && !session) validate.invalid('servers', 'used with sessions (the servers share sessions through Redis), not with session: false', servers)
  if (servers === 1 && kill !== 'none') validate.invalid('servers', `at least 2 to stop one (kill: '${kill}'): the session must have another server to go to; or kill: 'none'`, servers)
  return {
    messages: validate.integer('messages', o.messages, DEFAULTS.messages, { min: 1 }),
    size: validate.integer('size', o.size, DEFAULTS.size, { min: MIN_MESSAGE_SIZE }),
    rate: validate.integer('rate', o.rate, DEFAULTS.rate),
    seed: validate.integer('seed', o.seed, randomSeed(), { max: 0xFFFF_FFFF }),
    session,
    faults: validate.flag('faults', o.faults, true),
    cutEvery: range('cutEvery', 'cutEvery' in o ? o.cutEvery : DEFAULTS.cutEvery),
    blackHoleEvery: range('blackHoleEvery', 'blackHoleEvery' in o ? o.blackHoleEvery : DEFAULTS.blackHoleEvery),
    blackHoleFor: range('blackHoleFor', o.blackHoleFor ?? DEFAULTS.blackHoleFor) ?? DEFAULTS.blackHoleFor,
    linkChangeEvery: range('linkChangeEvery', o.linkChangeEvery ?? DEFAULTS.linkChangeEvery) ?? DEFAULTS.linkChangeEvery,
    heartbeatInterval,
    heartbeatTimeout,
    durationLimit: validate.duration('durationLimit', o.durationLimit, DEFAULTS.durationLimit, { min: 1 }),
    output: o.output,
    progressInterval: validate.duration('progressInterval', o.progressInterval, DEFAULTS.progressInterval, { min: 10 }),
    signal: validate.signal('signal', o.signal),
    stopDrain: validate.duration('stopDrain', o.stopDrain, DEFAULTS.stopDrain),
    servers,
    kill: servers > 0 ? kill : 'none'
  }
}
