import type { AbortOptions, ByteChunk, ConnectionAddress, GoingAwayWatchable, GoingAwayWatcher, PushSource, SinkWatcher, Slot } from '@proto/interface'
import { slotAdd, slotEach, slotRemove } from '@proto/interface'
import type { Source } from 'it-stream-types'
import type { Carrier } from './carrier.js'
import type { ConnectionConfig } from './config.js'
import { ConnectionCore } from './core.js'
import type { ReadQueue } from './read-queue.js'
import type { Connection, ConnectionStats, DisconnectInfo, TLSInfo } from './types.js'

/** A connection over `carrier`: its core, and the handle users get. */
export function openConnection (carrier: Carrier, config: ConnectionConfig): ConnectionHandle {
  return new ConnectionHandle(new ConnectionCore(carrier, config))
}

/** Reads a handle's core; assigned inside the class (the only code that can), reachable only from this module. */
let coreOf: (handle: ConnectionHandle) => ConnectionCore

/**
 * What users hold: the `Connection` interface over a core they cannot reach (a private field). Two slots
 * per connection; everything else lives in the core.
 */
export class ConnectionHandle implements Connection {
  readonly #core: ConnectionCore
  #sink: ((source: Source<ByteChunk>) => Promise<void>) | undefined

  constructor (core: ConnectionCore) {
    this.#core = core
  }

  get id (): string {
    return this.#core.id
  }

  get source (): ReadQueue {
    return this.#core.source
  }

  /**
   * Bound to the connection, because pipelines call it detached (`it-pipe` takes `duplex.sink`). Made on
   * first read: binding it eagerly measured +40 B (server) and +90 B (client) of heap per connection that
   * never writes (bench/transport.md).
   */
  get sink (): (source: Source<ByteChunk>) => Promise<void> {
    this.#sink ??= source => this.#core.startSink(source)
    return this.#sink
  }

  /** `sink` for a source that pushes, with the outcome told to `watcher` instead of a promise (see `PushSinkable`). */
  sinkPush (source: PushSource<ByteChunk>, watcher: SinkWatcher): void {
    this.#core.startPushSink(source, watcher)
  }

  get localAddress (): ConnectionAddress | undefined {
    return this.#core.carrier.localAddress()
  }

  get remoteAddress (): ConnectionAddress | undefined {
    return this.#core.carrier.remoteAddress()
  }

  get closed (): Promise<DisconnectInfo> {
    return this.#core.closed
  }

  get signal (): AbortSignal {
    return this.#core.signal
  }

  get tls (): TLSInfo | undefined {
    return this.#core.tls
  }

  stats (): ConnectionStats {
    return this.#core.stats()
  }

  async close (options?: AbortOptions): Promise<void> {
    await this.#core.close(options)
  }

  abort (err: Error): void {
    this.#core.abort(err)
  }

  static {
    coreOf = handle => handle.#core
  }
}

/** The server asks a connection to end gracefully (see `ConnectionCore.goAway`); not reachable from the handle. */
// Assigned once, in the static block of ServerConnectionHandle below.
export let goAway: (handle: ServerConnectionHandle) => void

/**
 * A server connection: it also has `goingAway`, which `server.close()` aborts through `goAway()`. The
 * controller is made on first read of `goingAway` (already aborted if the server asked before), so idle
 * connections nobody asks about carry none; a stage that only needs to be told watches instead
 * (`watchGoingAway`, one slot per watcher and no signal).
 */
export class ServerConnectionHandle extends ConnectionHandle implements GoingAwayWatchable {
  #away: AbortController | undefined
  #watchers: Slot<GoingAwayWatcher>

  get goingAway (): AbortSignal {
    if (this.#away == null) {
      const core = coreOf(this)
      this.#away = new AbortController()
      if (core.goingAway) this.#away.abort(core.config.owner?.goingAwayReason)
    }
    return this.#away.signal
  }

  watchGoingAway (watcher: GoingAwayWatcher): boolean {
    if (coreOf(this).goingAway) {
      watcher.onGoingAway()
      return true
    }
    this.#watchers = slotAdd(this.#watchers, watcher)
    return true
  }

  unwatchGoingAway (watcher: GoingAwayWatcher): void {
    this.#watchers = slotRemove(this.#watchers, watcher)
  }

  static {
    goAway = (handle) => {
      const core = coreOf(handle)
      if (core.goingAway) return
      core.goAway()
      // watchers first: the stage that tells the peer reacts before anything listening to the signal
      const w = handle.#watchers
      handle.#watchers = undefined
      slotEach(w, (watcher) => { watcher.onGoingAway() })
      handle.#away?.abort(core.config.owner?.goingAwayReason)
    }
  }
}
