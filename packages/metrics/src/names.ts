/**
 * The instruments, by name. Names and units follow the OpenTelemetry conventions (dotted lowercase names,
 * UCUM units, `{thing}` for counts); a Prometheus exporter turns `proto.io.bytes` with unit `By` into
 * `proto_io_bytes_total`. Attribute keys are namespaced `proto.*`.
 */
export const Instrument = {
  /** Connections open now (server: accepted and not yet gone; client: tracked and not yet gone). */
  connectionsOpen: 'proto.connection.open',
  /** Connections a server accepted. */
  connectionsAccepted: 'proto.connection.accepted',
  /** Connections a server refused or lost before handing them over (`proto.reason`: its drop reason). */
  connectionsRejected: 'proto.connection.rejected',
  /** Connections that went away (`proto.reason`: the disconnect reason). */
  connectionsClosed: 'proto.connection.closed',
  /** Bytes read and written on connections (`proto.direction`: `in` or `out`). */
  bytes: 'proto.io.bytes',
  /** Round-trip times of heartbeat pings, in seconds. */
  rtt: 'proto.heartbeat.rtt',
  /** Heartbeat pings sent and received (`proto.direction`). */
  pings: 'proto.heartbeat.pings',
  /** Peers declared dead by the heartbeat. */
  heartbeatTimeouts: 'proto.heartbeat.timeouts',
  /** Connections a durable link made after its first. */
  reconnects: 'proto.link.reconnects',
  /** Items of a durable link's sink, by final or running outcome (`proto.outcome`). */
  linkItems: 'proto.link.items',
  /** Items a durable link holds now (`proto.state`: `waiting`, `buffered`, `in-flight`, `retained`). */
  linkPending: 'proto.link.pending',
  /** Frames of sessions: handed to the application (`in`) and written to a connection (`out`, replays included). */
  sessionFrames: 'proto.session.frames',
  /** Session frames written again after a resume, and replays dropped as already delivered (`proto.outcome`). */
  sessionReplays: 'proto.session.replays',
  /** Sessions resumed on a new connection (`proto.role`: `client` or `server`). */
  sessionResumes: 'proto.session.resumes',
  /** Sessions that could not be resumed (`proto.reason`). */
  sessionsLost: 'proto.session.lost',
  /** Unacknowledged items of sessions that could not be resumed: the peer may not have them. */
  sessionLostItems: 'proto.session.lost.items',
  /** Sessions a session server keeps now (`proto.state`: `connected` or `detached`). */
  sessionsActive: 'proto.session.active',
  /** Sessions a session server created, resumed, took over, expired or evicted (`proto.outcome`). */
  sessionServerOutcomes: 'proto.session.server.outcomes',
  /** Connections a session server refused (`proto.reason`). */
  sessionsRefused: 'proto.session.refused'
} as const

/** The attribute keys the instruments add. */
export const Attribute = {
  /** `in` (read, received, delivered) or `out` (written, sent). */
  direction: 'proto.direction',
  /** Why a connection was refused or closed, or a session lost or refused: the SDK's own reason strings. */
  reason: 'proto.reason',
  /** What became of an item or a session (e.g. `confirmed`, `dropped`; `created`, `resumed`). */
  outcome: 'proto.outcome',
  /** Where a pending item or a kept session is now (e.g. `buffered`, `retained`; `connected`, `detached`). */
  state: 'proto.state',
  /** Which end of a session: `client` or `server`. */
  role: 'proto.role'
} as const

/** Histogram buckets of `proto.heartbeat.rtt`, in seconds: 0.5 ms to 10 s. */
export const RTT_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The meter's name when none is given. */
export const DEFAULT_METER_NAME = '@proto/metrics'
