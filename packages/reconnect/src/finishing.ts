import type { TimerHandle, Timers } from '@proto/interface'
import { safeAbort } from './connection.js'

/** A connection's duplex, as far as finishing it goes. */
interface Finishable { readonly duplex: { abort?(err: Error): void } }

/**
 * Connections that ended or failed by themselves (the peer finished, or the stage beneath gave up on its own):
 * their feed has ended, so each may finish its side (flush what it accepted, FIN) instead of being reset. One
 * that has not finished within `closeTimeout` is aborted; so is every one still finishing when the durable
 * duplex ends.
 */
export class Finishing {
  /** Made with the first connection that finishes by itself (0.2 KiB a session otherwise). */
  private waiting: Map<Finishable, { timer: TimerHandle, err: Error }> | undefined

  constructor (private readonly timers: Timers, private readonly closeTimeout: number) {}

  /** Gives `c` until `closeTimeout` to finish; aborted with `err` after that. */
  add (c: Finishable, err: Error): void {
    const waiting = this.waiting ??= new Map()
    const timer = this.timers.setTimeout(() => {
      waiting.delete(c)
      safeAbort(c.duplex, err)
    }, this.closeTimeout)
    waiting.set(c, { timer, err })
  }

  /** `c`'s sink settled: it finished its side (or failed); nothing more to wait for. */
  done (c: Finishable): void {
    const w = this.waiting?.get(c)
    if (w === undefined) return
    w.timer.cancel()
    this.waiting?.delete(c)
  }

  /** The durable duplex ends: whatever is still finishing is aborted now. */
  abortAll (): void {
    const waiting = this.waiting
    if (waiting === undefined) return
    for (const [c, w] of waiting) {
      w.timer.cancel()
      safeAbort(c.duplex, w.err)
    }
    waiting.clear()
  }
}
