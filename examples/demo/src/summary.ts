import type { FaultProxyStats } from '@proto/fault-proxy'
import type { ReconnectStats } from '@proto/reconnect'
import type { ConnectionRecord, Outage } from './connections.js'
import type { Distribution } from './distribution.js'
import type { FaultCounts } from './faults.js'
import type { Range } from './options.js'
import type { SessionSummary } from './session-summary.js'
import type { Timeline } from './timeline.js'

/** One checked guarantee. */
export interface Check {
  name: string
  /** What the guarantee means, in one line. */
  help: string
  /** The guarantee held (or was not judged, see `skipped`). */
  ok: boolean
  /** What was measured. */
  detail: string
  /** Not judged: the run was interrupted before it could be (`ok` is then `true`). */
  skipped?: boolean
}

/**
 * `pass`: every guarantee held; `fail`: one was broken; `interrupted`: stopped early by `signal` (the
 * checks cover what was sent until then); `error`: the run failed or hit its duration limit (`error`).
 */
export type Outcome = 'pass' | 'fail' | 'interrupted' | 'error'

/** The settings the run used (times in ms; a range is `[min, max]`, `null` when that fault was off). */
export interface RunSettings {
  /** Client and server ran with `@proto/session` (exactly once); `false`: reconnect alone (at most once). */
  session: boolean
  rate: number
  cutEvery: Range | null
  blackHoleEvery: Range | null
  blackHoleFor: Range
  linkChangeEvery: Range
  heartbeatInterval: number
  heartbeatTimeout: number
}

/**
 * What `runDemo()` returns, and what `--json` prints. Message counts are per message; times in ms; rates
 * per second. In JSON, a percentile of no samples (`NaN`) is `null`.
 */
export interface DemoSummary {
  /** `outcome === 'pass'`. */
  ok: boolean
  outcome: Outcome
  /** Stopped early by `signal` (Ctrl-C): counts and checks cover the messages sent until then. */
  interrupted: boolean
  /** Why the run did not finish, if it did not (deadline, unexpected error). */
  error: string | undefined
  /** When the run started (ISO 8601, wall clock). */
  startedAt: string
  seed: number
  faults: boolean
  messages: number
  size: number
  settings: RunSettings
  /** Messages the client's durable sink accepted. */
  sent: number
  /** Intact messages the server's application received (each once). */
  receivedByServer: number
  /** Intact echoes the client received (each once): the round trip completed. */
  delivered: number
  /** `sent − delivered`: lost on the way out (`lostUp`) or on the way back (`lostDown`). */
  lost: number
  lostUp: number
  lostDown: number
  /** Duplicates seen by the server plus those seen by the client. */
  duplicated: number
  /** Out-of-order messages: per connection at the server, and in the client's echo stream. */
  outOfOrder: number
  /** Wrong size or checksum, at the server or the client. */
  corrupted: number
  /** Without sessions: messages that reached the server from an old connection after newer ones (allowed; see README). */
  lateFromOldConnection: number
  /** Connections the client made; `reconnects` = all but the first. */
  connections: number
  reconnects: number
  /** Client connections the durable duplex declared lost. */
  lostConnections: number
  heartbeatTimeouts: { client: number, server: number }
  /** Echo round trip (handed to a connection → echo back) and heartbeat ping round trip. */
  rtt: { echoP50: number, echoP99: number, heartbeatP50: number, heartbeatP99: number, echo: Distribution, heartbeat: Distribution }
  /**
   * The client heartbeat's ping interval (ms): adaptive with sessions (shorter on a poor link, longer on a
   * stable one), fixed without. `changes` counts the changes after the first value, `reasons` each change's cause.
   */
  interval: { first: number | null, last: number | null, min: number | null, max: number | null, changes: number, reasons: Record<string, number> }
  durationMs: number
  throughput: { messagesPerSecond: number, bytesPerSecond: number }
  /** The client's durable duplex (with sessions, the one under the session: `handed` counts first handings). */
  reconnect: Pick<ReconnectStats, 'handed' | 'unconfirmed' | 'dropped' | 'unsent' | 'discardedInbound' | 'attempts'>
  /**
   * With sessions: both sides' session counts — acknowledged, replayed, de-duplicated, resumed, sessions
   * lost, and each side's ledger. `null` without sessions.
   */
  session: SessionSummary | null
  proxy: FaultProxyStats & FaultCounts
  /** With `--servers`: the server processes, where each connection landed, the kill, handovers and restores; `null` with one in-process server. */
  servers: ServersSummary | null
  /** Each client connection: life span, what it carried, what it lost, how it ended. */
  perConnection: ConnectionRecord[]
  /** Each lost connection: the fault, how long until it was noticed, the redial and the first echo after. */
  outages: Outage[]
  /** Throughput and RTT per time bucket, and every fault, connection and heartbeat event. */
  timeline: Timeline
  checks: Check[]
}

/** One of the server processes of a `--servers` run. */
export interface ServerNodeSummary {
  /** 0-based number of the server (the `node` of the connections it served). */
  index: number
  pid: number
  port: number
  /** Its name in Redis. */
  nodeId: string
  /** TCP connections it accepted (through the proxy). */
  connections: number
  /** Messages its application received first (no other server had them). */
  received: number
  /** Messages its application received that another server had received already (after a SIGKILL: replayed past what was persisted). */
  duplicates: number
  /** Sessions it handed to another server through Redis (asked by the next server, or drained on SIGTERM). */
  handedOver: number
  /** Sessions it took from Redis: handed over by a live server, or recovered from what a dead one persisted. */
  restored: { handover: number, recovered: number }
  /** Its Redis store's persists, failed commands, and sessions another server took from it without a handover (fenced). */
  store: { persists: number, failures: number, fenced: number }
  /** How the demo stopped it during the run, `null` if it ran to the end. */
  killed: 'SIGTERM' | 'SIGKILL' | null
  /** Its counts are final (it reported when its sessions ended or were drained); `false`: its last periodic report (a SIGKILLed server). */
  final: boolean
}

/** A `--servers` run: N session servers, each its own process, sharing sessions through Redis. */
export interface ServersSummary {
  count: number
  /** The port of the run's own `redis-server`. */
  redisPort: number
  servers: ServerNodeSummary[]
  /** Each connection the proxy accepted (id from 1) and the server it sent it to, in turn. */
  proxyConnections: Array<{ id: number, node: number, atMs: number }>
  /** The server each client connection landed on, by connection number (index 0 unused, `null`: it carried no message). */
  connectionNodes: Array<number | null>
  /** What `--kill` asked for. */
  killMode: 'term' | 'kill' | 'none'
  /** The server stopped halfway (`--kill`), `null` with `--kill none` or a run that ended before halfway. It is not restarted. */
  kill: {
    mode: 'term' | 'kill'
    signal: 'SIGTERM' | 'SIGKILL'
    node: number
    atMs: number
    /** When its process had exited. */
    exitedAtMs: number | null
    /** SIGTERM: sessions it handed to Redis as it drained. */
    drainedSessions: number | null
  } | null
  /** Sessions handed from one server to another (sum of `handedOver`). */
  handovers: number
  /** Sessions taken from Redis: exactly (`handover`), or recovered from what a SIGKILLed server persisted (`recovered`). */
  restores: { handover: number, recovered: number }
  /** Messages the client counted as possibly received twice: sent past what a recovered session's copy had. */
  possibleDuplicates: number
}

export { percentile } from './distribution.js'
