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
 * with it (heartbeat drops them once the stage has closed).
 */
export function watchHeartbeat (link: HeartbeatDuplex, watcher: HeartbeatWatcher): void {
  link.on('timeout', () => { watcher.timeout() })
  if (watcher.rtt !== undefined) {
    const onRtt = watcher.rtt
    link.on('rtt', ({ rtt }) => { onRtt(rtt) })
  }
}
