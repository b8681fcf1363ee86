import type { AbortOptions, Clock, StageDuplex, Timers } from '@proto/interface'
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
   * The size of an item in bytes.
   *
   * @default `item.byteLength`, else `item.body.byteLength`, else 0
   */
  size?(item: T): number
}

/** What the dial function receives. */
export interface DialContext {
  /** 1-based number of this dial since the last stable connection (or since start). */
  attempt: number
  /**
   * Aborted when the dial times out (`DialTimeoutError`), when the durable duplex closes, and when the
   * connection this dial made is later lost. Tie every socket, timer and listener of the attempt to it.
   */
  signal: AbortSignal
}

/** Opens one connection: typically transport + codec + heartbeat composed by the caller. */
export type DialFunction<T> = (context: DialContext) => Promise<StageDuplex<T>>

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
   * How long `close()` may spend flushing the buffer and closing the connection (ms) before it aborts it.
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
   * What a clean end of the connection's source means. `'reconnect'`: an outage (a restarting server),
   * unless our write side has ended already, in which case the exchange is complete. `'end'`: the peer's
   * half-close: the durable source ends; writing carries on, redialling if needed.
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
  /** Monotonic time source. @default systemClock (performance.now) */
  clock?: Clock
  /** Timer scheduler. @default systemTimers (unref()ed setTimeout) */
  timers?: Timers
}

/** The state of a durable duplex. */
export type ReconnectStatus = 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed' | 'failed'

/** Why a connection was lost. */
export type DisconnectReason = 'peer-ended' | 'read-error' | 'write-error' | 'write-ended'

/** Status events, by type. Each is also the `detail` of the `CustomEvent` of the same name. */
export interface ReconnectEventMap {
  /** A dial started. */
  connecting: { type: 'connecting', attempt: number }
  /** A dial succeeded; `attempt` is the dial that made it. */
  connected: { type: 'connected', attempt: number }
  /**
   * A connection was lost. `handed` items were handed to it (none of them is resent); `uptime` in ms.
   * `error` is what ended it (`undefined` when the peer ended its stream cleanly).
   */
  disconnected: { type: 'disconnected', reason: DisconnectReason, error: Error | undefined, uptime: number, handed: number }
  /** The next dial is `attempt`, in `delay` ms; `error` is what the last attempt or connection ended with. */
  reconnecting: { type: 'reconnecting', attempt: number, delay: number, error: Error | undefined }
  /** Retrying stopped; the source and sink fail with `error` (a `ReconnectFailedError`). */
  failed: { type: 'failed', error: Error }
  /** The durable duplex is done; always the last event. `error` is set after `abort()` or a failure. */
  closed: { type: 'closed', error: Error | undefined }
}

export type ReconnectEventType = keyof ReconnectEventMap
/** Any status event. */
export type StatusEvent = ReconnectEventMap[ReconnectEventType]

/** A snapshot of counters. Items are what the user's sink accepted; times come from `clock`. */
export interface ReconnectStats {
  status: ReconnectStatus
  /** The current dial count since the last stable connection. */
  attempt: number
  /** Dials made in total. */
  attempts: number
  /** Successful connections after the first. */
  reconnects: number
  /** `clock.now()` when the current connection came up, or `undefined`. */
  connectedSince: number | undefined
  /** Items in the outbound buffer now. */
  buffered: number
  /** Bytes in the outbound buffer now. */
  bufferedBytes: number
  /** Items discarded by the overflow policy (`drop-oldest`, `drop-newest`). */
  dropped: number
  /** Items handed to a connection's sink, in total. */
  handed: number
  /**
   * Items handed to a connection that was later lost. Each may or may not have reached the peer: the
   * transport gives no receipt. None is resent (at-most-once). An upper bound on what outages lost.
   */
  unconfirmed: number
  /** Items still buffered when the duplex closed, aborted or failed; never handed to any connection. */
  unsent: number
  /** Items that arrived from a connection after it had been declared lost, and were discarded. */
  discardedInbound: number
  /** The last error seen from a dial or a connection. */
  lastError: Error | undefined
}

/** Options of `addEventListener` (as in the DOM): `once`, `signal` to remove it on abort. */
export type ListenerOptions = boolean | { once?: boolean, signal?: AbortSignal, capture?: boolean, passive?: boolean }

/** A listener for one status event type. */
export type ReconnectListener<K extends ReconnectEventType> = (event: CustomEvent<ReconnectEventMap[K]>) => void

/**
 * A duplex that outlives its connections. The `source` carries on across reconnections and ends only on
 * close (or a complete exchange); the `sink` accepts items for the whole lifetime. Delivery is
 * at-most-once and in order: an item handed to a connection that dies is never resent (see
 * `stats().unconfirmed`).
 */
export interface DurableDuplex<T> extends StageDuplex<T> {
  /** The current state. */
  readonly status: ReconnectStatus
  /** A snapshot of the counters. */
  stats(): ReconnectStats
  /**
   * Flush the buffer (within `closeTimeout`), end our writing, close the connection and stop. Returns
   * promptly during a backoff wait or a dial (buffered items are then counted as `unsent`). Idempotent.
   */
  close(options?: AbortOptions): Promise<void>
  /** Tear down now: the source and sink fail with `err`, the connection is aborted with it. */
  abort(err: Error): void
  /**
   * Status events as an async iterable. Each iterator keeps at most `statusBuffer` unread events,
   * discarding the oldest when a reader falls behind (the current state is always `status`); it ends
   * after `closed`.
   */
  statusIterator(): AsyncIterableIterator<StatusEvent>
  addEventListener<K extends ReconnectEventType>(type: K, listener: ReconnectListener<K>, options?: ListenerOptions): void
  removeEventListener<K extends ReconnectEventType>(type: K, listener: ReconnectListener<K>, options?: ListenerOptions): void
}
