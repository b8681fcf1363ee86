import type { Frame } from '@proto/codec'
import { MAX_QUEUED_PONG_BYTES, MAX_QUEUED_PONGS } from './constants.js'

/**
 * Control frames waiting to go out ahead of data, in order. Our own frames (HELLO, PING, GOAWAY) are few
 * by construction (one HELLO, at most one ping and one GOAWAY at a time) and always accepted; pongs, whose
 * number and size the peer decides, are bounded by `MAX_QUEUED_PONGS` frames and `MAX_QUEUED_PONG_BYTES`
 * (beyond the first). The oldest frame waits in a field of its own and an array holds the others only
 * while two or more wait: a ping or a pong that goes out alone (nearly every one) allocates nothing here.
 */
export class ControlQueue {
  private first: Frame | undefined
  private rest: Frame[] | undefined
  private pongs = 0
  private pongBytes = 0

  constructor (private readonly pongType: number | undefined) {}

  get length (): number {
    return this.first === undefined ? 0 : 1 + (this.rest?.length ?? 0)
  }

  /** Queues one of our own control frames. */
  push (frame: Frame): void {
    if (this.first === undefined) this.first = frame
    else if (this.rest === undefined) this.rest = [frame]
    else this.rest.push(frame)
  }

  /**
   * Queues a pong unless the pongs already waiting are at their bound; `false` if it was refused. One pong
   * is always accepted when none waits, whatever its size (the peer's `maxPingBody` allows it).
   */
  offerPong (frame: Frame): boolean {
    if (this.pongs >= MAX_QUEUED_PONGS || (this.pongs > 0 && this.pongBytes + frame.body.length > MAX_QUEUED_PONG_BYTES)) return false
    this.pongs++
    this.pongBytes += frame.body.length
    this.push(frame)
    return true
  }

  shift (): Frame | undefined {
    const frame = this.first
    if (frame === undefined) return undefined
    const rest = this.rest
    if (rest === undefined) {
      this.first = undefined
    } else {
      this.first = rest.shift()
      if (rest.length === 0) this.rest = undefined
    }
    if (frame.type === this.pongType && this.pongs > 0) {
      this.pongs--
      this.pongBytes -= frame.body.length
    }
    return frame
  }
}
