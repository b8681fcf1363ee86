import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import type { HeartbeatDuplex, HeartbeatInit } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import type { AbortOptions, ByteDuplex, StageDuplex } from '@proto/interface'
import type { ClientTLSInit, Connection } from '@proto/transport'
import { connect } from '@proto/transport'
import type { Address } from './args/address.js'
import type { ChosenFormat } from './args/format.js'
import type { HeartbeatWatch } from './events.js'
import { watchHeartbeat } from './events.js'

/** A frame duplex the CLI can close and abort, whatever stages it is made of. */
export interface FrameLink extends StageDuplex<Frame> {
  close(options?: AbortOptions): Promise<void>
  abort(err: Error): void
}

/** How frames are made from bytes: the codec's format and limit, and the keep-alive above it. */
export interface StackInit {
  readonly format: ChosenFormat
  readonly maxFrameLength: number | undefined
  /** `undefined`: no heartbeat stage. */
  readonly heartbeat: HeartbeatInit | undefined
  /** How long closing the heartbeat stage may take before it aborts, in ms. */
  readonly closeTimeout: number
}

/** Codec, then heartbeat when asked for, over a byte duplex. Heartbeat events go to `watch`. */
export function frameStack (conn: ByteDuplex & { abort(err: Error): void }, init: StackInit, watch: HeartbeatWatch = {}): FrameLink {
  const frames = codec(conn, { format: init.format.format, ...(init.maxFrameLength !== undefined ? { maxFrameLength: init.maxFrameLength } : {}) })
  if (init.heartbeat === undefined) return frames
  let link: HeartbeatDuplex
  try {
    link = heartbeat(frames, { closeTimeout: init.closeTimeout, ...init.heartbeat })
  } catch (err) {
    conn.abort(err as Error)
    throw err
  }
  watchHeartbeat(link, watch) // its listeners are dropped with the stage
  return leftToEnd(link)
}

/**
 * Errors with which a heartbeat stage ends the connection by itself: it tells the peer why with a GOAWAY
 * (`PROTOCOL_ERROR`, `TOO_MANY_PINGS`, `DO_NOT_RETRY`) where the format has one, and destroys the
 * connection once that is flushed (at most heartbeat's `GOAWAY_GRACE`, 1 s).
 */
const ENDS_ITSELF: ReadonlySet<string> = new Set(['ProtocolViolationError', 'TooManyPingsError', 'ProtocolVersionError'])

/**
 * `link`, whose `abort(err)` leaves the stage alone when `err` is its own failure that it is already
 * ending the connection with (see `ENDS_ITSELF`): the commands and `@proto/reconnect` abort the link with
 * the error it failed with, and aborting then would cut the GOAWAY off. The connection is gone within a
 * bounded time either way.
 */
function leftToEnd (link: HeartbeatDuplex): FrameLink {
  return {
    source: link.source,
    sink: async (source) => { await link.sink(source) },
    close: async (options) => { await link.close(options) },
    abort: (err) => { if (!ENDS_ITSELF.has(err.name)) link.abort(err) },
    ...(link.goingAway !== undefined ? { goingAway: link.goingAway } : {})
  }
}

/** Where and how to dial. */
export interface DialInit {
  readonly address: Address
  readonly tls: ClientTLSInit | undefined
  readonly connectTimeout: number | undefined
  readonly closeTimeout: number
}

/** One TCP, TLS or Unix-socket connection. */
export async function dial (init: DialInit, options: AbortOptions = {}): Promise<Connection> {
  return await connect({
    ...init.address,
    closeTimeout: init.closeTimeout,
    ...(init.tls !== undefined ? { tls: init.tls } : {}),
    ...(init.connectTimeout !== undefined ? { connectTimeout: init.connectTimeout } : {})
  }, options)
}

/**
 * Closes a link gracefully within `timeout` ms, then aborts it. Resolves `true` when the close completed,
 * `false` when the link had to be aborted.
 */
export async function closeWithin (link: FrameLink, timeout: number, reason: () => Error): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<false>((resolve) => { timer = setTimeout(() => { resolve(false) }, timeout) })
  try {
    const closed = await Promise.race([link.close().then(() => true, () => false), expired])
    if (!closed) link.abort(reason())
    return closed
  } finally {
    clearTimeout(timer)
  }
}
