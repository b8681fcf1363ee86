/**
 * The user's side of a throughput run, the same for every variant: an async generator (as users have it)
 * handing out one message at a time, bounded in count and time, then the end marker. Raw `net`,
 * it-length-prefixed and @proto senders all read their messages from one of these.
 */
import type { Frame } from '@proto/codec'
import { seconds } from './net-util.js'

/** Application frame type that ends a throughput run (answered with a DATA frame holding the tally). */
export const END = 0x41
/** The frame type of the messages. */
export const DATA = 0x00

/** `payload` up to `maxCount` times or until `deadline` (seconds), then an empty message (the end marker). */
export async function * messages (payload: Uint8Array, maxCount: number, deadline: number): AsyncGenerator<Uint8Array> {
  for (let n = 0; n < maxCount; n++) {
    if ((n & 63) === 63 && seconds() > deadline) break
    yield payload
  }
  yield new Uint8Array(0)
}

/** The same as frames: DATA frames carrying `payload`, then an END frame. */
export async function * frames (payload: Uint8Array, maxCount: number, deadline: number, type = DATA): AsyncGenerator<Frame> {
  for (let n = 0; n < maxCount; n++) {
    if ((n & 63) === 63 && seconds() > deadline) break
    yield { type, body: payload }
  }
  yield { type: END, body: new Uint8Array(0) }
}
