import type { TypedEventTarget } from '@proto/interface'
import type { SessionOrigin, SessionStore, StoredSession } from '@proto/session'
import type { SessionFencedError, StoreUnavailableError } from './errors.js'

/** `'durable'`: sessions are persisted and acknowledged against Redis; `'local'`: Redis is away, sessions are node-local; `'connecting'`: not connected yet (node-local). */
export type StoreMode = 'connecting' | 'durable' | 'local'

/** Events of a Redis session store. */
export interface RedisStoreEvents {
  /** Redis went away (down, restarting, or slower than `commandTimeout`): `sessions` carry on node-local. */
  unavailable: {
    /** What made Redis unusable (its `cause` is the Redis client's error, when there is one). */
    error: StoreUnavailableError
    /** Sessions this node holds, now served node-local. */
    sessions: number
  }
  /** Redis is back (or connected for the first time) and every session this node holds was persisted again. */
  available: {
    /** How long Redis was unavailable (the first time: since the store was made), in ms. */
    downtime: number
    /** Sessions this node holds, all persisted again. */
    sessions: number
  }
  /** A session was taken from the store onto this node. `from`: the node that held it ('' if it was released on shutdown). */
  restored: {
    /** The session's public id (16 hex digits). */
    id: string
    /** `'handover'`: its node handed it over (or released it on shutdown); `'recovered'`: its node died. */
    origin: Exclude<SessionOrigin, 'new'>
    /** The id of the node that held it (the one asked to hand it over, for a handover on request); `''` if it was released on shutdown. */
    from: string
  }
  /** This node handed a session to node `to`, with `items` unacknowledged outbound items. */
  'handed-over': {
    /** The session's public id (16 hex digits). */
    id: string
    /** The id of the node that took it. */
    to: string
    /** Outbound items not yet acknowledged by the client, persisted for the new node to send. */
    items: number
  }
  /** Another node took a session this node held without a handover (this node was too slow to answer). */
  fenced: {
    /** The session's public id (16 hex digits). */
    id: string
    /** What happened, with the session's id; the session here ends with `SessionMovedError`. */
    error: SessionFencedError
  }
}

/** A snapshot of a Redis session store's state and counters (counters since the store was made). */
export interface RedisStoreStats {
  /** Whether sessions are persisted now (see `StoreMode`). */
  mode: StoreMode
  /** Sessions this node holds in the store. */
  held: number
  /** Sessions changed since their last persist. */
  dirty: number
  /**
   * Sessions that ended while Redis was away, whose keys are deleted (a completed one's marker written) once
   * it is back; at most `MAX_OWED_FORGETS`.
   */
  owed: number
  /** PERSIST scripts run (one per changed session per persist interval). */
  persists: number
  /** Flushes brought forward (not waiting for the persist interval) because a session's ACKs waited for them: its client's window was filling. */
  early: number
  /**
   * PERSISTs that wrote a session's previous snapshot (trimmed by what its client acknowledged since) because
   * it received nothing in between while it kept writing: frames acknowledged within one interval are never written.
   */
  lagged: number
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
  /**
   * Resumes refused here (retryable, GOAWAY `SHUTTING_DOWN`) because another node claimed the session between
   * this node's read of its owner and its claim: a client that dialled two nodes at once. One node takes it.
   */
  contended: number
  /**
   * Sessions that completed on this node and left a marker in Redis for `ttl`: a client that resumes one on
   * any node (its last acknowledgement lost with its connection) is told it completed (GOAWAY
   * `SESSION_CLOSED`, the server's refusal reason `completed`) instead of that it is unknown.
   */
  completed: number
  /** Sessions this node handed over (on request, or drained). */
  handedOver: number
  /** Sessions this node took: handed over by their node, or recovered from what a dead node persisted. */
  restored: {
    /** Handed over by the node that held them (or released by it on shutdown). */
    handover: number
    /** Recovered from what a node that died had persisted. */
    recovered: number
  }
  /** Handover requests this node sent, and those it answered. */
  handovers: {
    /** Requests this node sent to a live holder of a session a client resumed here. */
    requested: number
    /** Requests from other nodes this node answered by handing the session over. */
    given: number
    /** Requests from other nodes this node could not satisfy (it no longer held the session, or persisting failed). */
    refused: number
    /** Requests this node sent that got no answer within `handoverTimeout`. */
    timedOut: number
  }
}

/** A session store on Redis: give it to `sessionServer({ store })`. */
export interface RedisStore extends SessionStore, TypedEventTarget<RedisStoreEvents> {
  /** This node's name in Redis. */
  readonly nodeId: string
  /** Whether sessions are persisted now: `'durable'`, `'local'` (Redis is away) or `'connecting'`. */
  readonly mode: StoreMode
  /** A session `restore()` gave that the server did not take (it was closing): released as it was, so the next node takes it as a handover. */
  unused(digest: Uint8Array): void
  /** Resolves once Redis is connected and the store is durable. */
  ready(): Promise<void>
  /** Persists the session at once rather than at the next interval (its ACKs wait for it); see `SessionStore.persistSoon`. */
  persistSoon(session: StoredSession): void
  /**
   * Hands every session this node holds to the store (exact, released) and tells their clients to resume
   * elsewhere (GOAWAY `SHUTTING_DOWN`): for a graceful shutdown. Returns how many were persisted.
   */
  drain(): Promise<number>
  /** A snapshot of the store's state and counters. */
  stats(): RedisStoreStats
}
