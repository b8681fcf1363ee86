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
  | {
    /** When it falls due, in ms after the proxy started. */
    readonly atMs: number
    /** Cut every connection, as `cutAll()` does. */
    readonly type: 'cut'
    /** How this cut ends connections (drawn per cut when the plan's `cutMode` is `'mixed'`). */
    readonly mode: CutMode
  }
  | {
    /** When it falls due, in ms after the proxy started. */
    readonly atMs: number
    /** Start a black hole, as `blackHole()` does. */
    readonly type: 'black-hole'
    /** How long it lasts, in ms, drawn from the plan's `blackHoleFor`. */
    readonly durationMs: number
  }

/** Where the proxy forwards to: a loopback TCP address or a Unix socket path. */
export type FaultProxyTarget = {
  /** A loopback host: an address in `127.0.0.0/8`, `::1` or `localhost`. */
  host: string
  /** The target's TCP port. */
  port: number
} | {
  /** The path of the target's Unix socket. */
  path: string
}

/**
 * Picks the target of each accepted connection (`id` counts accepted connections from 1), e.g. round-robin
 * over several servers. Called synchronously on accept; what it returns is checked like a fixed `target`.
 */
export type FaultProxyTargetChooser = (id: number) => FaultProxyTarget

/** Options of `startFaultProxy()`: where to forward, where to listen, and the faults to inject. */
export interface FaultProxyInit {
  /**
   * The server to forward to, or a function choosing one per accepted connection (a connection whose
   * chooser throws or returns a bad target is reset and closes with `'target-unreachable'`). Only loopback
   * hosts are accepted.
   */
  target: FaultProxyTarget | FaultProxyTargetChooser
  /** Where to listen. @default `{ host: '127.0.0.1', port: 0 }` (a free port) */
  listen?: {
    /** The listening address; must be loopback. @default '127.0.0.1' */
    host?: string
    /** The listening port; 0 picks a free one (see `FaultProxy.port`). @default 0 */
    port?: number
  }
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

/** What the proxy did: every event has `atMs`, and `type` says which event it is and what else it carries. */
export type FaultEvent = {
  /** When it happened, in ms since the proxy started, on the proxy's clock. */
  atMs: number
} & (
  | {
    /** A client's connection was accepted and is forwarded to the target. */
    type: 'connection'
    /** Numbers this client connection within the proxy: 1, 2, … in order of arrival (refused ones included). */
    id: number
    /** Where it is forwarded (the fixed target, or what the chooser picked for it). */
    target: FaultProxyTarget
  }
  | {
    /** Both sockets of a forwarded connection closed. */
    type: 'connection-close'
    /** The `id` of its `connection` event. */
    id: number
    /** How it ended. */
    reason: CloseReason
  }
  | {
    /** A client's connection was reset on accept because the proxy is refusing (`refuse(true)`). */
    type: 'refused'
    /** Numbers this client connection within the proxy, from the same counter as `connection`. */
    id: number
  }
  | {
    /** An action of the random fault plan is about to run. */
    type: 'fault'
    /** Its position in the plan's schedule, from 0. */
    index: number
    /** The action. */
    action: FaultAction
  }
  | {
    /** `cutAll()` ran (called, or by the plan). */
    type: 'cut'
    /** How the connections were ended. */
    mode: CutMode
    /** How many connections it ended. */
    connections: number
  }
  | {
    /** A black hole started, or a running one got a new end time. */
    type: 'black-hole'
    /** How long it lasts, in ms; `undefined` when it lasts until `restore()`. */
    durationMs: number | undefined
  }
  | {
    /** A black hole ended; held bytes and closes are delivered. */
    type: 'restore'
  }
  | {
    /** A link condition changed (a `set…()` control or `refuse()`). */
    type: 'settings'
    /** All the link conditions now in force. */
    settings: LinkSettings
  }
  | {
    /** `close()` finished: the listener, every socket and every timer are gone. */
    type: 'close'
  }
)

/** Link conditions applied to every connection; changeable at any time. */
export interface LinkSettings {
  /** One-way latency added to every chunk, in ms; 0 is off. */
  delayMs: number
  /** Bytes per second per direction; `Infinity` is unlimited. */
  throttle: number
  /** How forwarded chunks are re-sliced; `undefined` when they are forwarded as they arrive. */
  fragment: Fragmentation | undefined
  /** How long bytes are held to be written together, in ms; 0 is off. */
  coalesceMs: number
  /** Whether new connections are reset as soon as they are accepted. */
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
  /** Bytes read from the client (up). */
  bytesReadUp: number
  /** Bytes read from the target (down). */
  bytesReadDown: number
  /** Chunks read from the client, as its sockets delivered them. */
  readsUp: number
  /** Chunks read from the target, as its sockets delivered them. */
  readsDown: number
  /** Bytes the proxy holds in memory now: its queues plus what its sockets have not flushed yet. */
  bufferedBytes: number
  /** Bytes written on to the target (up). */
  bytesUp: number
  /** Bytes written on to the client (down). */
  bytesDown: number
  /** Separate socket writes to the target; fragmentation raises these, coalescing lowers them. */
  writesUp: number
  /** Separate socket writes to the client; fragmentation raises these, coalescing lowers them. */
  writesDown: number
  /** Cut actions (`cutAll()` calls and planned cuts). */
  cuts: number
  /** Connections ended by cuts. */
  connectionsCut: number
  /** Black holes started (extending one in force does not count). */
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
  readonly address: {
    /** The loopback address it listens on, as its socket reports it (`127.0.0.1` by default). */
    host: string
    /** The port it listens on (the one picked when `listen.port` was 0). */
    port: number
  }
  /** The port it listens on: `address.port`. */
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
  /** Stops the random fault plan; a black hole in force ends as planned. Idempotent. */
  stopFaults(): void
  /**
   * Ends every connection now, with FIN on both sides (`mode: 'fin'`, the default) or a reset on both
   * sides (`'reset'`). Queued bytes are dropped. Returns how many connections it ended.
   */
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
