import type { Frame, Hello } from '@proto/codec'
import type { AbortOptions, PushSinkable, PushSource, SinkWatcher } from '@proto/interface'
import { TypedEventTarget } from '@proto/interface'
import type { Source } from 'it-stream-types'
import type { EventSink, HeartbeatEvents } from './events.js'
import type { Stage } from './heartbeat.js'
import type { HeartbeatDuplex, HeartbeatSource, HeartbeatStats } from './types.js'

/**
 * The public object of a heartbeat stage: the duplex, its events and its statistics. The stage itself is
 * held in a private field, so nothing of its state can be reached or changed from outside.
 */
export class HeartbeatLink extends TypedEventTarget<HeartbeatEvents> implements HeartbeatDuplex, PushSinkable<Frame> {
  readonly #stage: Stage

  /** `make` builds the stage with this object as where its events go. */
  constructor (make: (events: EventSink) => Stage) {
    super()
    this.#stage = make(this)
  }

  /**
   * The lower duplex's `goingAway`, read through (`undefined` when the lower has none). Read on demand: a
   * transport connection makes its signal only when asked, and the stage itself does not ask.
   */
  get goingAway (): AbortSignal {
    return this.#stage.goingAwaySignal as AbortSignal
  }

  get source (): HeartbeatSource {
    return this.#stage.source
  }

  /** Bound: `it-pipe` calls `sink` detached from its duplex. */
  get sink (): (source: Source<Frame>) => Promise<void> {
    return this.#stage.sink
  }

  /**
   * As `sink(source)` (call one or the other, once) for a stage above that writes for the connection's whole
   * life: how the writing ended goes to `watcher.onSinkEnd(err?)`, from a microtask, instead of a promise.
   */
  sinkPush (source: PushSource<Frame>, watcher: SinkWatcher): void {
    this.#stage.sinkPush(source, watcher)
  }

  async close (options?: AbortOptions): Promise<void> {
    await this.#stage.close(options)
  }

  abort (err: Error): void {
    this.#stage.abort(err)
  }

  stats (): HeartbeatStats {
    return this.#stage.stats()
  }

  get peerHello (): Promise<Hello | undefined> {
    return this.#stage.peerHello
  }
}
