import { codec } from '@proto/codec'
import { heartbeat } from '@proto/heartbeat'
import { listen } from '@proto/transport'
import type { ServerTally } from './echo-check.js'
import { echoChecker, newServerTally } from './echo-check.js'
import { watchHeartbeat } from './heartbeat-events.js'
import type { ServerSessionReport } from './session-summary.js'

/** An echo server of the demo, with or without sessions. */
export interface EchoServer {
  /** Where it listens (loopback). */
  readonly address: { host: string, port: number }
  readonly tally: ServerTally
  /** With sessions: the server's sessions, counted; `undefined` without. */
  sessionReport(): ServerSessionReport | undefined
  /** Resolves once every session the server serves has ended (its last acknowledgements read), or after `timeout` ms. */
  settle(timeout: number): Promise<void>
  close(): Promise<void>
}

export interface EchoServerInit {
  messages: number
  size: number
  heartbeatInterval: number
  heartbeatTimeout: number
  /** Milliseconds since the start of the run. */
  now(): number
  /** A server-side heartbeat declared the client dead. */
  onHeartbeatTimeout(): void
}

/** Where a server listens: loopback, a port of the system's choosing. */
export const LISTEN = { host: '127.0.0.1', port: 0 }

/** Without sessions the server closes within this long, destroying what is left (ms). */
const CLOSE_DEADLINE = 1_000

/**
 * The demo's server without sessions: transport `listen` → `codec` → `heartbeat`, echoing every intact
 * message back on the connection it came from, and checking each one (size, checksum, duplicates, order
 * per connection).
 */
export async function startEchoServer (init: EchoServerInit): Promise<EchoServer> {
  const tally = newServerTally(init.messages)
  const check = echoChecker(tally, init.messages, init.size, init.now)
  const server = await listen(LISTEN, async (conn) => {
    tally.connections++
    const link = heartbeat(codec(conn), { interval: init.heartbeatInterval, timeout: init.heartbeatTimeout })
    watchHeartbeat(link, { timeout: () => { tally.heartbeatTimeouts++; init.onHeartbeatTimeout() } })
    try {
      await link.sink(check(link.source)) // echo until the client finishes writing, then half-close
      await link.close()
    } catch (err) {
      // a cut, a reset or a heartbeat timeout: this connection is gone, the server carries on
      link.abort(err as Error)
    }
  })
  const { address, port } = server.address as { address: string, port: number }
  return {
    address: { host: address, port },
    tally,
    sessionReport: () => undefined,
    settle: async () => {},
    close: async () => { await server.close({ deadline: CLOSE_DEADLINE }) }
  }
}
