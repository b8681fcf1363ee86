import { FrameType } from '@proto/codec'

/**
 * The session extension of the `@proto` wire protocol (docs/PROTOCOL.md §6). Both peers announce it with
 * this bit in their HELLO's flags byte; it is used only when both did.
 */
export const SESSION_FLAG = 0x01

/** Frame types of the session extension (reserved in version 1, defined once `SESSION_FLAG` is negotiated). */
export const SessionFrameType = {
  /** Opens (or resumes) a session on a connection: token, next expected sequence, parameters. */
  RESUME: FrameType.RESUME,
  /** Cumulative acknowledgement: every item up to a position was handed to the application. */
  ACK: FrameType.ACK,
  /** The sender's direction of the session is complete after a position. */
  END: FrameType.END
} as const

/** GOAWAY codes of the session extension (after version 1's 0–5). */
export const SessionGoAwayCode = {
  /** No session with that token here: never existed, expired and swept, lost in a restart, or a wrong token. */
  SESSION_UNKNOWN: 6,
  /** The session existed but was disconnected for longer than its ttl. */
  SESSION_EXPIRED: 7,
  /** A newer connection resumed this session; this one is fenced off. */
  SESSION_TAKEN_OVER: 8,
  /** The server holds as many sessions as it may; try again after a backoff. */
  SESSION_LIMIT: 9,
  /** The sender closed the session; it cannot be resumed. */
  SESSION_CLOSED: 10
} as const

/** RESUME flag: the sender asks for a new session (its token and id are zero). */
export const RESUME_NEW = 0x01
/**
 * RESUME flag (server): the session was restored from a session store on a node that did not receive it
 * from the node holding it before (that node died); items the client sent past the resume point may have
 * reached the application already, and are counted as possible duplicates.
 */
export const RESUME_RECOVERED = 0x02

/** Bytes of a RESUME body in this version (longer bodies carry extensions a reader skips). */
export const RESUME_LENGTH = 49

/** Length of a RESUME body with the inbound extension (bytes 49–56: inbound messages and bytes, u32 each). */
export const RESUME_INBOUND_LENGTH = 57
/** Bytes of an ACK body in this version. */
export const ACK_LENGTH = 9
/** Bytes of an END body in this version. */
export const END_LENGTH = 8
/** ACK flag: the sender's END was received and everything up to it was handed to the application. */
export const ACK_END = 0x01

/** Bytes of a session token: 128 random bits. */
export const TOKEN_LENGTH = 16
/** Bytes of a public session id: 64 random bits, shown as 16 hex digits. */
export const SESSION_ID_LENGTH = 8

/** The largest sequence number: positions are u64 on the wire, but JavaScript numbers are exact up to 2^53 − 1. */
export const MAX_POSITION = Number.MAX_SAFE_INTEGER

/**
 * How long the server keeps a disconnected session (ms): 120 s, as Socket.IO's connection state recovery
 * and about Ably's; long enough for a mobile handover or a server's rolling restart of its proxy, short
 * enough that abandoned sessions do not pile up.
 */
export const DEFAULT_TTL = 120_000
/** Sessions one server keeps at most (connected or not). */
export const DEFAULT_MAX_SESSIONS = 10_000
/**
 * Unacknowledged items a server keeps for replay, per session and direction: 4096 items and 1 MiB (bounded
 * in both, unlike SignalR's bytes-only or MQTT's count-only bounds). A full window is backpressure on the
 * writer, never a drop. A client's are larger: {@link DEFAULT_CLIENT_WINDOW_MESSAGES}.
 */
export const DEFAULT_WINDOW_MESSAGES = 4_096
/**
 * A client's window in items: 16 384 (16 MiB in 1 KiB items). A writer moves at most a window per
 * acknowledgement round trip, and the round trip includes the receiver's turn: 4096 small items are gone in
 * under 3 ms at loopback rates, so a receiver held off its core for that long (a scheduler slice on a busy
 * machine) stalled a 64-byte stream for 1–17 % of its time, where 16 384 items stalled it for none in the
 * same runs. What a server queues for its application is bounded by its own `inbound` limit.
 */
export const DEFAULT_CLIENT_WINDOW_MESSAGES = 16_384
/**
 * A server's window in bytes, per session: 1 MiB. A server multiplies it by the sessions it holds (what
 * it keeps for replay when its clients stall), so it stays small; see {@link DEFAULT_CLIENT_WINDOW_BYTES}.
 */
export const DEFAULT_WINDOW_BYTES = 1024 * 1024
/**
 * A client's window in bytes: 16 MiB. A writer moves at most a window per acknowledgement round trip, and
 * the round trip includes the receiver's turn and, with a durable store, the store's: 1 MiB held a 1 KiB
 * stream into a Redis-backed server to 0.52–0.67× of what the memory store reaches on loopback, 4 MiB to
 * 0.77–0.98× (docs/session-redis.md); 4 MiB held a 64 KiB stream to 0.7× of one with 16 MiB on a busy
 * machine (64 items, 4 ms at loopback rates). A client holds one session, so the memory is its own, and only
 * while its peer is slow to acknowledge; what a server queues for its application is bounded by its own
 * `inbound` limit.
 */
export const DEFAULT_CLIENT_WINDOW_BYTES = 16 * 1024 * 1024
/**
 * The most of the peer's items one side queues for its application, whatever window the peer announces:
 * 16 384 items and 4 MiB per session (a server multiplies it by its sessions, when their applications do not
 * keep up). Beyond it the connection is not read and TCP holds the peer back. Without it a client announcing
 * a window of 2^32 − 1 bytes could make a server queue that much for an application that does not read.
 */
export const DEFAULT_INBOUND_MESSAGES = 16_384
/** The most body bytes of the peer's items one side queues for its application: see {@link DEFAULT_INBOUND_MESSAGES}. */
export const DEFAULT_INBOUND_BYTES = 4 * 1024 * 1024
/**
 * The longest an acknowledgement waits after the first unacknowledged delivery (ms). QUIC's default
 * `max_ack_delay` is 25 ms; TCP allows up to 500 ms, which would cap a window-limited writer. On a
 * trickle this costs at most 40 ACK frames per second per direction.
 */
export const DEFAULT_ACK_DELAY = 25
/**
 * Deliveries after which an ACK goes out at once, whatever the delay: a sixteenth of a server's default
 * window (a 64th of a client's), so a writer never waits on an acknowledgement while it still has window
 * left (the limit is also held below a quarter of the peer's advertised window).
 */
export const DEFAULT_ACK_FRAMES = 256
/**
 * Delivered body bytes after which an ACK goes out at once, by default: a sixteenth of the peer's window
 * in bytes (`ACK_WINDOW_SHARE`), which is 64 KiB for a server's default 1 MiB window and 1 MiB for a
 * client's 16 MiB. A fixed 64 KiB would acknowledge every large item on its own (one ACK frame, one write,
 * per 64 KiB item) where the window allows sixteen times fewer.
 */
export const DEFAULT_ACK_BYTES = 64 * 1024
/** The share of the peer's window in bytes after which an ACK goes out at once by default. */
export const ACK_WINDOW_SHARE = 16
/** How long a connection may take to present its RESUME, or to answer ours (ms). */
export const DEFAULT_RESUME_TIMEOUT = 10_000
/** After a GOAWAY is queued, how long it may take to be flushed before the connection is destroyed (ms). */
export const GOAWAY_GRACE = 1_000
