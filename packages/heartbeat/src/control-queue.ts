import type { Frame } from '@proto/codec'
import { MAX_QUEUED_PONG_BYTES, MAX_QUEUED_PONGS } from './constants.js'

/**
 * Control frames waiting to go out ahead of data, in order. Our own frames (HELLO, PING, GOAWAY) are few
 * by construction (one HELLO, at most one ping and one GOAWAY at a time) and always accepted; pongs, whose
 * number and size the peer decides, are bounded by `MAX_QUEUED_PONGS` frames and `MAX_QUEUED_PONG_BYTES`
 * (beyond the first). The array exists only while frames wait.
 */
export class ControlQueue {
  private frames: Frame[] | undefined
  private pongs = 0
  private pongBytes = 0

  constructor (private readonly pongType: number | undefined) {}

  get length (): number {
    return this.frames?.length ?? 0
  }

  /** Queues one of our own control frames. */
  push (frame: Frame): void {
    (this.frames ??= []).push(frame)
  }

  /**
   * Queues a pong unless the pongs already waiting are at their bound; `false` if it was refused. One pong
   * is always accepted when none waits, whatever its size (the peer's `maxPingBody` allows it).
   */
  offerPong (frame: Frame): boolean {
    if (this.pongs >= MAX_QUEUED_PONGS || (this.pongs > 0 && this.pongBytes + frame.body.byteLength > MAX_QUEUED_PONG_BYTES)) return false
    this.pongs++
    this.pongBytes += frame.body.byteLength
    this.push(frame)
    return true
  }

  shift (): Frame | undefined {
    const frames = this.frames
    if (frames === undefined) return undefined
    const frame = frames.shift()
    if (frames.length === 0) this.frames = undefined // an idle connection keeps no array between pings
    if (frame !== undefined && frame.type === this.pongType && this.pongs > 0) {
      this.pongs--
      this.pongBytes -= frame.body.byteLength
    }
    return frame
  }
}
