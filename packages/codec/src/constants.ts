/** The largest body a frame may carry unless configured otherwise: 16 MiB. */
export const DEFAULT_MAX_FRAME_LENGTH = 16 * 1024 * 1024

/** The largest `maxFrameLength` accepted: one less than 4 GiB, the most a single `Uint8Array` can hold here. */
export const MAX_FRAME_LENGTH_LIMIT = 0xFFFF_FFFF

/** Frames whose bodies are at least this long are handed down as header + body without copying the body. */
export const ZERO_COPY_THRESHOLD = 16 * 1024

/**
 * The encoder packs the frames it has into chunks of about this many bytes, and reads at most this far
 * ahead of its consumer: about one socket write's worth.
 */
export const BATCH_BYTES = 64 * 1024

/**
 * A body that spans reads gets a buffer of its full length when its first piece arrives if it is at most
 * this long (one socket read's worth); a longer one starts with a buffer of this size.
 */
export const BODY_EAGER_BYTES = 64 * 1024

/**
 * Beyond `BODY_EAGER_BYTES`, a body that spans reads never holds a buffer larger than this many times the
 * bytes of it received so far: its buffer doubles as pieces arrive, and takes its full length once that is
 * within this factor. A peer must send 1 MiB of a 16 MiB body before we allocate 16 MiB for it.
 */
export const BODY_GROWTH_LIMIT = 16

/**
 * With `bodyList`, pieces of a body that spans reads at least this long are kept as views of the chunks
 * they arrived in; shorter ones are copied into blocks, so a body sent a few bytes per packet costs about
 * one byte of memory per byte received rather than a view and a chunk per piece.
 */
export const LIST_VIEW_MIN = 1024

/** With `bodyList`, short pieces are copied into blocks of at most this many bytes. */
export const LIST_BLOCK_BYTES = 16 * 1024

/** Wire protocol version carried in HELLO. */
export const PROTOCOL_VERSION = 1

/** The four magic bytes that open a HELLO body: ASCII `PRTO`. */
export const HELLO_MAGIC = new Uint8Array([0x50, 0x52, 0x54, 0x4F])

/**
 * Frame types of the default `@proto` format (see docs/PROTOCOL.md §2).
 * `0x00` carries application data; `0x01`–`0x3F` are protocol control types: `0x05`–`0x07` belong to the
 * session extension (sent only when a HELLO flag negotiated it; `@proto/session` speaks them) and
 * `0x08`–`0x3F` are reserved; `0x40`–`0xFF` are free for application message types.
 */
export const FrameType = {
  /** Application bytes, opaque to the SDK; the only type of formats without a type byte. */
  DATA: 0x00,
  /** The optional first frame: magic, protocol version, flags and heartbeat timing (PROTOCOL.md §3.1). */
  HELLO: 0x01,
  /** A keep-alive probe of 0–64 opaque bytes, answered by a PONG (§3.3). */
  PING: 0x02,
  /** The answer to a PING: its body, byte for byte (§3.3). */
  PONG: 0x03,
  /** "I am leaving": a `GoAwayCode` and a reason; the sender then half-closes (§3.2). */
  GOAWAY: 0x04,
  /** Session extension: the resume handshake (PROTOCOL.md §6.3). */
  RESUME: 0x05,
  /** Session extension: a cumulative acknowledgement (§6.4). */
  ACK: 0x06,
  /** Session extension: the sender's last position, the end of its writing in the session (§6.5). */
  END: 0x07
} as const

/** The first frame type free for applications. */
export const APP_TYPE_MIN = 0x40
/** The last frame type (one byte). */
export const APP_TYPE_MAX = 0xFF

/** Reason codes carried by GOAWAY frames. */
export const GoAwayCode = {
  /** Orderly shutdown; reconnecting later is welcome. */
  NORMAL: 0,
  /** The peer broke the protocol (bad frame, unexpected type). */
  PROTOCOL_ERROR: 1,
  /** The peer pinged more often than the minimum interval allows. */
  TOO_MANY_PINGS: 2,
  /** The server is going away (restart, drain); come back after a backoff. */
  SHUTTING_DOWN: 3,
  /** The connection was idle for too long. */
  IDLE_TIMEOUT: 4,
  /** Do not reconnect: authentication refused, banned, or an incompatible version. */
  DO_NOT_RETRY: 5
  // 6–10 belong to the session extension: `SessionGoAwayCode` of @proto/session (PROTOCOL.md §3.2)
} as const

/**
 * The frames of a part that holds none: shared and never written to (a part that gathers frames makes an array
 * of its own first), so an idle connection's decoding source and push encoding keep no empty array each.
 */
export const NO_FRAMES: never[] = []
