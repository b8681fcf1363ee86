import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import { heartbeat, intervalMemory } from '@proto/heartbeat'
import type { ByteDuplex } from '@proto/interface'
import type { SessionDuplex, SessionFrames } from '@proto/session'
import { isSequenced, SESSION_FLAG, sessionClient } from '@proto/session'
import { connect } from '@proto/transport'
import type { ClientInit, NumberedClient } from './client.js'
import { REDIAL } from './client.js'
import { adaptiveInterval } from './heartbeat-events.js'
import { stampEpoch } from './message.js'

/**
 * The demo's client stack with sessions: transport `connect` → `codec` → `heartbeat` (HELLO with the
 * session flag) under `sessionClient`, which redials with the same backoff as the plain client, resumes
 * the session on every new connection and sends again what the server had not acknowledged.
 *
 * Between the session and the heartbeat, each numbered item is stamped with the number of the connection
 * writing it (a copy: the session keeps the original for replays), so the run can tell which connection
 * carried what, and which items went again. A connection gets its number when the session is up on it
 * (`connected`); one cut during its handshake is a failed dial, not a connection.
 */
export function createSessionClient (init: ClientInit): NumberedClient<SessionDuplex> {
  let connections = 0
  let latest: { epoch: number } | undefined
  const memory = intervalMemory() // what the heartbeat learned about the path, carried to the next connection
  const stack = (conn: ByteDuplex): SessionFrames => {
    const link = heartbeat(codec(conn), { interval: init.heartbeatInterval, timeout: init.heartbeatTimeout, hello: true, helloFlags: SESSION_FLAG, adaptiveInterval: adaptiveInterval(init.heartbeatInterval, init.heartbeatTimeout, memory) })
    init.onLink(link)
    const slot = latest = { epoch: 0 }
    async function * stamp (source: AsyncIterable<Frame> | Iterable<Frame>): AsyncGenerator<Frame> {
      for await (const frame of source) {
        if (!isSequenced(frame.type)) { yield frame; continue }
        const body = frame.body.slice()
        stampEpoch(body, slot.epoch)
        init.onHanded(body, slot.epoch)
        yield { type: frame.type, body }
      }
    }
    return {
      source: link.source,
      sink: async (source) => { await link.sink(stamp(source)) },
      close: async (options) => { await link.close(options) },
      abort: (err) => { link.abort(err) },
      peerHello: link.peerHello,
      addEventListener: link.addEventListener.bind(link),
      removeEventListener: link.removeEventListener.bind(link),
      ...(link.goingAway !== undefined ? { goingAway: link.goingAway } : {})
    }
  }
  const duplex = sessionClient(async ({ signal }) => await connect({ host: init.host, port: init.port }, { signal }), { ...REDIAL, stack })
  // registered before anyone else's listener: the number is assigned before the run records the event
  duplex.addEventListener('connected', () => {
    if (latest !== undefined && latest.epoch === 0) latest.epoch = ++connections
  })
  return { duplex, get current () { return connections } }
}
