import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import type { HeartbeatDuplex, HeartbeatInit } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import type { Connection, DisconnectInfo, Server } from '@proto/transport'
import { listen } from '@proto/transport'
import { MESSAGE_TYPE, readMessage } from './message.js'
import { Waiter } from './waiter.js'

/** One message as the server application received it. */
export interface Arrival {
  client: number
  seq: number
  /** Id of the server connection it came on. */
  conn: string
}

/** What became of one server connection. */
export interface ServerConnectionRecord {
  id: string
  /** The peer's port (to find a raw test client's connection). */
  remotePort: number | undefined
  /** Set once the connection is gone. */
  info?: DisconnectInfo
  /** What the application's read loop failed with, if it failed. */
  error?: Error
  /** Heartbeat `timeout` events on this connection. */
  timeouts: number
  /** Frames that were not well-formed test messages. */
  foreign: number
  link: HeartbeatDuplex
}

export interface StackServerInit {
  /** Port to listen on. @default 0 */
  port?: number
  /** Options of the server's heartbeat stage. */
  heartbeat?: HeartbeatInit
  /** `maxFrameLength` of the server's codec, in bytes. @default the codec's default */
  maxFrameLength?: number
  /** Transport idle timeout, in ms. @default 0 (off) */
  idleTimeout?: number
  /** Send every received message back on the same connection. @default false */
  echo?: boolean
  /**
   * Instead of reading, send these frames (then wait for the client to end). Used by the slow-consumer
   * test. Receives the connection's link so it can observe it.
   */
  produce?: (link: HeartbeatDuplex) => AsyncIterable<Frame>
  /** Called synchronously for each message, after it is recorded. */
  onMessage?: (arrival: Arrival) => void
}

/**
 * A full-stack server (transport + codec + heartbeat) that records, per client, every message it
 * receives and, per connection, how and why it ended. It can be restarted on the same port.
 */
export class StackServer {
  /** Messages in arrival order, per client id. */
  readonly arrivals = new Map<number, Arrival[]>()
  /** Every connection ever accepted, by id. */
  readonly connections = new Map<string, ServerConnectionRecord>()
  readonly changed = new Waiter()
  server: Server | undefined
  private portNumber: number

  private constructor (private readonly init: StackServerInit) {
    this.portNumber = init.port ?? 0
  }

  static async start (init: StackServerInit = {}): Promise<StackServer> {
    const s = new StackServer(init)
    await s.listen()
    return s
  }

  get port (): number { return this.portNumber }

  /** Messages received from `client`, in arrival order. */
  received (client: number): Arrival[] {
    let list = this.arrivals.get(client)
    if (list === undefined) this.arrivals.set(client, list = [])
    return list
  }

  /** Connections that ended with an error of this name. */
  endedWith (errorName: string): ServerConnectionRecord[] {
    return [...this.connections.values()].filter(r => r.info?.error?.name === errorName)
  }

  /** Live connections. */
  get live (): number {
    return this.server?.connections.size ?? 0
  }

  /** Listens (again) on the same port. */
  async listen (): Promise<void> {
    const init = this.init
    const listenInit = { host: '127.0.0.1', port: this.portNumber, ...(init.idleTimeout !== undefined ? { idleTimeout: init.idleTimeout } : {}) }
    const server = await listen(listenInit, async (conn) => { await this.handle(conn) })
    server.addEventListener('disconnect', ({ detail: { connection, info } }) => {
      const record = this.connections.get(connection.id)
      if (record !== undefined) record.info = info
      this.changed.notify()
    })
    this.server = server
    this.portNumber = (server.address as { port: number }).port
  }

  /** Closes the listener and every connection (aborting those still open after `deadline` ms). */
  async stop (deadline = 0): Promise<void> {
    const server = this.server
    this.server = undefined
    await server?.close({ deadline })
  }

  /**
   * Simulates a crash: every live connection's heartbeat stage is aborted at once (frames the
   * application had not read yet are discarded, peers get a reset), then the server restarts on the
   * same port. Safe to call from `onMessage`.
   */
  async crash (): Promise<void> {
    const err = new Error('server crashed')
    for (const conn of this.server?.connections ?? []) this.connections.get(conn.id)?.link.abort(err)
    await this.restart(0)
  }

  /** Stops, then listens again on the same port. */
  async restart (deadline = 0): Promise<void> {
    await this.stop(deadline)
    await this.listen()
  }

  private async handle (conn: Connection): Promise<void> {
    const init = this.init
    const link = heartbeat(codec(conn, init.maxFrameLength !== undefined ? { maxFrameLength: init.maxFrameLength } : {}), init.heartbeat ?? {})
    const remote = conn.remoteAddress
    const record: ServerConnectionRecord = {
      id: conn.id,
      remotePort: remote !== undefined && 'port' in remote ? remote.port : undefined,
      timeouts: 0,
      foreign: 0,
      link
    }
    this.connections.set(conn.id, record)
    link.addEventListener('timeout', () => { record.timeouts++ })
    this.changed.notify()
    try {
      if (init.produce !== undefined) {
        await Promise.all([link.sink(init.produce(link)), this.consume(link.source, record)])
      } else if (init.echo === true) {
        await link.sink(this.tap(link.source, record))
      } else {
        await this.consume(link.source, record)
      }
      await link.close()
    } catch (err) {
      record.error = err as Error
      this.changed.notify()
    }
  }

  private record (frame: Frame, record: ServerConnectionRecord): void {
    const m = frame.type === MESSAGE_TYPE ? readMessage(frame.body) : undefined
    if (m === undefined) {
      record.foreign++
      return
    }
    const arrival = { client: m.client, seq: m.seq, conn: record.id }
    this.received(m.client).push(arrival)
    this.init.onMessage?.(arrival)
    this.changed.notify()
  }

  private async consume (source: AsyncIterable<Frame>, record: ServerConnectionRecord): Promise<void> {
    for await (const frame of source) this.record(frame, record)
  }

  private async* tap (source: AsyncIterable<Frame>, record: ServerConnectionRecord): AsyncGenerator<Frame> {
    for await (const frame of source) {
      this.record(frame, record)
      yield frame
    }
  }
}
