import type { Frame } from '@proto/codec'
import type { StageDuplex } from '@proto/interface'
import { RESOLVED_DONE } from '@proto/interface'
import type { DialContext } from '@proto/reconnect'
import type { Source } from 'it-stream-types'
import type { SessionItem } from './inbound.js'

/**
 * The connection a client uses once its session is complete (both directions ended, both acknowledged)
 * but the end was not yet observed on a live connection: a server that completed a session forgets it,
 * so resuming would be refused. It carries nothing, and lets the durable duplex finish cleanly. Items
 * still retained when the session completed (the server's acknowledgement of our END arrived before
 * those of the items, and the connection was lost before we had sent them again) reached the server,
 * since it acknowledged the END after them: each one fed here is confirmed.
 */
export function completedConnection (ctx: Pick<DialContext, 'confirm'>): StageDuplex<SessionItem, Frame> {
  return {
    source: { [Symbol.asyncIterator]: () => ({ next: () => RESOLVED_DONE }) },
    sink: async (source: Source<Frame>) => {
      for await (const _ of source as AsyncIterable<Frame>) ctx.confirm(1)
    },
    close: async () => {},
    abort: () => {}
  }
}
