import type { Clock, TimerHandle, Timers } from '@proto/interface'

/**
 * Watches data that waits for the peer: from `start()` (a write returned `false`, or FIN was queued) to
 * `stop()` (drain, finish). If it waits `timeout` ms, `onStall` runs once. One timer at a time, re-armed
 * from the start timestamp when it fires early, never per write: a transfer that blocks and drains many
 * times a second arms at most one timer per `timeout`. Made only for connections that ever wait.
 */
export class StallWatch {
  private since: number | undefined
  private timer: TimerHandle | undefined

  constructor (
    private readonly timeout: number,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly onStall: (waited: number) => void
  ) {}

  /** Data started waiting for the peer (no effect if it already waits). */
  start (): void {
    if (this.since !== undefined) return
    this.since = this.clock.now()
    this.timer ??= this.timers.setTimeout(this.check, this.timeout)
  }

  /** The data moved: nothing waits any more. A pending timer finds nothing to do and lapses. */
  stop (): void {
    this.since = undefined
  }

  /** The connection is gone: cancel the timer. */
  cancel (): void {
    this.since = undefined
    this.timer?.cancel()
    this.timer = undefined
  }

  private readonly check = (): void => {
    this.timer = undefined
    if (this.since === undefined) return
    const waited = this.clock.now() - this.since
    if (waited >= this.timeout) this.onStall(waited)
    else this.timer = this.timers.setTimeout(this.check, this.timeout - waited)
  }
}
