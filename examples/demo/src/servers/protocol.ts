import type { ServerSessionReport } from '../session-summary.js'
import type { TimelineEvent } from '../timeline.js'

/** What the demo tells one of its server processes (`--servers`), in the environment variable `DEMO_SERVER` as JSON. */
export interface ServerProcessConfig {
  /** 0-based number of the server. */
  index: number
  redisUrl: string
  /** Prefix of the run's keys in Redis. */
  prefix: string
  /** Where the server's ledger goes (see `ledger.ts`). */
  ledger: string
  messages: number
  size: number
  heartbeatInterval: number
  heartbeatTimeout: number
}

/** A server process's own counts, sent to the demo every `REPORT_INTERVAL` ms and when it settles, drains or closes. */
export interface ServerProcessReport {
  /** TCP connections it accepted. */
  connections: number
  heartbeatTimeouts: number
  corrupted: number
  /** Every session it served. */
  session: ServerSessionReport
  /** The sessions that stayed here to the end (did not move to another server through the store). */
  stayed: ServerSessionReport
  /** Ids of the sessions that carried messages here. */
  usedIds: string[]
  /** The Redis store's counts: sessions handed to another server, and taken from the store. */
  handedOver: number
  restored: { handover: number, recovered: number }
  /** The store's persists, failed Redis commands, and sessions another server took without a handover (fenced). */
  store: { persists: number, failures: number, fenced: number }
}

/** Server process → demo. Times (`atMs`, ledger times) are on `performance.timeOrigin + performance.now()`'s clock: the demo counts them from the run's start. */
export type FromServer =
  | { type: 'ready', port: number, nodeId: string }
  | { type: 'report', report: ServerProcessReport }
  | { type: 'event', event: TimelineEvent }
  /** Answer to `settle`: its sessions ended (or the timeout passed). */
  | { type: 'settled', report: ServerProcessReport }
  /** On SIGTERM: every session was handed to the store (`sessions` of them); the process exits next. */
  | { type: 'drained', sessions: number, report: ServerProcessReport }

/** Demo → server process. */
export type ToServer =
  | { type: 'settle', timeout: number }
  | { type: 'close' }

/** How often a server process reports its counts (ms): what a SIGKILLed one reported last is at most this old. */
export const REPORT_INTERVAL = 200
