import type { HeartbeatDuplex, HeartbeatEvents } from '../../src/index.js'

/** Listens to `type` on a stage with a function of the event's `detail`; returns a function that removes the listener. */
export function on<K extends keyof HeartbeatEvents & string> (hb: HeartbeatDuplex, type: K, fn: (detail: HeartbeatEvents[K]) => void): () => void {
  const listener = (event: CustomEvent<HeartbeatEvents[K]>): void => { fn(event.detail) }
  hb.addEventListener(type, listener)
  return () => { hb.removeEventListener(type, listener) }
}
