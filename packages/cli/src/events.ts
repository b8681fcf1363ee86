/**
 * Every subscription of the CLI to events of the SDK's objects, in one place: heartbeat, reconnect and the
 * transport server are `TypedEventTarget`s (`addEventListener(type, e => e.detail …)`), the fault proxy has
 * `onEvent()`. Each function returns a function that removes what it added.
 */
import type { Frame } from '@proto/codec'
import type { FaultEvent, FaultProxy } from '@proto/fault-proxy'
import type { HeartbeatDuplex, HeartbeatEvents } from '@proto/heartbeat'
import type { DurableDuplex, ReconnectEventMap } from '@proto/reconnect'
import type { Connection, DisconnectInfo, DropEvent, Server } from '@proto/transport'

export interface HeartbeatWatch {
  /** A pong answered one of our pings after `rtt` ms. */
  rtt?(rtt: number): void
  /** The event loop stalled for `lag` ms. */
  stall?(lag: number): void
  /** The peer sent GOAWAY (the frame never reaches `source`). */
  goaway?(goAway: HeartbeatEvents['goaway']): void
}

/**
 * Follows a heartbeat stage's RTT, stall and GOAWAY events (its timeout, protocol violations and the
 * peer's end after a GOAWAY reach the CLI as the errors its source throws).
 */
export function watchHeartbeat (link: HeartbeatDuplex, watch: HeartbeatWatch): () => void {
  const listening = new AbortController()
  const { signal } = listening
  const { rtt, stall, goaway } = watch
  if (rtt !== undefined) link.addEventListener('rtt', (e) => { rtt(e.detail.rtt) }, { signal })
  if (stall !== undefined) link.addEventListener('stall', (e) => { stall(e.detail.lag) }, { signal })
  if (goaway !== undefined) link.addEventListener('goaway', (e) => { goaway(e.detail) }, { signal })
  return () => { listening.abort() }
}

export interface ServerWatch {
  disconnect(connection: Connection, info: DisconnectInfo): void
  drop(event: DropEvent): void
  error(error: Error, connection: Connection | undefined): void
}

/** Follows a transport server's connections ending, refused connections and errors. */
export function watchServer (server: Server, watch: ServerWatch): () => void {
  const listening = new AbortController()
  const { signal } = listening
  server.addEventListener('disconnect', ({ detail: { connection, info } }) => { watch.disconnect(connection, info) }, { signal })
  server.addEventListener('drop', ({ detail }) => { watch.drop(detail) }, { signal })
  server.addEventListener('error', ({ detail: { error, connection } }) => { watch.error(error, connection) }, { signal })
  return () => { listening.abort() }
}

export type ReconnectWatch = { [K in 'connected' | 'disconnected' | 'reconnecting' | 'failed']?: (detail: ReconnectEventMap[K]) => void }

/** Follows a durable link's status events. */
export function watchReconnect (link: DurableDuplex<Frame>, watch: ReconnectWatch): () => void {
  const controller = new AbortController()
  const { signal } = controller
  const { connected, disconnected, reconnecting, failed } = watch
  if (connected !== undefined) link.addEventListener('connected', (e) => { connected(e.detail) }, { signal })
  if (disconnected !== undefined) link.addEventListener('disconnected', (e) => { disconnected(e.detail) }, { signal })
  if (reconnecting !== undefined) link.addEventListener('reconnecting', (e) => { reconnecting(e.detail) }, { signal })
  if (failed !== undefined) link.addEventListener('failed', (e) => { failed(e.detail) }, { signal })
  return () => { controller.abort() }
}

/** Follows everything a fault proxy does. */
export function watchFaultProxy (proxy: FaultProxy, listener: (event: FaultEvent) => void): () => void {
  return proxy.onEvent(listener)
}
