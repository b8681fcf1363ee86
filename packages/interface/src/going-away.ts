/**
 * Going away without a signal. A duplex's `goingAway` is an `AbortSignal`, and one signal with a listener
 * costs about 1 KiB of heap: on a server with many idle connections that is a tenth of what each one holds.
 * A stage that only needs to be told (the heartbeat, to send GOAWAY and finish) asks its lower duplex to
 * call it instead, when that duplex can: the signal is then made only for a user who reads `goingAway`.
 */

/** Told when the owner asks a duplex to go away; an object, so a stage passes itself and no closure is made per connection. */
export interface GoingAwayWatcher {
  /** The owner asked the duplex to end gracefully (see `Closeable.goingAway`). Called once. */
  onGoingAway(): void
}

/** A duplex that can tell a {@link GoingAwayWatcher} when it is asked to go away, as its `goingAway` signal would. */
export interface GoingAwayWatchable {
  /**
   * Calls `watcher.onGoingAway()` once when the owner asks this duplex to go away; at once (synchronously)
   * if it already did. Returns `false`, and keeps nothing, when this duplex has no way to learn it (a stage
   * whose lower duplex cannot be watched): the caller then falls back to `goingAway`.
   */
  watchGoingAway(watcher: GoingAwayWatcher): boolean
  /** Forgets `watcher`; does nothing if it is not watching. */
  unwatchGoingAway(watcher: GoingAwayWatcher): void
}

/** Whether `duplex` offers {@link GoingAwayWatchable}. */
export function isGoingAwayWatchable (duplex: unknown): duplex is GoingAwayWatchable {
  return duplex != null && typeof (duplex as Partial<GoingAwayWatchable>).watchGoingAway === 'function' && typeof (duplex as Partial<GoingAwayWatchable>).unwatchGoingAway === 'function'
}
