import type { Clock, Timers } from '@proto/interface'

/** How a cut ends a connection: `'fin'` ends both sides gracefully, `'reset'` sends a TCP RST to both. */
export type CutMode = 'fin' | 'reset'

/** Sizes (bytes, inclusive) of the pieces each forwarded chunk is re-sliced into. */
export interface Fragmentation {
  /** Smallest piece, ≥ 1. */
  min: number
  /** Largest piece, ≥ `min`. */
  max: number
}

/** A `[min, max]` range in milliseconds, both inclusive; one value is drawn uniformly per use. */
export type MsRange = readonly [min: number, max: number]

/**
 * Random faults, drawn from the proxy's seed, and fixed link conditions applied from the start.
 * Times count from the moment the proxy starts listening.
 */
export interface FaultPlan {
  /** Cut every connection after a random interval in this range, again and again. @default no cuts */
  cutEvery?: MsRange
  /** How cuts end connections; `'mixed'` draws FIN or reset per cut. @default 'mixed' */
  cutMode?: CutMode | 'mixed'
  /** Start a black hole after a random pause in this range (counted from the end of the previous one). @default none */
  blackHoleEvery?: MsRange
  /** How long each black hole lasts, in ms. Required with `blackHoleEvery`. */
  blackHoleFor?: MsRange
  /** Re-slice forwarded bytes into random pieces. @default off */
  fragment?: Fragmentation
  /** Hold forwarded bytes this long, in ms, and write what gathered in one go. @default 0 (off) */
  coalesceMs?: number
  /** Added one-way latency, in ms. @default 0 */
  delayMs?: number
  /** Bandwidth per direction of each connection, in bytes per second. @default unlimited */
  throttle?: number
  /** The most random actions (cuts plus black holes) the plan runs. @default 10000 */
  maxFaults?: number
  /** No random action starts later than this, in ms after start; a black hole that started still ends. @default unbounded */
  durationMs?: number
}

/** One scheduled random fault, `atMs` after the proxy started. */
export type FaultAction =
  | { readonly atMs: number, readonly type: 'cut', readonly mode: CutMode }
  | { readonly atMs: number, readonly type: 'black-hole', readonly durationMs: number }

/** Where the proxy forwards to: a loopback TCP address or a Unix socket path. */
export type FaultProxyTarget = { host: string, port: number } | { path: string }

/**
 * Picks the target of each accepted connection (`id` counts accepted connections from 1), e.g. round-robin
 * over several servers. Called synchronously on accept; what it returns is checked like a fixed `target`.
 */
export type FaultProxyTargetChooser = (id: number) => FaultProxyTarget

export interface FaultProxyInit {
  /**
   * The server to forward to, or a function choosing one per accepted connection (a connection whose
   * chooser throws or returns a bad target is reset and closes with `'target-unreachable'`). Only loopback
   * hosts are accepted.
   */
  target: FaultProxyTarget | FaultProxyTargetChooser
  /** Where to listen. @default `{ host: '127.0.0.1', port: 0 }` (a free port) */
  listen?: { host?: string, port?: number }
  /** Seed for every random choice (fault schedule, cut modes, fragment sizes). @default a random seed, see `FaultProxy.seed` */
  seed?: number
  /** Random faults and initial link conditions. @default a clean link */
  faults?: FaultPlan
  /** Bytes queued per direction of a connection before the proxy stops reading that side. @default 65536 */
  highWaterMark?: number
  /** Bytes held per direction of a connection while black-holed; beyond this, bytes are discarded. @default 1048576 */
  blackHoleHoldBytes?: number
  /** After a FIN cut, how long to wait for the peer's FIN before destroying the socket, in ms. @default 2000 */
  finLingerMs?: number
  /** Called synchronously for everything the proxy does. Exceptions thrown here are ignored. */
  onEvent?: (event: FaultEvent) => void
  /** Time source. @default `systemClock` */
  clock?: Clock
  /** Timer source; every timer the proxy sets goes through it. @default `systemTimers` (unref'ed) */
  timers?: Timers
}

/** Why a proxied connection ended. */
export type CloseReason = 'end' | 'reset' | 'cut-fin' | 'cut-reset' | 'target-unreachable' | 'black-hole-overflow' | 'proxy-closed'

/** What the proxy did. `atMs` counts from start on the proxy's clock. */
export type FaultEvent =
  | { type: 'connection', atMs: number, id: number, target: FaultProxyTarget }
  | { type: 'connection-close', atMs: number, id: number, reason: CloseReason }
  | { type: 'refused', atMs: number, id: number }
  | { type: 'fault', atMs: number, index: number, action: FaultAction }
  | { type: 'cut', atMs: number, mode: CutMode, connections: number }
  | { type: 'black-hole', atMs: number, durationMs: number | undefined }
  | { type: 'restore', atMs: number }
  | { type: 'settings', atMs: number, settings: LinkSettings }
  | { type: 'close', atMs: number }

/** Link conditions applied to every connection; changeable at any time. */
export interface LinkSettings {
  delayMs: number
  /** Bytes per second per direction; `Infinity` is unlimited. */
  throttle: number
  fragment: Fragmentation | undefined
  coalesceMs: number
  refusing: boolean
}

/** Counters since start. "Up" is client → target, "down" is target → client. */
export interface FaultProxyStats {
  /** Connections accepted and forwarded. */
  connections: number
  /** Connections forwarded now. */
  activeConnections: number
  /** Connections reset on accept because the proxy was refusing. */
  refused: number
  /** Bytes read from the client (up) and from the target (down). */
  bytesReadUp: number
  bytesReadDown: number
  /** Chunks read, up and down, as the sockets delivered them. */
  readsUp: number
  readsDown: number
  /** Bytes the proxy holds in memory now: its queues plus what its sockets have not flushed yet. */
  bufferedBytes: number
  /** Bytes written on, up and down. */
  bytesUp: number
  bytesDown: number
  /** Separate socket writes made, up and down; fragmentation raises these, coalescing lowers them. */
  writesUp: number
  writesDown: number
  /** Cut actions, and connections they ended. */
  cuts: number
  connectionsCut: number
  blackHoles: number
  /** Bytes dropped because a black hole's hold was full. */
  discardedBytes: number
  /** Random plan actions run so far. */
  faults: number
}

/**
 * A running fault proxy. Every control applies at once to every connection, present and future.
 * After `close()`, controls do nothing.
 */
export interface FaultProxy {
  /** The address clients dial. */
  readonly address: { host: string, port: number }
  readonly port: number
  /** The seed in use; pass it back as `seed` to replay the same fault schedule. */
  readonly seed: number
  /** Whether a black hole is in force. */
  readonly blackHoled: boolean
  /** The current link conditions. */
  readonly settings: Readonly<LinkSettings>
  /** A snapshot of the counters. */
  stats(): FaultProxyStats
  /** Adds an event listener; returns a function that removes it. */
  onEvent(listener: (event: FaultEvent) => void): () => void
  /** Ends every connection now, with FIN on both sides or a reset on both sides. Queued bytes are dropped. */
  /** Stops the random fault plan; a black hole in force ends as planned. Idempotent. */
  stopFaults(): void
  cutAll(options?: { mode?: CutMode }): number
  /**
   * Stops forwarding in both directions while keeping sockets open, for `ms` or until `restore()`.
   * Bytes still arrive and are held (up to `blackHoleHoldBytes` per direction, the rest discarded);
   * a peer's FIN or reset is not passed on either. On restore, held bytes and closes are delivered,
   * except that a connection which lost bytes is reset, since its stream cannot continue intact.
   */
  blackHole(ms?: number): void
  /** Ends a black hole. */
  restore(): void
  /** One-way latency added to every chunk, in ms (0 turns it off). */
  setDelay(ms: number): void
  /** Bytes per second per direction of each connection (`Infinity` or 0 turns it off). */
  setThrottle(bytesPerSecond: number): void
  /** Re-slice each forwarded chunk into random pieces written separately (`undefined` turns it off). */
  setFragmentation(fragment: Fragmentation | undefined): void
  /** Hold bytes up to `ms` and write what gathered at once (0 turns it off). */
  setCoalesce(ms: number): void
  /** While on, new connections are reset as soon as they are accepted. */
  refuse(on: boolean): void
  /** Stops listening, destroys every socket and cancels every timer. Idempotent. */
  close(): Promise<void>
}
