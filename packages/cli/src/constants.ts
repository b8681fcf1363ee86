/**
 * How `proto` ends. Scripts can tell a usage mistake from a network failure from bad input data.
 * Signals follow the shell convention 128 + signal number.
 */
export const ExitCode = {
  /**
   * The command did what was asked: the input was sent and the peer finished (also after an orderly GOAWAY:
   * `SHUTTING_DOWN`, `IDLE_TIMEOUT`), `--count` was reached, `--once` served.
   */
  OK: 0,
  /**
   * A runtime failure: refused, reset, TLS, heartbeat timeout, a bad frame or a protocol violation from the
   * peer, the peer's GOAWAY `DO_NOT_RETRY`, `PROTOCOL_ERROR` or `TOO_MANY_PINGS`, reconnect gave up, a bench
   * echo mismatch.
   */
  FAILURE: 1,
  /** A usage error: an unknown or malformed flag, a bad address or format, options that do not go together. Nothing was connected. */
  USAGE: 2,
  /** Bad input data: a line that is not valid hex or JSON, a frame longer than `--max-frame-length`, an unreadable `--file`. */
  INPUT: 3,
  /** Interrupted by SIGINT (Ctrl-C); everything was closed first. */
  INTERRUPTED: 130,
  /** Terminated by SIGTERM; everything was closed first. */
  TERMINATED: 143
} as const

export type ExitCode = typeof ExitCode[keyof typeof ExitCode]

/** How long closing may take after Ctrl-C, SIGTERM or the end of the work before what is left is aborted, in ms. */
export const DEFAULT_CLOSE_TIMEOUT = 2_000

/**
 * `--keepalive empty`: the default `--timeout`, in ms: off. Such a peer has no pong, so it is judged by
 * its silence alone, and a request/response server is silent whenever the user is; judging it by default
 * would kill healthy idle links. Give `--timeout` for peers that echo keep-alives or talk on their own.
 */
export const DEFAULT_KEEPALIVE_TIMEOUT = 0

/** Length of the ping body heartbeat sends with `--ping-body sequence`: a u64 sequence number (docs/PROTOCOL.md §3.3). */
export const SEQUENCE_PING_LENGTH = 8

/** `connect`: how the frames to send are read from stdin. */
export const DEFAULT_INPUT = 'text'

/** How received frames are printed on stdout. */
export const DEFAULT_OUTPUT = 'text'

/** The frame type of frames sent from text input (DATA in every format that has a type byte). */
export const DEFAULT_FRAME_TYPE = 0x00

/** `listen`: the address bound when only a port is given; loopback, so nothing is exposed by accident. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1'

/** `bench`: messages measured (after the warm-up). */
export const DEFAULT_BENCH_COUNT = 10_000

/** `bench`: body bytes per message. */
export const DEFAULT_BENCH_SIZE = 64

/** `bench`: messages in flight at once (1 measures unloaded round trips). */
export const DEFAULT_BENCH_WINDOW = 32

/** `bench`: the longest a run may send for, in ms; it then stops and reports what it measured. */
export const DEFAULT_BENCH_DURATION = 10_000

/** `bench`: messages sent first and not measured (connection set-up, JIT warm-up). */
export const DEFAULT_BENCH_WARMUP = 100

/** `bench`: after sending stops, how long to wait for the replies still in flight, in ms. */
export const DEFAULT_BENCH_DRAIN_TIMEOUT = 5_000

/** `bench`: the most messages one run may measure (latency samples are kept in memory, 8 bytes each). */
export const MAX_BENCH_COUNT = 10_000_000

/** Bytes a bench message needs for its sequence number; smaller bodies are checked by length and filler only. */
export const BENCH_SEQ_BYTES = 8

/** Bytes of a body shown in an error message about it. */
export const PREVIEW_BYTES = 16
