/** The largest body a frame may carry unless configured otherwise: 16 MiB. */
export const DEFAULT_MAX_FRAME_LENGTH = 16 * 1024 * 1024

/** The largest `maxFrameLength` accepted: one less than 4 GiB, the most a single `Uint8Array` can hold here. */
export const MAX_FRAME_LENGTH_LIMIT = 0xFFFF_FFFF

/** Frames whose bodies are at least this long are handed down as header + body without copying the body. */
export const ZERO_COPY_THRESHOLD = 16 * 1024

/** When encoding a synchronous source, frames are packed into chunks of about this many bytes. */
export const BATCH_BYTES = 64 * 1024

/** Wire protocol version carried in HELLO. */
export const PROTOCOL_VERSION = 1

/** The four magic bytes that open a HELLO body: ASCII `PRTO`. */
export const HELLO_MAGIC = new Uint8Array([0x50, 0x52, 0x54, 0x4F])

/**
 * Frame types of the default @proto format (see docs/PROTOCOL.md).
 * `0x00` carries application data; `0x01`–`0x3F` are protocol control types, of which `0x05`–`0x3F` are
 * reserved for extensions; `0x40`–`0xFF` are free for application message types.
 */
export const FrameType = {
  DATA: 0x00,
  HELLO: 0x01,
  PING: 0x02,
  PONG: 0x03,
  GOAWAY: 0x04,
  /** Reserved for session resume (v2). */
  RESUME: 0x05,
  /** Reserved for cumulative acknowledgements (v2). */
  ACK: 0x06
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
} as const
