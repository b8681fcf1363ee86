import type { DisconnectReason } from '@proto/reconnect'
import type { SessionLostReason } from '@proto/session'

/**
 * What happened during a run, in time order. Every `atMs` counts from the start of the run. New kinds of
 * event are added as new members of the union; a reader skips types it does not know.
 */
export type TimelineEvent =
  /** The proxy cut every connection, with a FIN or a reset. */
  | { type: 'cut', atMs: number, mode: 'fin' | 'reset', connections: number }
  /** The proxy stopped forwarding (sockets kept open) until `endMs` (`undefined` if the run ended first). */
  | { type: 'black-hole', atMs: number, endMs: number | undefined }
  /** The proxy switched between re-slicing bytes into small pieces and coalescing them. */
  | { type: 'link', atMs: number, mode: LinkMode }
  /**
   * Client connection number `connection` came up (`attempt`: the dial that made it); with sessions,
   * `resumed` says whether it resumed the session (or opened it).
   */
  | { type: 'connected', atMs: number, connection: number, attempt: number, resumed?: boolean }
  /** Reconnect declared client connection `connection` lost; `cause` says how, in words. */
  | { type: 'disconnected', atMs: number, connection: number, reason: DisconnectReason, error: string | undefined, cause: string }
  /** A session could not be resumed (`unconfirmed`: items its side had sent that were never acknowledged). */
  | { type: 'session-lost', atMs: number, side: 'client' | 'server', reason: SessionLostReason, unconfirmed: number }
  /** A heartbeat declared its peer dead, on the client or on the server. */
  | { type: 'heartbeat-timeout', atMs: number, side: 'client' | 'server' }
  /** The last message was accepted: faults stop and the link drains. */
  | { type: 'faults-stopped', atMs: number }
  /** The run was stopped early (`signal`, Ctrl-C). */
  | { type: 'interrupted', atMs: number }
  /**
   * With `--servers`: server `node` handed the session to the store for another server (`handed-over`,
   * with `items` unacknowledged echoes), or took it from the store: handed over by a live server
   * (`handover`, exact) or recovered from what a dead one persisted (`recovered`, at-least-once).
   */
  | { type: 'handover', atMs: number, node: number, kind: 'handed-over' | 'handover' | 'recovered', items: number }
  /** With `--servers`: the demo stopped server `node` with `signal` (`exitedAtMs`: when its process had gone). */
  | { type: 'server-killed', atMs: number, node: number, signal: 'SIGTERM' | 'SIGKILL', exitedAtMs: number | undefined }

export type LinkMode = 'fragmenting' | 'coalescing'

/**
 * Per-bucket series, all of the same length (`buckets`). Counts are messages per bucket (divide by
 * `bucketMs / 1000` for a rate); times are in ms, `null` where a bucket had no sample. New series are
 * added as new keys.
 */
export interface TimelineSeries {
  /** Messages the client handed to a connection for the first time. */
  handed: number[]
  /** Messages the client wrote again on a new connection (sessions replay what was not acknowledged). */
  replayed: number[]
  /** Messages the server received: throughput client → server. */
  out: number[]
  /** Echoes the client received: throughput server → client. */
  back: number[]
  /** Echo round trip of the echoes received in the bucket: median and largest. */
  rttP50: Array<number | null>
  rttMax: Array<number | null>
  /** Heartbeat ping round trip (median of the pongs in the bucket); pings go out only on an idle link. */
  heartbeatRtt: Array<number | null>
  /** The client heartbeat's ping interval in force at the end of each bucket (`null` before its first connection). */
  heartbeatInterval: Array<number | null>
}

export interface Timeline {
  bucketMs: number
  buckets: number
  series: TimelineSeries
  events: TimelineEvent[]
}

/** Raw samples gathered during the run; times in ms since the start of the run. */
export interface TimelineSamples {
  durationMs: number
  /** When each message was first handed to a connection / reached the server (`NaN`: never). Indexed by sequence number. */
  handedAt: ArrayLike<number>
  serverAt: ArrayLike<number>
  /** When each replayed message was written again. */
  replayAt: ArrayLike<number>
  /** Arrival time and round trip of each echo, in arrival order. */
  echoAt: ArrayLike<number>
  echoRtt: ArrayLike<number>
  heartbeatAt: ArrayLike<number>
  heartbeatRtt: ArrayLike<number>
  /** When the client heartbeat's ping interval took each value, and the value (ms), in time order. */
  intervalAt?: ArrayLike<number>
  interval?: ArrayLike<number>
  events: TimelineEvent[]
}

/** Buckets aim at this many points across the run, and are never finer than `MIN_BUCKET_MS`. */
const TARGET_BUCKETS = 200
const MIN_BUCKET_MS = 100

/** A bucket width that gives about `TARGET_BUCKETS` points: 100, 200, 250, 500 ms, 1 s, 2 s, 5 s, … */
export function bucketWidth (durationMs: number): number {
  const raw = Math.max(MIN_BUCKET_MS, durationMs / TARGET_BUCKETS)
  const steps = [100, 200, 250, 500]
  for (let scale = 1; ; scale *= 10) {
    for (const step of steps) if (step * scale >= raw) return step * scale
  }
}

function counts (times: ArrayLike<number>, bucketMs: number, buckets: number): number[] {
  const out = new Array<number>(buckets).fill(0)
  for (let i = 0; i < times.length; i++) {
    const t = times[i]
    if (Number.isFinite(t)) out[Math.min(buckets - 1, Math.max(0, Math.floor(t / bucketMs)))]++
  }
  return out
}

/** For each bucket, `pick` over the values whose time falls in it (`null` for none). */
function perBucket (at: ArrayLike<number>, values: ArrayLike<number>, bucketMs: number, buckets: number, pick: (sorted: Float64Array) => number): Array<number | null> {
  const groups: number[][] = Array.from({ length: buckets }, () => [])
  for (let i = 0; i < at.length; i++) groups[Math.min(buckets - 1, Math.max(0, Math.floor(at[i] / bucketMs)))].push(values[i])
  return groups.map(g => g.length === 0 ? null : pick(Float64Array.from(g).sort()))
}

/** For each bucket, the last value set at or before its end (a step series), `null` before the first. */
function stepped (at: ArrayLike<number>, values: ArrayLike<number>, bucketMs: number, buckets: number): Array<number | null> {
  const out: Array<number | null> = []
  let i = 0
  let current: number | null = null
  for (let b = 0; b < buckets; b++) {
    const end = (b + 1) * bucketMs
    while (i < at.length && at[i] < end) current = values[i++]
    out.push(current)
  }
  return out
}

const median = (sorted: Float64Array): number => sorted[(sorted.length - 1) >> 1]
const largest = (sorted: Float64Array): number => sorted[sorted.length - 1]

/** Turns the raw samples into the bucketed timeline the report draws. */
export function buildTimeline (s: TimelineSamples): Timeline {
  const bucketMs = bucketWidth(s.durationMs)
  const buckets = Math.max(1, Math.ceil(s.durationMs / bucketMs))
  return {
    bucketMs,
    buckets,
    series: {
      handed: counts(s.handedAt, bucketMs, buckets),
      replayed: counts(s.replayAt, bucketMs, buckets),
      out: counts(s.serverAt, bucketMs, buckets),
      back: counts(s.echoAt, bucketMs, buckets),
      rttP50: perBucket(s.echoAt, s.echoRtt, bucketMs, buckets, median),
      rttMax: perBucket(s.echoAt, s.echoRtt, bucketMs, buckets, largest),
      heartbeatRtt: perBucket(s.heartbeatAt, s.heartbeatRtt, bucketMs, buckets, median),
      heartbeatInterval: stepped(s.intervalAt ?? [], s.interval ?? [], bucketMs, buckets)
    },
    events: [...s.events].sort((a, b) => a.atMs - b.atMs)
  }
}
