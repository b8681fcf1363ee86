import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import type { DurableDuplex, ReconnectInit } from '@proto/reconnect'
import { reconnect } from '@proto/reconnect'
import { connect } from '@proto/transport'
import { stampEpoch } from './message.js'

export interface ClientInit {
  host: string
  port: number
  heartbeatInterval: number
  heartbeatTimeout: number
  /** Called for every heartbeat stage made, one per TCP connection. */
  onLink(link: HeartbeatDuplex): void
  /** Called as each message is handed to connection `epoch` (already stamped with it). */
  onHanded(body: Uint8Array, epoch: number): void
}

/** A client whose connections are numbered 1, 2, … as they come up; `current` is the one up now (0 before the first). */
export interface NumberedClient<D> {
  readonly duplex: D
  readonly current: number
}

/** How both clients redial: the same backoff, stability rule and offline buffer with or without sessions. */
export const REDIAL: Pick<ReconnectInit<Frame>, 'initialDelay' | 'maxDelay' | 'minStableTime' | 'connectTimeout'> & { buffer: { maxMessages: number, overflow: 'wait' } } = {
  initialDelay: 50, // first redial within 50 ms, doubling up to 500 ms
  maxDelay: 500,
  minStableTime: 1_000, // a link that lasted 1 s resets the backoff
  connectTimeout: 5_000,
  buffer: { maxMessages: 1_000, overflow: 'wait' } // offline: hold 1000 messages, then slow the producer
}

/**
 * The demo's client stack without sessions: transport `connect` → `codec` → `heartbeat`, redialled by
 * `reconnect` (at most once). Each connection's number (its epoch) is written into every message it
 * carries, so the run can tell which connection lost what.
 */
export function createClient (init: ClientInit): NumberedClient<DurableDuplex<Frame>> {
  let epochs = 0
  const duplex = reconnect<Frame>(async ({ signal }) => {
    const conn = await connect({ host: init.host, port: init.port }, { signal })
    const link = heartbeat(codec(conn), { interval: init.heartbeatInterval, timeout: init.heartbeatTimeout })
    const epoch = ++epochs
    init.onLink(link)
    async function * stamp (source: AsyncIterable<Frame> | Iterable<Frame>): AsyncGenerator<Frame> {
      for await (const frame of source) {
        stampEpoch(frame.body, epoch)
        init.onHanded(frame.body, epoch)
        yield frame
      }
    }
    return {
      source: link.source,
      sink: async (source) => { await link.sink(stamp(source)) },
      close: async (options) => { await link.close(options) },
      abort: (err) => { link.abort(err) }
    }
  }, REDIAL)
  return { duplex, get current () { return epochs } }
}
