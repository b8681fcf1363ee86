import type { AbortOptions, Clock, StageDuplex, Timers, TypedEventTarget } from '@proto/interface'
import type { BackoffInit } from './backoff.js'

/** What a write does when the outbound buffer is full while no connection is up. */
export type OverflowPolicy = 'wait' | 'drop-oldest' | 'drop-newest' | 'error'

/** The bounded queue between the user's `sink` and the current connection's `sink`. */
export interface BufferInit<T> {
  /**
   * Items the buffer holds.
   *
   * @default 1000
   */
  maxMessages?: number
  /**
   * Bytes the buffer holds, as measured by `size`. One item larger than this is still accepted into an
   * empty buffer, so it can be sent at all.
   *
   * @default 8388608 (8 MiB)
   */
  maxBytes?: number
  /**
   * What a write does when the buffer is full while disconnected. While connected a full buffer always
   * waits (backpressure from the connection). `'wait'`: the user's sink stops pulling until there is
   * room; `'drop-oldest'`: the oldest buffered item is discarded; `'drop-newest'`: the new item is
   * discarded; `'error'`: the user's sink rejects with `BufferOverflowError`. Drops are counted in stats.
   *
   * @default 'wait'
   */
  overflow?: OverflowPolicy
  /**
   * The size of an item in bytes, for `maxBytes` and the retention bound.
   *
   * @default `item.byteLength`, else `item.body.byteLength`, else 0
   */
  size?(item: T): number
}

/**
 * A connection's stage whose peer confirms the end of writing too (e.g. `@proto/session`'s END, which the
 * peer acknowledges). While `endConfirmed` is `false`, writing is not complete even once every item is
 * confirmed: the durable duplex does not finish by itself, and a connection lost meanwhile is an outage
 * like any other, so the end is written again on the next connection. The stage calls its
 * `DialContext.confirm(0)` once the end was confirmed. A duplex without the property is complete once its
 * sink finished and every item is confirmed.
 */
export interface EndConfirming {
  /** `false` while the end of our writing waits for the peer's confirmation. */
  readonly endConfirmed: boolean
  /**
   * `true` while the exchange is complete on our side (writing complete, the peer's end taken) but the peer
   * may still lack our confirmation of its end (an acknowledgement sent and not known to have arrived): the
   * durable duplex does not close by itself meanwhile, and a connection lost then is an outage, so the next
   * connection can carry that confirmation again. The stage calls its `DialContext.confirm(0)` once it is no
   * longer lingering (which, like every `confirm`, needs retention). Absent: `false`.
   */
  readonly lingering?: boolean
}

/**
 * Retention: items handed to a connection are kept until confirmed (`link.confirm(count)`, or
 * `DialContext.confirm(count)` from the connection's stage), and handed again, first and in order, to the
 * next connection when the one they were handed to is lost. Turns at-most-once into at-least-once (or
 * exactly-once, with a stage that numbers items and drops duplicates, such as `@proto/session`).
 */
export interface RetentionInit {
  /**
   * Unconfirmed items kept at most. When full, no new item is handed to the connection until a
   * confirmation makes room: backpressure reaches the producer through the buffer.
   *
   * @default 4096
   */
  maxMessages?: number
  /**
   * Unconfirmed bytes kept at most (as measured by `buffer.size`). One larger item still enters an empty
   * retention.
   *
   * @default 1048576 (1 MiB)
   */
  maxBytes?: number
}

/** What the dial function receives. */
export interface DialContext {
  /** 1-based number of this dial since the last stable connection (or since start). */
  readonly attempt: number
  /**
   * Aborted when the dial times out (`DialTimeoutError`), when the durable duplex closes, and when the
   * connection this dial made is later lost. Tie every socket, timer and listener of the attempt to it.
   */
  readonly signal: AbortSignal
  /**
   * Whether `signal` has aborted, without making the signal (reconnect makes it on first read). Present on
   * every context reconnect makes; optional so that a context made by hand (a test calling a dial function)
   * may leave it out.
   */
  readonly aborted?: boolean
  /**
   * Calls `fn` once with the reason when `signal` aborts (at once if it has), without making the signal:
   * for a stage that holds the connection for a long time, where a signal with a listener costs about
   * 1 KiB of heap per connection. Kept until then; there is no removing it. Present on every context
   * reconnect makes (optional as `aborted` is). `fn` may be an {@link AbortWatcher} instead of a function.
   */
  onAbort?(fn: ((reason: Error) => void) | AbortWatcher): void
  /**
   * With retention: the `count` oldest unconfirmed items reached the peer and are released. For the stage
   * of this connection (acknowledgements from its peer). Does nothing once this attempt is no longer the
   * current one, so a late acknowledgement read from a replaced connection changes nothing. Throws
   * `InvalidParametersError` when `count` is more than is unconfirmed. `confirm(0)` releases nothing and
   * only looks again whether writing is complete (after an {@link EndConfirming} stage's end was confirmed).
   */
  confirm(count: number): void
  /**
   * The connection this dial made is lost: its stage found out (a failed read it made itself, a peer
   * that went away). Reconnect drops it and redials, even while nothing reads or writes it. Does nothing
   * before the connection is in use, or once this attempt is no longer the current one.
   */
  lost(err: Error): void
  /**
   * With retention: the peer of this connection queues at most `maxMessages` items and `maxBytes` bytes
   * for its application before it stops reading the connection (its inbound limit, e.g. from its
   * handshake). No item (a new one, or a retained one handed again after a reconnect) is handed to this
   * connection while that many are unconfirmed: a peer that
   * stopped reading would not see the acknowledgements it sends back, and both sides could wait for good.
   * Retention's own bounds still hold, and the oldest unconfirmed item goes alone whatever its size. For
   * the connection's stage; does nothing once this attempt is no longer the current one, and the next
   * connection starts without it. Present on every context reconnect makes (optional as `aborted` is).
   */
  limitUnconfirmed?(maxMessages: number, maxBytes: number): void
}

/** The options of one link made by a {@link Reconnector}; what it leaves out comes from the reconnector's. */
export interface LinkInit {
  /** This link's status events, as `ReconnectInit.onStatus` (the reconnector's, if it has one, when left out). */
  onStatus?(event: StatusEvent): void
  /** This link's lifetime, as `ReconnectInit.signal` (the reconnector's, if it has one, when left out). */
  signal?: AbortSignal
}

/** Makes durable duplexes with one shared set of options (see `reconnector()`). */
export type Reconnector<TOut> = <TIn>(dial: DialFunction<TIn, TOut>, link?: LinkInit) => DurableDuplex<TIn, TOut>

/**
 * An object told once when a dial's attempt ends (`DialContext.onAbort`): a stage that is itself the
 * watcher makes no closure for it.
 */
export interface AbortWatcher {
  /** The attempt ended with `reason` (as `signal.reason`). */
  dialAborted(reason: Error): void
}

/** Opens one connection: typically transport + codec + heartbeat composed by the caller. */
export type DialFunction<TIn, TOut = TIn> = (context: DialContext) => Promise<StageDuplex<TIn, TOut>>

/**
 * Options of `reconnect()`: the backoff between dials ({@link BackoffInit}), when to give up, the outbound
 * buffer and retention. `T` is the type of the items the sink takes.
 */
export interface ReconnectInit<T> extends BackoffInit {
  /**
   * Dial attempts per outage before giving up with `ReconnectFailedError` (kind `'attempts'`). A
   * connection that drops before `minStableTime` does not end the outage.
   *
   * @default Infinity
   */
  maxAttempts?: number
  /**
   * Longest outage (ms) before giving up with `ReconnectFailedError` (kind `'deadline'`): measured from
   * the loss of the last stable connection (or from start); a retry that would start later fails now.
   *
   * @default 86400000 (24 h)
   */
  maxRetryTime?: number
  /**
   * Longest a single dial may take (ms); then its signal aborts with `DialTimeoutError` and it counts as
   * a failed attempt.
   *
   * @default 20000
   */
  connectTimeout?: number
  /**
   * How long a connection must stay up (ms) for its loss to reset the backoff. A connection lost sooner
   * (accepted then kicked) counts as one more failed attempt.
   *
   * @default 10000
   */
  minStableTime?: number
  /**
   * How long `close()` may spend flushing the buffer (and, with retention, waiting for confirmations)
   * and closing the connection (ms) before it aborts it.
   *
   * @default 5000
   */
  closeTimeout?: number
  /**
   * Whether an error (from a dial, or the one that ended a connection) is worth another attempt. Return
   * `false` for fatal errors (authentication refused, version mismatch, a goaway saying "do not retry").
   *
   * @default () => true
   */
  shouldRetry?(err: Error): boolean
  /** The outbound buffer. */
  buffer?: BufferInit<T>
  /**
   * Keep handed items until they are confirmed, and hand them again after a reconnect (see
   * {@link RetentionInit}). `true` uses the default bounds.
   *
   * @default false (at-most-once: a handed item is never handed again)
   */
  retention?: boolean | RetentionInit
  /**
   * Fail fast: while no connection is up, writes are not buffered; the sink rejects at once with
   * `NotConnectedError` (the item is counted `rejected`), and items still buffered when a connection is
   * lost are discarded (counted `dropped`). Retained items are still handed again.
   *
   * @default false
   */
  failFast?: boolean
  /**
   * Called with every item the sink takes, before it is buffered. A throw rejects the sink with that
   * error and the item is counted `rejected` (with a batch source: the whole batch, checked before any of
   * it is buffered). Use it to refuse items a connection's stage cannot send.
   */
  validate?(item: T): void
  /**
   * What a clean end of the connection's source means. `'reconnect'`: an outage (a restarting server),
   * unless our write side has ended already and nothing awaits confirmation, in which case the exchange
   * is complete. `'end'`: the peer's half-close: the durable source ends; writing carries on, redialling
   * if needed.
   *
   * @default 'reconnect'
   */
  peerEnd?: 'reconnect' | 'end'
  /**
   * Status events each status iterator keeps for a reader that falls behind; older ones are discarded.
   *
   * @default 32
   */
  statusBuffer?: number
  /**
   * Called with every status event, synchronously, just before it is dispatched to listeners: one
   * callback for all of them, where a listener per event type costs about 130 B of heap each (a wrapper
   * that forwards every event, as a session does, uses this). A throw from it is reported as an uncaught
   * exception (from a microtask), as a listener's would be, and disturbs nothing.
   */
  onStatus?(event: StatusEvent): void
  /** The lifetime of the durable duplex: when it aborts, the duplex is aborted with its reason. */
  signal?: AbortSignal
  /** Monotonic time source. @default systemClock (performance.now) */
  clock?: Clock
  /** Timer scheduler. @default systemTimers (unref()ed setTimeout) */
  timers?: Timers
}

/** The state of a durable duplex. */
export type ReconnectStatus = 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed' | 'failed'

/**
 * Why a connection was lost: the peer ended its stream cleanly (`peer-ended`), reading or writing failed
 * (`read-error`, `write-error`), the connection's sink finished while there was more to write
 * (`write-ended`), `link.reconnect()` replaced it (`forced`), or its stage reported it lost
 * (`reported`, `DialContext.lost`).
 */
export type DisconnectReason = 'peer-ended' | 'read-error' | 'write-error' | 'write-ended' | 'forced' | 'reported'

/** Status events, by type. Each is also the `detail` of the `CustomEvent` of the same name. */
export interface ReconnectEventMap {
  /** A dial started. */
  connecting: {
    /** The event's name, so a {@link StatusEvent} can be told apart. */
    type: 'connecting'
    /** 1-based number of this dial since the last stable connection (or since start). */
    attempt: number
  }
  /** A dial succeeded; the connection is now in use. */
  connected: {
    /** The event's name, so a {@link StatusEvent} can be told apart. */
    type: 'connected'
    /** The number of the dial that made this connection, as in `connecting`. */
    attempt: number
    /** With retention: unconfirmed items that will be handed to this connection again, first; else 0. */
    retained: number
  }
  /**
   * A connection was lost. Without retention, the items handed to it are all counted `unconfirmed` now;
   * with retention, the unconfirmed ones are kept and handed to the next connection.
   */
  disconnected: {
    /** The event's name, so a {@link StatusEvent} can be told apart. */
    type: 'disconnected'
    /** How the loss was noticed. */
    reason: DisconnectReason
    /** What ended it; `undefined` when the peer ended its stream cleanly. */
    error: Error | undefined
    /** How long the connection was up, in ms (on `clock`). */
    uptime: number
    /** Items handed to this connection's sink for the first time. */
    handed: number
    /** With retention: unconfirmed items kept now, to be handed to the next connection; else 0. */
    retained: number
  }
  /** A backoff wait started; the next dial follows it. */
  reconnecting: {
    /** The event's name, so a {@link StatusEvent} can be told apart. */
    type: 'reconnecting'
    /** The number the next dial will have, as in `connecting`. */
    attempt: number
    /** How long until that dial, in ms. */
    delay: number
    /** What the last dial or connection ended with; `undefined` when the peer ended its stream cleanly. */
    error: Error | undefined
  }
  /** Retrying stopped; the source and sink fail. */
  failed: {
    /** The event's name, so a {@link StatusEvent} can be told apart. */
    type: 'failed'
    /** Why: a `ReconnectFailedError` (its `cause` is the last dial or connection error). */
    error: Error
  }
  /** The durable duplex is done; always the last event. */
  closed: {
    /** The event's name, so a {@link StatusEvent} can be told apart. */
    type: 'closed'
    /** The reason after `abort()` or a failure; `undefined` after a clean `close()` or a complete exchange. */
    error: Error | undefined
  }
}

/** The name of a status event: `connecting`, `connected`, `disconnected`, `reconnecting`, `failed` or `closed`. */
export type ReconnectEventType = keyof ReconnectEventMap
/** Any status event. */
export type StatusEvent = ReconnectEventMap[ReconnectEventType]

/**
 * A snapshot of counters. Items are what the user's sink took from its source; times come from `clock`.
 * Every item taken is in exactly one of: `waiting`, `buffered`, `inFlight`, `retained` (now), or
 * `confirmed`, `unconfirmed`, `flushed`, `dropped`, `cleared`, `rejected`, `unsent` (for good):
 * `accepted` is their sum at every moment.
 */
export interface ReconnectStats {
  /** The state when the snapshot was taken. */
  status: ReconnectStatus
  /** The current dial count since the last stable connection. */
  attempt: number
  /** Dials made in total. */
  attempts: number
  /** Successful connections after the first. */
  reconnects: number
  /** `clock.now()` when the current connection came up, or `undefined`. */
  connectedSince: number | undefined
  /** Items the sink took from the user's source, in total. */
  accepted: number
  /** Items taken from the source that wait for room in the buffer (0 or 1; with a batch source, up to the rest of one batch). */
  waiting: number
  /** Items in the outbound buffer now (never handed to a connection). */
  buffered: number
  /** Bytes in the outbound buffer now. */
  bufferedBytes: number
  /** Without retention: items handed to the live connection (they become `flushed` or `unconfirmed`). */
  inFlight: number
  /** With retention: items handed at least once and not yet confirmed, kept to be handed again. */
  retained: number
  /** Bytes of `retained`. */
  retainedBytes: number
  /** Items handed to a connection's sink for the first time, in total. */
  handed: number
  /**
   * With retention: items handed again to a later connection because the one they were handed to was
   * lost before they were confirmed. A peer that does not drop duplicates may have received them twice.
   */
  replayed: number
  /** With retention: items confirmed (`confirm()`), released. */
  confirmed: number
  /**
   * Items handed to a connection and never confirmed, that will not be handed again: without retention,
   * those of a connection that was lost or aborted (at-most-once); with retention, those still retained
   * when the duplex ended, or given up by `abandon()`. Each may or may not have reached the peer.
   */
  unconfirmed: number
  /**
   * Without retention: items handed to a connection that then ended cleanly both ways (our FIN after
   * them, then the peer's). The transport took them; nothing says the peer read them: a peer's FIN after
   * ours is not a receipt. Use retention and confirmations when that matters.
   */
  flushed: number
  /** Items discarded by the overflow policy (`drop-oldest`, `drop-newest`) or by `failFast` on a loss. */
  dropped: number
  /** Items discarded from the buffer by `clearBuffer()`. */
  cleared: number
  /**
   * Items the sink took and refused (`overflow: 'error'`, `failFast`, `validate`); the sink rejected. A batch
   * is refused whole by `validate`/`failFast`; after an item `overflow: 'error'` refused, so is the rest of its batch.
   */
  rejected: number
  /** Items taken but never handed to any connection when the duplex closed, aborted or failed. */
  unsent: number
  /** Items that arrived from a connection after it had been declared lost, and were discarded. */
  discardedInbound: number
  /** The last error seen from a dial or a connection. */
  lastError: Error | undefined
}

/**
 * A duplex that outlives its connections. The `source` carries on across reconnections and ends only on
 * close (or a complete exchange); the `sink` accepts items for the whole lifetime, a batch per read from a
 * source whose iterator offers `nextBatch()` (a `BatchSource`, e.g. `pushable()`). Without retention,
 * delivery is at-most-once and in order (see `stats().unconfirmed`); with retention, unconfirmed items
 * are handed again after a reconnect (at-least-once).
 */
export interface DurableDuplex<TIn, TOut = TIn> extends StageDuplex<TIn, TOut>, TypedEventTarget<ReconnectEventMap> {
  /**
   * Items from the peer, from each connection in turn; carries on across reconnections. Ends on `close()`,
   * on a complete exchange, or when the peer ends under `peerEnd: 'end'`; throws `ReconnectFailedError` on
   * final failure, or `err` after `abort(err)`.
   */
  readonly source: AsyncIterable<TIn> & {
    /** Returns the durable source's iterator, which also offers `nextBatch()`. */
    [Symbol.asyncIterator](): DurableSourceIterator<TIn>
  }
  /** The current state. */
  readonly status: ReconnectStatus
  /** A snapshot of the counters. */
  stats(): ReconnectStats
  /**
   * Flush the buffer (and with retention wait for confirmations) within `closeTimeout`, end our writing,
   * close the connection and stop. Returns promptly during a backoff wait or a dial (what was not sent is
   * counted). Idempotent. If `options.signal` aborts, the close turns into `abort(signal.reason)`.
   */
  close(options?: AbortOptions): Promise<void>
  /** Tear down now: the source and sink fail with `err`, the connection is aborted with it. */
  abort(err: Error): void
  /**
   * Drop the current connection and dial again at once (a backoff wait is cut short; a dial in progress
   * carries on). `error`, if given, is reported in the `disconnected` event. Does nothing once closing.
   */
  reconnect(error?: Error): void
  /**
   * With retention: the `count` oldest unconfirmed items reached the peer (e.g. their echo arrived) and
   * are released. Throws `InvalidParametersError` without retention or when `count` exceeds `retained`.
   */
  confirm(count: number): void
  /**
   * With retention: give up on the `count` oldest unconfirmed items (all by default): they are counted
   * `unconfirmed` and never handed again. Returns how many were given up.
   */
  abandon(count?: number): number
  /** Discards every buffered item (never handed to a connection), counted as `cleared`; returns how many. */
  clearBuffer(): number
  /**
   * Status events as an async iterable. Each iterator keeps at most `statusBuffer` unread events,
   * discarding the oldest when a reader falls behind (the current state is always `status`); it ends
   * after `closed`, or when `options.signal` aborts.
   */
  statusIterator(options?: AbortOptions): AsyncIterableIterator<StatusEvent>
}

/** The durable source's iterator: `next()`, and `nextBatch()` for stages above that read batches. */
export interface DurableSourceIterator<T> extends AsyncIterator<T> {
  /** Every item read ahead at once (or the next to arrive); `undefined` at the end. */
  nextBatch(): Promise<T[] | undefined>
}
