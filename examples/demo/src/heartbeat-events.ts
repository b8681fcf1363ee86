import type { HeartbeatDuplex } from '@proto/heartbeat'

/** What the demo wants to hear from a heartbeat stage. */
export interface HeartbeatWatcher {
  /** The peer was declared dead. */
  timeout(): void
  /** A pong came back after `rtt` ms. */
  rtt?(rtt: number): void
}

/**
 * The one place the demo listens to a heartbeat stage's events. The listeners belong to `link` and go
 * with it.
 */
export function watchHeartbeat (link: HeartbeatDuplex, watcher: HeartbeatWatcher): void {
  link.addEventListener('timeout', () => { watcher.timeout() })
  if (watcher.rtt !== undefined) {
    const onRtt = watcher.rtt
    link.addEventListener('rtt', ({ detail: { rtt } }) => { onRtt(rtt) })
  }
}
