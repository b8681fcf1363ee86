import type { Clock, TimerHandle, Timers } from '@proto/interface'
import type { Carrier } from './carrier.js'

/**
 * Watches data that waits for the peer: from `start()` (a write returned `false`, or FIN was queued) to
 * `stop()` (drain, finish). If it waits `timeout` ms without moving, `onStall` runs once. Whether it moved
 * is the carrier's `progress()`, read when the timer fires: a peer that keeps taking bytes, however slowly,
 * restarts the wait from that moment (a single large write raises `'drain'` only once it is all out). So
 * `onStall` runs between `timeout` and twice `timeout` after the last byte moved, never sooner. One timer
 * at a time, re-armed from timestamps when it fires early, never per write: a transfer that blocks and
 * drains many times a second arms at most one timer per `timeout`. Made only for connections that ever wait.
 */
export class StallWatch {
  private since: number | undefined
  /** The carrier's progress at `since`. */
  private mark: number | undefined
  private timer: TimerHandle | undefined

  constructor (
    private readonly timeout: number,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly carrier: Pick<Carrier, 'progress'>,
    private readonly onStall: (waited: number) => void
  ) {}

  /** Data started waiting for the peer (no effect if it already waits). */
  start (): void {
    if (this.since !== undefined) return
    this.since = this.clock.now()
    this.mark = this.carrier.progress?.()
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
    const now = this.clock.now()
    const progress = this.carrier.progress?.()
    // bytes moved since the last look: a slow peer, not a stalled one; the wait starts again from here
    if (progress !== undefined && progress > (this.mark ?? progress)) this.since = now
    this.mark = progress
    const waited = now - this.since
    if (waited >= this.timeout) this.onStall(waited)
    else this.timer = this.timers.setTimeout(this.check, this.timeout - waited)
  }
}
