import type { AdaptiveIntervalInit, HeartbeatDuplex, IntervalMemory } from '@proto/heartbeat'

/** What the demo wants to hear from a heartbeat stage. */
export interface HeartbeatWatcher {
  /** The peer was declared dead. */
  timeout(): void
  /** A pong came back after `rtt` ms. */
  rtt?(rtt: number): void
  /** The ping interval in force is `interval` ms, for `reason`: once when the stage starts, then at each change. */
  interval?(interval: number, reason: string): void
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
  if (watcher.interval !== undefined) {
    const onInterval = watcher.interval
    const { interval, intervalReason } = link.stats()
    onInterval(interval, intervalReason)
    link.addEventListener('interval', ({ detail }) => { onInterval(detail.interval, detail.reason) })
  }
}

/**
 * The adaptive ping interval of the session demo (both ends): from half to twice the configured interval,
 * the grace chosen so the dead-peer timeout never exceeds the configured one (`timeout − 2 × interval`, so at
 * the longest interval it is `timeout`): a black hole longer than `timeout` is always noticed.
 */
export function adaptiveInterval (interval: number, timeout: number, memory?: IntervalMemory): AdaptiveIntervalInit {
  const max = 2 * interval
  return { min: Math.max(1, Math.floor(interval / 2)), max, grace: Math.max(1, timeout - max), ...(memory === undefined ? {} : { memory }) }
}
