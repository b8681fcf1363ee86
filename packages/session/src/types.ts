import type { CopyCodecInit, Frame } from '@proto/codec'
import type { HeartbeatDuplex, HeartbeatInit } from '@proto/heartbeat'
import type { AbortOptions, BatchSource, ByteDuplex, Clock, StageDuplex, Timers, TypedEventTarget } from '@proto/interface'
import type { BufferInit, ReconnectEventMap, ReconnectInit, ReconnectStats, ReconnectStatus, StatusEvent } from '@proto/reconnect'
import type { SessionLostReason } from './errors.js'
import type { SessionCounters } from './state.js'
import type { SessionOrigin, SessionStore } from './store.js'

/** What a client does when its session cannot be resumed. */
export type LostPolicy = 'replay' | 'drop' | 'fail'

/** Events of a session end: reconnect's status events (per connection) and the session's own. */
export interface SessionEventMap extends ReconnectEventMap {
  /**
   * A new session was established (the first, or one that replaces a lost one). Told when the link takes
   * the connection into use, just before its `connected` (as `resumed` is).
   */
  open: {
    /** The event's name, so a status event can be told apart. */
    type: 'open'
    /** The session's public id (16 hex digits). */
    id: string
  }
  /**
   * The session was resumed on a new connection; `retained` unacknowledged items go again first.
   * `possibleDuplicates` (client): items counted so far that a server restored from a store copy may
   * have received twice (see `stats().possibleDuplicates`).
   */
  resumed: {
    /** The event's name, so a status event can be told apart. */
    type: 'resumed'
    /** The session's public id (16 hex digits). */
    id: string
    /** Unacknowledged items that go to the new connection again, first (not those the peer's RESUME says it has). */
    retained: number
    /** Client: the running count of items a server that restored the session may have received twice; server: 0. */
    possibleDuplicates: number
  }
  /**
   * Server: the session left this node through the session store (another node took it over, or this
   * node drained it); `handedOver` items written here and not yet acknowledged went with it. The source
   * and sink fail with `SessionMovedError`.
   */
  moved: {
    /** The event's name, so a status event can be told apart. */
    type: 'moved'
    /** The session's public id (16 hex digits). */
    id: string
    /** Items written on this node and not yet acknowledged that went with the session. */
    handedOver: number
  }
  /**
   * The session cannot be resumed. `unconfirmed` is the exact number of items we sent in it that were
   * never acknowledged: the peer may not have received them. `action` says what happens to them.
   */
  'session-lost': {
    /** The event's name, so a status event can be told apart. */
    type: 'session-lost'
    /** The lost session's public id (16 hex digits). */
    id: string
    /** Why it can no longer be resumed. */
    reason: SessionLostReason
    /** Items we sent in it that were never acknowledged. */
    unconfirmed: number
    /** What happens to those items: the client's `onLost` policy. */
    action: LostPolicy
  }
}

/** A snapshot of a session end. */
export interface SessionStats extends SessionCounters {
  /** The public id, once established. */
  id: string | undefined
  /** Which end of the session this is. */
  role: 'client' | 'server'
  /** The durable duplex's state now (as `status`). */
  status: ReconnectStatus
  /** The durable duplex underneath: its ledger counts the items of the application's sink exactly. */
  link: ReconnectStats
}

/**
 * One end of a session: a durable duplex of frames whose items arrive exactly once and in order, across
 * connections, in both directions. Frame types must be DATA (`0x00`) or application types (`0x40`–`0xFF`).
 */
export interface SessionDuplex extends StageDuplex<Frame>, TypedEventTarget<SessionEventMap> {
  /**
   * The peer's items, exactly once and in order, across connections; ends after the peer's END. Also
   * offers `nextBatch()` for stages above. Single consumer.
   */
  readonly source: BatchSource<Frame>
  /** The public id (16 hex digits) once established; safe to log. */
  readonly id: string | undefined
  /** The state of the durable duplex underneath: connecting, connected, reconnecting, failed or closed. */
  readonly status: ReconnectStatus
  /**
   * Server: how the session came to this node: opened here (`'new'`), handed over by the node that held
   * it (`'handover'`), or restored from what a node that died persisted (`'recovered'`). Client: `undefined`.
   */
  readonly origin?: SessionOrigin | undefined
  /**
   * Server: how many items the application has written into this session so far, counted from the
   * session's start and across the nodes that held it (item `k` is the session's position `k`). With a
   * durable store, read it when a session arrives (`session` event): a session recovered after its node
   * died (`origin: 'recovered'`) counts what that node persisted or its client had received; anything the
   * dead node's application wrote past it was lost with that node, and an application that can produce its
   * items again by number resumes with item `written + 1`, which makes its writing exactly-once across the
   * crash. After a handover the count is exact. Client: `undefined`.
   */
  readonly written?: number | undefined
  /** A snapshot of the session's counters and of the durable duplex underneath. */
  stats(): SessionStats
  /** End our writing (END, acknowledged), close the session (GOAWAY `SESSION_CLOSED`) within `closeTimeout`. */
  close(options?: AbortOptions): Promise<void>
  /** Tear down now; the peer's side of the session expires after its ttl. */
  abort(err: Error): void
  /** Drop the current connection and dial again at once (clients); the session resumes. */
  reconnect(): void
  /**
   * The durable duplex's status events as an async iterable (at most `statusBuffer` unread per iterator,
   * the oldest discarded first); it ends after `closed`, or when `options.signal` aborts.
   */
  statusIterator(options?: AbortOptions): AsyncIterableIterator<StatusEvent>
  /**
   * A small string the application keeps with the session (e.g. a chat room's cursor). On a server with
   * a durable session store it is persisted with the session and travels with it to another node.
   */
  getAttribute(key: string): string | undefined
  /** Sets (or, with `undefined`, removes) an attribute; see `getAttribute`. */
  setAttribute(key: string, value: string | undefined): void
}

/** Replay window: unacknowledged items each side keeps per session. */
export interface WindowInit {
  /**
   * Unacknowledged items kept at most; when full, the writer waits for acknowledgements.
   * @default 16384 on a client, 4096 on a server
   */
  maxMessages?: number
  /**
   * Unacknowledged body bytes kept at most.
   * @default 16777216 (16 MiB) on a client, 1048576 (1 MiB) on a server
   */
  maxBytes?: number
}

/** What one side queues of the peer's items for its application, at most. */
export interface InboundInit {
  /**
   * Items queued at most.
   * @default 16384
   */
  maxMessages?: number
  /**
   * Body bytes queued at most (one larger item is still taken when nothing is queued).
   * @default 4194304 (4 MiB)
   */
  maxBytes?: number
}

/** When acknowledgements go out (docs/PROTOCOL.md §6.4). */
export interface AckInit {
  /**
   * The longest an ACK waits after the first unacknowledged delivery (ms), announced as `maxAckDelay`.
   * @default 25
   */
  delay?: number
  /**
   * Deliveries that send an ACK at once (also held below a quarter of the peer's window).
   * @default 256
   */
  frames?: number
  /**
   * Delivered body bytes that send an ACK at once (also held below a quarter of the peer's window).
   * @default a sixteenth of the peer's window in bytes (65536 for a server's default window, 262144 for a client's)
   */
  bytes?: number
}

/** Options shared by clients and servers. */
export interface SessionInit {
  /** Replay window of our side. */
  window?: WindowInit
  /** Acknowledgement cadence of our side. */
  ack?: AckInit
  /** Items written while no connection is up (or faster than it takes them), before the window. */
  buffer?: Omit<BufferInit<Frame>, 'size'>
  /**
   * The most of the peer's items this side queues for its application, whatever window the peer announces:
   * beyond it the connection is not read (TCP holds the peer back) until the application takes some. It
   * bounds a server's memory per session against a client that announces a window of 4 GiB.
   */
  inbound?: InboundInit
  /**
   * How long `close()` may take to have everything acknowledged and close the connection (ms).
   * @default 5000
   */
  closeTimeout?: number
  /** Options of the codec under each connection (with `stack` absent); bodies are always contiguous (no `bodyList`). */
  codec?: CopyCodecInit
  /** Options of the heartbeat under each connection (with `stack` absent); `hello` is always on. */
  heartbeat?: Omit<HeartbeatInit, 'hello'>
  /**
   * Builds the frame stack over each byte connection instead of `heartbeat(codec(conn))`. It must give a
   * heartbeat stage with `hello: true` and `SESSION_FLAG` in `helloFlags`. A stack whose duplex has
   * `sinkPush` (a heartbeat's link does) is written in push mode; one without it through `sink()`.
   */
  stack?: (conn: ByteDuplex) => SessionFrames
  /** Monotonic time source. @default systemClock */
  clock?: Clock
  /** Timer scheduler. @default systemTimers (unref()ed) */
  timers?: Timers
}

/** What a session runs over: a heartbeat duplex (HELLO on) or one that looks like it. */
export type SessionFrames = Pick<HeartbeatDuplex, 'source' | 'sink' | 'sinkPush' | 'close' | 'abort' | 'peerHello' | 'addEventListener' | 'removeEventListener'> & {
  /** Aborted when the owner (a closing server) asks the connection to end gracefully; absent when no owner can. */
  readonly goingAway?: AbortSignal
}

/** Options of `sessionClient()`. */
export interface SessionClientInit extends SessionInit, Omit<ReconnectInit<Frame>, 'buffer' | 'retention' | 'peerEnd' | 'validate' | 'closeTimeout' | 'clock' | 'timers'> {
  /**
   * When the server cannot resume the session (it restarted, the session expired, another connection
   * took it over): `'replay'` sends the unacknowledged items again in a new session (at-least-once for
   * those: the server's application may see them twice; counted in `resentAfterLoss`); `'drop'` gives
   * them up (counted in `droppedAfterLoss` and the link's `unconfirmed`); `'fail'` ends the client with
   * `SessionLostError`. A `session-lost` event reports the exact count first, whichever the policy.
   * @default 'replay'
   */
  onLost?: LostPolicy
}

/** Options of `sessionServer()`. */
export interface SessionServerInit extends SessionInit {
  /**
   * Where sessions are kept beyond this process: `memoryStore()` keeps them in this server only; a durable
   * store (`@proto/session-redis`) persists them and hands them between nodes, so a client resumes on any.
   * A store serves one server.
   * @default memoryStore()
   */
  store?: SessionStore
  /**
   * How long a disconnected session is kept (ms), from the moment the server detects the loss, on a
   * monotonic clock; announced to clients.
   * @default 120000
   */
  ttl?: number
  /**
   * Sessions kept at most, connected or not; a new one beyond it is refused (GOAWAY `SESSION_LIMIT`).
   * @default 10000
   */
  maxSessions?: number
  /**
   * How long a new connection may take to send its HELLO and RESUME (ms) before it is closed.
   * @default 10000
   */
  resumeTimeout?: number
}
