import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import type { DurableDuplex } from '@proto/reconnect'
import { reconnect } from '@proto/reconnect'
import { connect } from '@proto/transport'
import { stampEpoch } from './message.js'

export interface ClientInit {
  host: string
  port: number
  heartbeatInterval: number
  heartbeatTimeout: number
  /** Called for every connection made, with its number (1, 2, …). */
  onConnection(link: HeartbeatDuplex, epoch: number): void
  /** Called as each message is handed to connection `epoch`. */
  onHanded(frame: Frame, epoch: number): void
}

/**
 * The demo's client stack: transport `connect` → `codec` → `heartbeat`, redialled by `reconnect`.
 * Each connection gets a number (its epoch), written into every message it carries, so the run can
 * tell which connection lost what.
 */
export function createClient (init: ClientInit): DurableDuplex<Frame> {
  let epochs = 0
  return reconnect<Frame>(async ({ signal }) => {
    const conn = await connect({ host: init.host, port: init.port }, { signal })
    const link = heartbeat(codec(conn), { interval: init.heartbeatInterval, timeout: init.heartbeatTimeout })
    const epoch = ++epochs
    init.onConnection(link, epoch)
    async function * stamp (source: AsyncIterable<Frame> | Iterable<Frame>): AsyncGenerator<Frame> {
      for await (const frame of source) {
        stampEpoch(frame.body, epoch)
        init.onHanded(frame, epoch)
        yield frame
      }
    }
    return {
      source: link.source,
      sink: async (source) => { await link.sink(stamp(source)) },
      close: async (options) => { await link.close(options) },
      abort: (err) => { link.abort(err) }
    }
  }, {
    initialDelay: 50, // first redial within 50 ms, doubling up to 500 ms
    maxDelay: 500,
    minStableTime: 1_000, // a link that lasted 1 s resets the backoff
    connectTimeout: 5_000,
    buffer: { maxMessages: 1_000, overflow: 'wait' } // offline: hold 1000 messages, then slow the producer
  })
}
