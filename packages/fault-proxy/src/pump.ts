import type { Socket } from 'node:net'
import type { TimerHandle } from '@proto/interface'
import { validate } from '@proto/interface'
import { MAX_COALESCE_BYTES } from './constants.js'
import type { LinkContext } from './context.js'
import type { Throttle } from './throttle.js'
import { createThrottle } from './throttle.js'

interface Queued { chunk: Buffer, at: number }

/**
 * Moves bytes one way, from `src` to `dst`, applying the link's delay, coalescing, fragmentation,
 * throttling and black hole. One async loop per direction does all writes; it sleeps on one timer at a
 * time. The queue holds at most `highWaterMark` bytes plus one chunk (`src` is paused above it), or
 * `blackHoleHoldBytes` during a black hole (later bytes are discarded and counted).
 */
export class Pump {
  /** Bytes dropped in this direction during black holes. */
  discarded = 0
  private readonly queue: Queued[] = []
  /** Bytes in the queue. */
  queued = 0
  /** Bytes of the chunk being written (taken from the queue) not written yet. */
  sending = 0
  private readEnded = false
  private srcPaused = false
  private stopped = false
  private running = false
  private finished = false
  private wake: (() => void) | undefined
  private wakeOnData = false
  private timer: TimerHandle | undefined
  private throttle: Throttle = createThrottle(Infinity)

  constructor (
    private readonly ctx: LinkContext,
    private readonly direction: 'up' | 'down',
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly onError: (err: unknown) => void
  ) {}

  /** A chunk arrived from `src`. */
  push (chunk: Buffer): void {
    this.ctx.read(this.direction, chunk.byteLength)
    if (this.stopped) return
    if (this.ctx.blackHoled && this.queued + chunk.byteLength > this.ctx.blackHoleHoldBytes) {
      this.discarded += chunk.byteLength
      this.ctx.discard(chunk.byteLength)
      return
    }
    this.queue.push({ chunk, at: this.ctx.clock.now() })
    this.queued += chunk.byteLength
    this.updateFlow()
    this.kick(false)
  }

  /** `src` sent its FIN: pass it on once everything queued is written. */
  end (): void {
    this.readEnded = true
    this.kick(false)
  }

  /** Drops the queue and stops writing for good; keeps reading `src` so its FIN or reset is seen. */
  stop (): void {
    this.stopped = true
    this.queue.length = 0
    this.queued = 0
    if (this.srcPaused) { this.srcPaused = false; this.src.resume() }
    this.kick(true)
  }

  /**
   * Something the loop waits on changed. `data` wakes only an idle loop (new bytes, drain); otherwise
   * any wait is cut short so the loop re-reads settings, black hole and stop.
   */
  kick (interrupt: boolean): void {
    if (this.wake !== undefined) {
      if (interrupt || this.wakeOnData) this.wakeNow()
      return
    }
    if (this.running || this.finished) return
    this.running = true
    void this.run().catch((err: unknown) => { this.onError(err) })
  }

  /** Re-applies flow control after a black hole started or ended. */
  updateFlow (): void {
    if (this.stopped) return
    const limit = this.ctx.blackHoled ? Infinity : this.ctx.highWaterMark
    if (!this.srcPaused && this.queued >= limit) {
      this.srcPaused = true
      this.src.pause()
    } else if (this.srcPaused && this.queued < limit / 2) {
      this.srcPaused = false
      this.src.resume()
    }
  }

  private async run (): Promise<void> {
    try {
      while (!this.stopped) {
        if (this.ctx.blackHoled) { await this.waitFor(undefined, false); continue }
        if (this.dst.writableNeedDrain) { await this.waitFor(undefined, true); continue }
        const head = this.queue[0]
        if (head === undefined) {
          if (this.readEnded) { this.finished = true; this.dst.end() }
          return
        }
        const { delayMs, coalesceMs } = this.ctx.settings
        const wait = head.at + delayMs + coalesceMs - this.ctx.clock.now()
        if (wait > 0) { await this.waitFor(wait, false); continue }
        await this.write(this.take(delayMs, coalesceMs > 0))
        this.updateFlow()
      }
    } finally {
      // Cleared in the same tick the loop returns, so no kick can fall between.
      this.running = false
    }
  }

  /** Removes the head chunk, or with coalescing every chunk already due, concatenated (bounded). */
  private take (delayMs: number, coalesce: boolean): Queued {
    const first = this.queue.shift() as Queued
    this.queued -= first.chunk.byteLength
    if (!coalesce) return first
    const parts = [first.chunk]
    let size = first.chunk.byteLength
    const now = this.ctx.clock.now()
    for (let next = this.queue[0]; next !== undefined; next = this.queue[0]) {
      if (next.at + delayMs > now || size + next.chunk.byteLength > MAX_COALESCE_BYTES) break
      this.queue.shift()
      this.queued -= next.chunk.byteLength
      parts.push(next.chunk)
      size += next.chunk.byteLength
    }
    return { chunk: parts.length === 1 ? first.chunk : Buffer.concat(parts, size), at: first.at }
  }

  /**
   * Writes one chunk in pieces; if a black hole starts midway, puts the rest back at the head. Each piece
   * is planned under the settings of the moment: a throttle changed, or a black hole begun, while a piece
   * waits for its turn applies to that piece (the settings' change wakes the wait).
   */
  private async write (item: Queued): Promise<void> {
    const { chunk } = item
    this.sending = chunk.byteLength
    try {
      for (let offset = 0; offset < chunk.byteLength;) {
        if (this.stopped) return
        if (this.ctx.blackHoled) { this.requeue({ chunk: chunk.subarray(offset), at: item.at }); return }
        const throttle = this.currentThrottle()
        const fragment = this.ctx.settings.fragment
        let size = chunk.byteLength - offset
        if (fragment !== undefined) size = Math.min(size, this.ctx.fragmentRandom.int(fragment.min, fragment.max))
        size = Math.min(size, throttle.slice)
        const writeAt = this.ctx.clock.now() + throttle.reserve(size, this.ctx.clock.now())
        let replan = false
        while (!this.stopped && this.ctx.clock.now() < writeAt) {
          await this.waitFor(writeAt - this.ctx.clock.now(), false)
          if (this.ctx.blackHoled || this.currentThrottle() !== throttle) { replan = true; break }
        }
        if (this.stopped) return
        if (replan) continue
        await this.writePiece(chunk.subarray(offset, offset + size), fragment !== undefined)
        offset += size
        this.sending = chunk.byteLength - offset
      }
    } finally {
      this.sending = 0
    }
  }

  /** The throttle of the current rate: the same object while the rate stays, a fresh one once it changed. */
  private currentThrottle (): Throttle {
    const rate = this.ctx.settings.throttle
    if (this.throttle.rate !== (rate > 0 ? rate : Infinity)) this.throttle = createThrottle(rate)
    return this.throttle
  }

  private async writePiece (piece: Buffer, separate: boolean): Promise<void> {
    this.ctx.count(this.direction, piece.byteLength, 1)
    if (!separate) {
      this.dst.write(piece)
      return
    }
    // Wait until the piece has reached the kernel, then let the event loop poll once, so the next
    // piece is a separate segment rather than merged in the same send buffer.
    let written = false
    this.dst.write(piece, () => { written = true; this.wakeNow() })
    while (!written && !this.stopped) await this.waitFor(undefined, false)
    // two check phases: one poll phase surely ran between them (woken from a 'data' callback, in the poll
    // phase, the first would come before the next poll)
    await new Promise<void>(resolve => setImmediate(resolve))
    await new Promise<void>(resolve => setImmediate(resolve))
  }

  private requeue (item: Queued): void {
    this.queue.unshift(item)
    this.queued += item.chunk.byteLength
  }

  /** Sleeps until `ms` passed (if given), an interrupt, or with `onData` any kick. */
  private async waitFor (ms: number | undefined, onData: boolean): Promise<void> {
    await new Promise<void>((resolve) => {
      this.wake = resolve
      this.wakeOnData = onData
      // at most Node's longest delay (a throttle of a few bytes a day asks for more): a longer one fires after
      // 1 ms, again and again; woken early, the pump finds it may not send yet and waits again
      if (ms !== undefined) this.timer = this.ctx.timers.setTimeout(() => { this.wakeNow() }, Math.min(ms, validate.MAX_TIMER_DELAY))
    })
  }

  private wakeNow (): void {
    const wake = this.wake
    this.wake = undefined
    this.timer?.cancel()
    this.timer = undefined
    wake?.()
  }
}
