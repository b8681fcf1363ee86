/**
 * The user's side of a throughput run, the same for every variant: an async generator (as users have it)
 * handing out one message at a time, bounded in count and time, then the end marker. Raw `net`,
 * it-length-prefixed and @proto senders all read their messages from one of these. The `-batch` variants
 * read from `pushedFrames()` instead: an application handing over the messages it has ready in batches.
 */
import type { Frame } from '@proto/codec'
import type { Pushable } from '@proto/interface'
import { pushable, toError } from '@proto/interface'
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

/**
 * The same frames from an application that has them ready: it pushes into a bounded `pushable()` from
 * `@proto/interface` (1 024 items) as long as there is room, then waits for `onRoom()`; the stack's sink
 * takes everything queued with one `nextBatch()`. Bounded in count and time like `frames()`, then END.
 */
export function pushedFrames (payload: Uint8Array, maxCount: number, deadline: number, type = DATA): Pushable<Frame> {
  const queue = pushable<Frame>({ maxItems: PUSHED_MAX_ITEMS })
  const produce = async (): Promise<void> => {
    let n = 0
    while (n < maxCount) {
      while (queue.room > 0 && n < maxCount) {
        if ((n & 63) === 63 && seconds() > deadline) { n = maxCount; break }
        queue.push({ type, body: payload })
        n++
      }
      if (queue.ended) return
      if (queue.room === 0) await queue.onRoom()
    }
    if (queue.room === 0) await queue.onRoom()
    if (queue.ended) return
    queue.push({ type: END, body: new Uint8Array(0) })
    queue.end()
  }
  produce().catch((err: unknown) => { queue.end(toError(err)) })
  return queue
}

/** The queue of `pushedFrames()` (items). */
const PUSHED_MAX_ITEMS = 1024
