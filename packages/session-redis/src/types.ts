import type { TypedEventTarget } from '@proto/interface'
import type { SessionOrigin, SessionStore } from '@proto/session'
import type { SessionFencedError, StoreUnavailableError } from './errors.js'

/** `'durable'`: sessions are persisted and acknowledged against Redis; `'local'`: Redis is away, sessions are node-local; `'connecting'`: not connected yet (node-local). */
export type StoreMode = 'connecting' | 'durable' | 'local'

/** Events of a Redis session store. */
export interface RedisStoreEvents {
  /** Redis went away (down, restarting, or slower than `commandTimeout`): `sessions` carry on node-local. */
  unavailable: { error: StoreUnavailableError, sessions: number }
  /** Redis is back (or connected for the first time) and every session this node holds was persisted again. */
  available: { downtime: number, sessions: number }
  /** A session was taken from the store onto this node. `from`: the node that held it ('' if it was released). */
  restored: { id: string, origin: Exclude<SessionOrigin, 'new'>, from: string }
  /** This node handed a session to node `to`, with `items` unacknowledged outbound items. */
  'handed-over': { id: string, to: string, items: number }
  /** Another node took a session this node held without a handover (this node was too slow to answer). */
  fenced: { id: string, error: SessionFencedError }
}

export interface RedisStoreStats {
  mode: StoreMode
  /** Sessions this node holds in the store. */
  held: number
  /** Sessions changed since their last persist. */
  dirty: number
  /** PERSIST scripts run (one per changed session per persist interval). */
  persists: number
  /** Flushes brought forward (not waiting for the persist interval) because a session's ACKs waited for them: its client's window was filling. */
  early: number
  /** Outbound frames written to Redis. */
  framesPersisted: number
  /** Redis commands sent (scripts, liveness writes, handover messages excluded). */
  commands: number
  /** Commands that failed or timed out. */
  failures: number
  /** Times Redis became unavailable. */
  outages: number
  /** Sessions another node took without a handover. */
  fenced: number
  /** Sessions this node handed over (on request, or drained). */
  handedOver: number
  /** Sessions this node took: handed over by their node, or recovered from what a dead node persisted. */
  restored: { handover: number, recovered: number }
  handovers: { requested: number, given: number, refused: number, timedOut: number }
}

/** A session store on Redis: give it to `sessionServer({ store })`. */
export interface RedisStore extends SessionStore, TypedEventTarget<RedisStoreEvents> {
  /** This node's name in Redis. */
  readonly nodeId: string
  readonly mode: StoreMode
  /** Resolves once Redis is connected and the store is durable. */
  ready(): Promise<void>
  /**
   * Hands every session this node holds to the store (exact, released) and tells their clients to resume
   * elsewhere (GOAWAY `SHUTTING_DOWN`): for a graceful shutdown. Returns how many were persisted.
   */
  drain(): Promise<number>
  stats(): RedisStoreStats
}
