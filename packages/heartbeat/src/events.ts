import type { Logger } from '@proto/interface'
import type { HeartbeatTimeoutError } from './errors.js'

/** What each event of a heartbeat stage carries. */
export interface HeartbeatEvents {
  /** A pong matched one of our pings. */
  rtt: { rtt: number }
  /** We handed a ping to the connection. `outstanding` counts our pings still waiting for a pong, this one included. */
  ping: { outstanding: number }
  /** The peer was declared dead; the connection has been destroyed with this error. */
  timeout: HeartbeatTimeoutError
  /** Our timer fired `lag` ms late: the event loop was blocked. Input is read before the peer is judged. */
  stall: { lag: number }
  /** The stage has finished: both directions ended, or it failed with `error`. Emitted once. */
  closed: { error: Error | undefined }
}

/** A listener of event `K`. */
export type HeartbeatListener<K extends keyof HeartbeatEvents> = (event: HeartbeatEvents[K]) => void

type ListenerMap = { [K in keyof HeartbeatEvents]?: Array<HeartbeatListener<K>> }

/**
 * A small typed emitter. Listeners run synchronously; one that throws is logged and
 * does not stop the others or the stage. Nothing is allocated until the first listener is added.
 */
export class Emitter {
  private listeners: ListenerMap | undefined

  constructor (private readonly log: Logger) {}

  on<K extends keyof HeartbeatEvents> (type: K, listener: HeartbeatListener<K>): () => void {
    const map = this.listeners ??= {}
    const list = (map[type] ??= []) as Array<HeartbeatListener<K>>
    list.push(listener)
    return () => { this.off(type, listener) }
  }

  off<K extends keyof HeartbeatEvents> (type: K, listener: HeartbeatListener<K>): void {
    const list = this.listeners?.[type] as Array<HeartbeatListener<K>> | undefined
    const i = list?.indexOf(listener) ?? -1
    if (list == null || i < 0) return
    list.splice(i, 1)
    if (list.length === 0) delete this.listeners?.[type]
  }

  listenerCount (type: keyof HeartbeatEvents): number {
    return this.listeners?.[type]?.length ?? 0
  }

  has (type: keyof HeartbeatEvents): boolean {
    return this.listeners?.[type] != null
  }

  emit<K extends keyof HeartbeatEvents> (type: K, event: HeartbeatEvents[K]): void {
    const list = this.listeners?.[type] as Array<HeartbeatListener<K>> | undefined
    if (list == null) return
    for (const listener of list.slice()) {
      try {
        listener(event)
      } catch (err) {
        this.log.error('event listener threw', err)
      }
    }
  }

  /** Drops every listener (after `closed` has been emitted). */
  clear (): void {
    this.listeners = undefined
  }
}
