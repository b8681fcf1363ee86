/**
 * What the instruments read from each kind of object: the parts of the SDK's public types they use,
 * stated structurally, so this package depends on none of the stages and any object of that shape works
 * (a server of `@proto/transport`, a stage of `@proto/heartbeat`, a link of `@proto/reconnect`, a session
 * of `@proto/session`). Events are read as `CustomEvent`s with the `detail` given here.
 */

/** The byte counters of one connection (`Connection.stats()`). */
export interface ByteCounters {
  bytesIn: number
  bytesOut: number
}

/** A connection: its counters, and a promise that settles once it is gone, with the reason. */
export interface MeteredConnection {
  stats(): ByteCounters
  readonly closed: Promise<{ reason: string }>
}

/**
 * A listening server: events `connection`, `disconnect` (`{ info: { reason, stats } }`), `drop`
 * (`{ reason }`) and `close`, and its live connections.
 */
export interface MeteredServer extends EventTarget {
  readonly connections: Iterable<{ stats(): ByteCounters }> & { readonly size: number }
}

/** A heartbeat stage: events `rtt` (`{ rtt }` in ms), `timeout` and `closed`, and its ping counters. */
export interface MeteredHeartbeat extends EventTarget {
  stats(): { pingsSent: number, pingsReceived: number }
}

/** The counters of a durable link (`DurableDuplex.stats()`). */
export interface LinkCounters {
  reconnects: number
  waiting: number
  buffered: number
  inFlight: number
  retained: number
  handed: number
  replayed: number
  confirmed: number
  unconfirmed: number
  flushed: number
  dropped: number
  cleared: number
  rejected: number
  unsent: number
}

/** A durable link: its counters and its `closed` event (always its last). */
export interface MeteredLink extends EventTarget {
  stats(): LinkCounters
}

/** The counters of one session end (`SessionDuplex.stats()`). */
export interface SessionCounters {
  role: 'client' | 'server'
  delivered: number
  sent: number
  resent: number
  deduplicated: number
  resumes: number
  link: LinkCounters
}

/** A session end: its counters and events `session-lost` (`{ reason, unconfirmed }`) and `closed`. */
export interface MeteredSession extends EventTarget {
  stats(): SessionCounters
}

/** The counters of a session server (`SessionServer.stats()`). */
export interface SessionServerCounters {
  sessions: number
  detached: number
  created: number
  resumed: number
  takeovers: number
  expired: number
  evicted: number
  refused: Record<string, number>
}

/** A session server: its counters. */
export interface MeteredSessionServer {
  stats(): SessionServerCounters
}
