import type { Frame } from '@proto/codec'
import type { AbortOptions } from '@proto/interface'

/**
 * Where a session stands, as a store keeps it: enough for another node to carry it on. Positions are
 * the server's (docs/PROTOCOL.md §6); `journal` holds the frames the server's application wrote that the
 * client has not acknowledged (sent or not), from position `outAcked + 1` on, in order.
 */
export interface SessionSnapshot {
  /** The public id (16 hex digits). */
  id: string
  /** The public id's 8 bytes. */
  idBytes: Uint8Array
  /** SHA-256 of the session's token (the token itself is never kept). */
  digest: Uint8Array
  /** Highest outbound position the client acknowledged. */
  outAcked: number
  /** Highest outbound position written to any connection. */
  outSent: number
  /** Highest inbound position handed to the application. */
  received: number
  /** Our END's position, once the application's writing ended. */
  endAt: number | undefined
  /** The client acknowledged our END. */
  endAcked: boolean
  /** The client's END position, once received. */
  peerEndAt: number | undefined
  /** The client's END was handed to the application. */
  inEnded: boolean
  /** Unacknowledged outbound frames, positions `outAcked + 1` … in order. */
  journal: Frame[]
  /** The application's own small state of the session (`SessionDuplex.attributes`). */
  attributes: Record<string, string>
  /**
   * The session was recovered from a node that died and its client has not acknowledged the RESUME that
   * said so (flag `RECOVERED`). A store keeps it with the copy and hands such a copy back as `'recovered'`
   * even when its node handed it over: the client may still be past `received` with items that reached the
   * dead node's application, and counts what it sends again only when told (`possibleDuplicates`). Absent
   * means `false`.
   */
  recovered?: boolean
}

/** How a session came to this node from a store. */
export type SessionOrigin = 'new' | 'handover' | 'recovered'

/** A snapshot fetched from a store, with how it was obtained. */
export interface RestoredSession extends SessionSnapshot {
  /**
   * `'handover'`: the node that held it handed it over (or released it on shutdown): exact.
   * `'recovered'`: taken from what a node that stopped answering persisted as it went: the client may
   * have sent items past `received` that reached that node's application (at-least-once, counted by the
   * client as `possibleDuplicates`), and may have received items past `outSent`.
   */
  origin: Exclude<SessionOrigin, 'new'>
}

/**
 * How a session ended on its node, for `SessionStore.ended`: `'completed'`: both directions ended and
 * both ENDs were acknowledged (the client may still resume to learn so: its last acknowledgement may have
 * been lost with its connection); `'closed'`: closed or aborted before completing (the server's `close()`,
 * `abort()`, an eviction); `'expired'`: detached for longer than `ttl`.
 */
export type SessionEnd = 'completed' | 'closed' | 'expired'

/**
 * What `SessionStore.restore` answers: the session, `'completed'` when the store knows it completed
 * (within `ttl`: the RESUME is refused with `SESSION_CLOSED`, which the client takes as the session's
 * clean end), or `undefined` when the store does not know it.
 */
export type RestoreResult = RestoredSession | 'completed' | undefined

/** A server's session as a store sees it. */
export interface StoredSession {
  /** The public id (16 hex digits). */
  readonly id: string
  /** SHA-256 of the session's token, the key a store finds it by. */
  readonly digest: Uint8Array
  /** The state as it is now; the session calls `SessionStore.changed` again at its next change. */
  snapshot(): SessionSnapshot
  /**
   * The store persisted the session up to inbound position `received` (what a node restoring it would
   * resume from): acknowledgements may now cover it. `Infinity` lifts the limit (node-local fallback).
   * `snapshot`: the snapshot that was persisted. Our END in it (`endAt`) may go to the client now, and the
   * client's END delivered in it (`inEnded`) may be acknowledged: until then both are held, so a node
   * restoring the session after this one died knows where either direction ended. `received: Infinity`
   * releases both.
   */
  persisted(received: number, snapshot?: SessionSnapshot): void
  /**
   * Stops serving the session here so another node can take it: the connection (if any) is sent GOAWAY
   * `SHUTTING_DOWN`, the application's source and sink fail with `SessionMovedError` (event `moved`), and
   * the final snapshot is returned: it is exact, since nothing is delivered or acknowledged afterwards.
   */
  handOver(): SessionSnapshot
  /** Another node holds the session now (its store fenced this one): stop serving it here, as `handOver`. */
  fenced(): void
}

/** What a server offers its store. */
export interface StoreHost {
  /** The session this node holds with this token digest, if any (for another node's handover request). */
  find(digest: Uint8Array): StoredSession | undefined
  /** Every session this node holds. */
  sessions(): Iterable<StoredSession>
}

/**
 * Where a session server keeps its sessions beyond its own memory. The default, `memoryStore()`, keeps
 * nothing: sessions live in the server's registry only, and a client resumes on the node that holds its
 * session. A durable store (`@proto/session-redis`) persists each session as it goes and hands sessions
 * between nodes, so a client resumes on any node.
 */
export interface SessionStore {
  /**
   * Whether sessions are persisted: the server then keeps each session's unacknowledged outbound frames
   * (the journal) and acknowledges only what the store persisted (`StoredSession.persisted`).
   */
  readonly durable: boolean
  /** Called once by the server that uses this store. */
  bind(host: StoreHost): void
  /** A new session opened on this node. */
  opened(session: StoredSession): void
  /** Something in the session changed: persist it when convenient. */
  changed(session: StoredSession): void
  /**
   * The session's acknowledgements wait for a persist (an ACK went out held below what was received, so
   * the client's window is filling): persist it as soon as possible rather than at the next interval.
   * Optional; a store without it persists on its own schedule.
   */
  persistSoon?(session: StoredSession): void
  /**
   * A RESUME names a session this node does not hold: fetch it from the store (asking the node that holds
   * it to hand it over); `'completed'` when the store remembers that it completed (on any node, within
   * `ttl`); `undefined` when the store does not know it. Throws when the store cannot be asked now (the
   * RESUME is then refused retryably, reason `store`).
   */
  restore(digest: Uint8Array, options?: AbortOptions): Promise<RestoreResult>
  /**
   * `restore()` gave a session this server then did not take (it was closing): give it back as it was, so
   * the next node takes it as a handover. Optional; without it the next node finds this one the owner.
   */
  unused?(digest: Uint8Array): void
  /**
   * The session ended on this node (`how`): forget it. Not called when it moved. A store shared by several
   * nodes should remember a `'completed'` session for `ttl`, so that a client whose last acknowledgement was
   * lost and that resumes on another node learns it completed rather than that it is unknown (which, under
   * `onLost: 'replay'`, sends its unconfirmed items again).
   */
  ended(session: StoredSession, how: SessionEnd): void
  /** Stops the store's own work (timers, connections it made). Sessions are not touched. */
  close(): Promise<void>
}

/**
 * The default session store: keeps nothing beyond the server's own registry. Sessions do not survive the
 * process and resume only on the node that holds them.
 */
export function memoryStore (): SessionStore {
  return {
    durable: false,
    bind: () => {},
    opened: () => {},
    changed: () => {},
    restore: async () => undefined,
    ended: () => {},
    close: async () => {}
  }
}
