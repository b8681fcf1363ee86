import type { TimerHandle, Timers } from '@proto/interface'
import { afterIo } from '@proto/interface'

/** When acknowledgements go out. */
export interface AckPolicy {
  /** The longest an ACK waits after the first unacknowledged delivery (ms). */
  delay: number
  /** Unacknowledged deliveries that send an ACK at once. */
  frames: number
  /**
   * Unacknowledged delivered bytes that send an ACK at once; `undefined`: a sixteenth of the peer's window
   * (`ACK_WINDOW_SHARE`), known from its RESUME.
   */
  bytes: number | undefined
}

/** An ACK policy for one connection, with the peer's window applied. */
export type ConnectionAckPolicy = AckPolicy & { bytes: number }

/**
 * Decides when the current connection sends an ACK: soon after `frames` deliveries or `bytes` bytes and
 * after the first delivery after a RESUME, at once after a duplicate, else `delay` after the first
 * unacknowledged delivery. "Soon" is after the event loop's next I/O phase: an item is acknowledged once
 * it was handed to the application's read, and the application's code that follows the read (its
 * `for await` body) runs first, so a process killed in between has not acknowledged what its
 * application never saw. One one-shot timer, armed only while something is unacknowledged: an idle
 * session runs none.
 */
export class AckClock {
  private readonly delay: number
  private readonly maxFrames: number
  private readonly maxBytes: number
  private frames = 0
  private bytes = 0
  private timer: TimerHandle | undefined
  /** The next delivery is the first after a RESUME: acknowledge it soon. */
  private first = true
  private disposed = false
  /** An ACK is due after the next I/O phase. */
  private soon = false

  /** `target.ack()` sends an ACK (the connection's outbound queues the current one). */
  constructor (policy: ConnectionAckPolicy, private readonly timers: Timers, private readonly target: { ack(): void }) {
    this.delay = policy.delay
    this.maxFrames = policy.frames
    this.maxBytes = policy.bytes
  }

  /** `items` items of `bytes` body bytes in all were handed to the application. */
  delivered (items: number, bytes: number): void {
    if (this.disposed) return
    this.frames += items
    this.bytes += bytes
    if (this.first || this.frames >= this.maxFrames || this.bytes >= this.maxBytes) {
      this.first = false
      if (this.soon) return
      this.soon = true
      afterIo(() => {
        this.soon = false
        if (this.frames > 0) this.flush()
      })
      return
    }
    this.timer ??= this.timers.setTimeout(() => {
      this.timer = undefined
      this.flush()
    }, this.delay)
  }

  /** A duplicate was dropped: whatever is unacknowledged goes out now. */
  duplicate (): void {
    if (this.frames > 0) this.flush()
  }

  /** Sends an ACK now (and forgets what was pending). */
  flush (): void {
    if (this.disposed) return
    this.timer?.cancel()
    this.timer = undefined
    this.frames = 0
    this.bytes = 0
    this.target.ack()
  }

  dispose (): void {
    this.disposed = true
    this.timer?.cancel()
    this.timer = undefined
  }
}
