import type { Frame } from '@proto/codec'
import type { Tally } from './net-util.js'
import { encodeTally } from './net-util.js'
import { DATA, END } from './producers.js'
import { pushable } from './pushable.js'

/** A frame duplex a receiver serves: its source read to the end, its sink fed the replies. */
export interface ServedDuplex {
  readonly source: AsyncIterable<Frame>
  sink(source: AsyncIterable<Frame>): Promise<void>
}

/**
 * Counts DATA frames; END is answered with the tally (and the count starts again). Ends writing when the
 * peer does. `ignoreWriteError`: a failure of the replies' sink is not the round's concern (a session
 * whose peer closed first).
 */
export async function tallyServe (duplex: ServedDuplex, ignoreWriteError = false): Promise<void> {
  const replies = pushable<Frame>()
  const writing = duplex.sink(replies)
  const tally: Tally = { count: 0, bytes: 0 }
  try {
    for await (const frame of duplex.source) {
      if (frame.type === END) {
        replies.push({ type: DATA, body: encodeTally(tally) })
        tally.count = 0
        tally.bytes = 0
        continue
      }
      tally.count++
      tally.bytes += frame.body.byteLength
    }
  } finally {
    replies.end()
  }
  await (ignoreWriteError ? writing.catch(() => {}) : writing)
}
