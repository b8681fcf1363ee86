/**
 * What the instruments read from each kind of object: the parts of the SDK's public types they use,
 * stated structurally, so this package depends on none of the stages and any object of that shape works
 * (a server of `@proto/transport`, a stage of `@proto/heartbeat`, a link of `@proto/reconnect`, a session
 * of `@proto/session`). Events are read as `CustomEvent`s with the `detail` given here.
 */

/** The byte counters of one connection (`Connection.stats()`). */
export interface ByteCounters {
  /** Bytes read from the socket so far. */
  bytesIn: number
  /** Bytes written to the socket so far. */
  bytesOut: number
}

/** A connection: its counters, and a promise that settles once it is gone, with the reason. */
export interface MeteredConnection {
  /** Its byte counters now (and after it is gone: their final values). */
  stats(): ByteCounters
  /** Settles once the connection is gone; `reason` is its disconnect reason (`closed`, `reset`, …). */
  readonly closed: Promise<DisconnectReason>
}

/** Why a connection went away, as its `closed` promise reports it. */
export interface DisconnectReason {
  /** The disconnect reason (`closed`, `reset`, `idle-timeout`, …): the `proto.reason` of `proto.connection.closed`. */
  reason: string
}

/** A connection as a server's registry holds it: its byte counters. */
export interface CountedConnection {
  /** Its byte counters now. */
  stats(): ByteCounters
}

/** A server's live connections. */
export interface ConnectionSet extends Iterable<CountedConnection> {
  /** How many there are now. */
  readonly size: number
}

/**
 * A listening server: events `connection`, `disconnect` (`{ info: { reason, stats } }`), `drop`
 * (`{ reason }`) and `close`, and its live connections.
 */
export interface MeteredServer extends EventTarget {
  /** The connections it holds now. */
  readonly connections: ConnectionSet
}

/** A heartbeat stage: events `rtt` (`{ rtt }` in ms), `timeout` and `closed`, and its ping counters. */
export interface MeteredHeartbeat extends EventTarget {
  /** Its ping counters now. */
  stats(): PingCounters
}

/** The ping counters of a heartbeat stage (`HeartbeatStats`). */
export interface PingCounters {
  /** Pings it handed to the connection. */
  pingsSent: number
  /** Pings the peer sent it. */
  pingsReceived: number
}

/** The counters of a durable link (`DurableDuplex.stats()`). */
export interface LinkCounters {
  /** Successful connections after the first. */
  reconnects: number
  /** An item taken from the source that waits for room (0 or 1), now. */
  waiting: number
  /** Items in the outbound buffer, never handed to a connection, now. */
  buffered: number
  /** Without retention: items handed to the live connection, now. */
  inFlight: number
  /** With retention: items handed and not yet confirmed, kept to be handed again, now. */
  retained: number
  /** Items handed to a connection for the first time, in total. */
  handed: number
  /** Items handed again to a later connection, in total. */
  replayed: number
  /** Items confirmed and released, in total. */
  confirmed: number
  /** Items handed and never confirmed that will not be handed again, in total. */
  unconfirmed: number
  /** Items handed to a connection that then ended cleanly both ways, in total. */
  flushed: number
  /** Items discarded by the overflow policy or `failFast`, in total. */
  dropped: number
  /** Items discarded by `clearBuffer()`, in total. */
  cleared: number
  /** Items the sink took and refused, in total. */
  rejected: number
  /** Items taken but never handed when the link ended, in total. */
  unsent: number
}

/** A durable link: its counters and its `closed` event (always its last). */
export interface MeteredLink extends EventTarget {
  /** Its counters now. */
  stats(): LinkCounters
}

/** The counters of one session end (`SessionDuplex.stats()`). */
export interface SessionCounters {
  /** Which end of the session it is: the `proto.role` of its measurements. */
  role: 'client' | 'server'
  /** Items handed to the application. */
  delivered: number
  /** Items written to a connection, first time or again. */
  sent: number
  /** Items written again after a resume because the peer had not acknowledged them. */
  resent: number
  /** Replayed items dropped because the application already had them. */
  deduplicated: number
  /** Handshakes that resumed the session on a new connection. */
  resumes: number
  /** The counters of the durable link underneath. */
  link: LinkCounters
}

/** A session end: its counters and events `session-lost` (`{ reason, unconfirmed }`) and `closed`. */
export interface MeteredSession extends EventTarget {
  /** Its counters now. */
  stats(): SessionCounters
}

/** The counters of a session server (`SessionServer.stats()`). */
export interface SessionServerCounters {
  /** Sessions kept now, connected or not. */
  sessions: number
  /** Sessions with no connection now. */
  detached: number
  /** Sessions created, in total. */
  created: number
  /** Connections that resumed an existing session, in total. */
  resumed: number
  /** Resumes that took a session over from a live connection, in total. */
  takeovers: number
  /** Detached sessions that outlived their ttl, in total. */
  expired: number
  /** Detached sessions ended to make room for new ones, in total. */
  evicted: number
  /** Connections refused, in total, by reason. */
  refused: Record<string, number>
}

/** A session server: its counters. */
export interface MeteredSessionServer {
  /** Its counters now. */
  stats(): SessionServerCounters
}
