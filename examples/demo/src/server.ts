import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import { heartbeat } from '@proto/heartbeat'
import type { Server } from '@proto/transport'
import { listen } from '@proto/transport'
import { readMessage } from './message.js'

/** What the echo server saw. Counts are per message; `byEpoch` is indexed by the client's connection number. */
export interface ServerTally {
  /** Intact messages received for the first time. */
  received: number
  receivedByEpoch: number[]
  /** Echoes handed to a connection, by the epoch of the message. */
  echoedByEpoch: number[]
  duplicates: number
  /** Messages whose sequence number was not above the previous one on the same connection. */
  outOfOrder: number
  /**
   * Messages that arrived after a message with a higher sequence number had arrived on a newer
   * connection (an old connection's bytes flushed late). Allowed: order is kept per connection.
   */
  late: number
  corrupted: number
  connections: number
  heartbeatTimeouts: number
}

export interface EchoServer {
  readonly server: Server
  readonly tally: ServerTally
  close(): Promise<void>
}

export interface EchoServerInit {
  messages: number
  size: number
  heartbeatInterval: number
  heartbeatTimeout: number
}

function bump (list: number[], i: number): void {
  list[i] = (list[i] ?? 0) + 1
}

/**
 * The demo's server: transport `listen` → `codec` → `heartbeat`, echoing every intact message back on
 * the connection it came from, and checking each one (size, checksum, duplicates, order per connection).
 */
export async function startEchoServer (init: EchoServerInit): Promise<EchoServer> {
  const seen = new Uint8Array(init.messages)
  let highest = -1
  const tally: ServerTally = {
    received: 0, receivedByEpoch: [], echoedByEpoch: [], duplicates: 0, outOfOrder: 0, late: 0, corrupted: 0, connections: 0, heartbeatTimeouts: 0
  }

  async function * check (source: AsyncIterable<Frame>): AsyncGenerator<Frame> {
    let last = -1
    for await (const frame of source) {
      const m = readMessage(frame.body, init.size)
      if (!m.intact || m.seq >= init.messages) { tally.corrupted++; continue }
      if (seen[m.seq] === 1) { tally.duplicates++; continue }
      seen[m.seq] = 1
      tally.received++
      bump(tally.receivedByEpoch, m.epoch)
      if (m.seq <= last) tally.outOfOrder++
      if (m.seq < highest) tally.late++
      last = m.seq
      if (m.seq > highest) highest = m.seq
      bump(tally.echoedByEpoch, m.epoch)
      yield frame
    }
  }

  const server = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => {
    tally.connections++
    const link = heartbeat(codec(conn), { interval: init.heartbeatInterval, timeout: init.heartbeatTimeout })
    link.addEventListener('timeout', () => { tally.heartbeatTimeouts++ })
    try {
      await link.sink(check(link.source)) // echo until the client finishes writing, then half-close
      await link.close()
    } catch (err) {
      // a cut, a reset or a heartbeat timeout: this connection is gone, the server carries on
      link.abort(err as Error)
    }
  })
  return {
    server,
    tally,
    close: async () => { await server.close({ deadline: 1_000 }) }
  }
}
