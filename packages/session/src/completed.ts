import type { Frame } from '@proto/codec'
import type { StageDuplex } from '@proto/interface'
import { RESOLVED_DONE } from '@proto/interface'
import type { Source } from 'it-stream-types'
import type { SessionItem } from './inbound.js'

/**
 * The connection a client uses once its session is complete (both directions ended, both acknowledged)
 * but the end was not yet observed on a live connection: a server that completed a session forgets it,
 * so resuming would be refused. It carries nothing, and lets the durable duplex finish cleanly.
 */
export function completedConnection (): StageDuplex<SessionItem, Frame> {
  return {
    source: { [Symbol.asyncIterator]: () => ({ next: () => RESOLVED_DONE }) },
    sink: async (source: Source<Frame>) => {
      for await (const _ of source as AsyncIterable<Frame>) {
        // nothing can be left to send in a complete session; anything fed would be a bug upstream
      }
    },
    close: async () => {},
    abort: () => {}
  }
}
