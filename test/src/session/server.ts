import type { Frame } from '@proto/codec'
import type { HeartbeatInit } from '@proto/heartbeat'
import type { SessionDuplex, SessionServer, SessionServerInit } from '@proto/session'
import { sessionServer } from '@proto/session'
import type { Server } from '@proto/transport'
import { listen } from '@proto/transport'
import { MESSAGE_TYPE, messageBody, readMessage } from '../stack/message.js'
import { Waiter } from '../stack/waiter.js'

/** One session as the server application saw it. */
export interface ServedSession {
  duplex: SessionDuplex
  /** The client id, learnt from its first message. */
  client: number | undefined
  /** Messages the application read from this session (their seqs), in order. */
  received: number[]
  /** Messages the application wrote into it. */
  written: number
  /** Frames that were not well-formed test messages. */
  foreign: number
  readError?: Error
  writeError?: Error
  readDone: boolean
  writeDone: boolean
}

export interface SessionTestServerInit extends Omit<SessionServerInit, 'heartbeat'> {
  port?: number
  heartbeat?: Omit<HeartbeatInit, 'hello'>
  /** Messages the application writes into each session, once it knows the client. @default 0 */
  count?: number
  /** Body size of message `seq`, in bytes (at least 8). @default 64 */
  size?: (seq: number) => number
  /** Awaited before message `seq` is written, when it returns a promise (pacing). */
  before?: (seq: number) => Promise<void> | undefined
}

/**
 * A session server behind `@proto/transport`'s `listen`: its application records every message each
 * session delivers (the client's id is in each message) and writes `count` messages of its own into it.
 * `crash()` drops every connection and starts a new, empty server on the same port, as a restart that
 * loses every session would.
 */
export class SessionTestServer {
  readonly sessions: ServedSession[] = []
  readonly changed = new Waiter()
  server!: SessionServer
  tcp!: Server
  /** Servers replaced by `crash()`: their sessions' final ledgers are still readable. */
  readonly crashed: SessionServer[] = []
  private portNumber: number

  private constructor (private readonly init: SessionTestServerInit) {
    this.portNumber = init.port ?? 0
  }

  static async start (init: SessionTestServerInit = {}): Promise<SessionTestServer> {
    const s = new SessionTestServer(init)
    await s.listen()
    return s
  }

  get port (): number { return this.portNumber }

  /** Every message the application read from `client`, over all sessions, in order. */
  receivedFrom (client: number): number[] {
    return this.sessions.filter(s => s.client === client).flatMap(s => s.received)
  }

  /** Drops every connection at once (no GOAWAY) and listens again with a new, empty session server. */
  async crash (): Promise<void> {
    const old = this.server
    await this.tcp.close({ deadline: 0 })
    this.crashed.push(old)
    await this.listen()
  }

  async stop (): Promise<void> {
    this.server.abort(new Error('test server stopped'))
    for (const c of this.crashed) c.abort(new Error('test server stopped'))
    await this.tcp.close({ deadline: 0 })
  }

  private async listen (): Promise<void> {
    const { port: _port, count: _count, size: _size, before: _before, ...serverInit } = this.init
    const server = sessionServer(serverInit)
    server.addEventListener('session', (e) => { void this.serve(e.detail) })
    this.tcp = await listen({ host: '127.0.0.1', port: this.portNumber }, async (conn) => { await server.handle(conn) })
    this.server = server
    this.portNumber = (this.tcp.address as { port: number }).port
  }

  private async serve (duplex: SessionDuplex): Promise<void> {
    const s: ServedSession = { duplex, client: undefined, received: [], written: 0, foreign: 0, readDone: false, writeDone: false }
    this.sessions.push(s)
    let known!: (client: number) => void
    const client = new Promise<number>((resolve) => { known = resolve })
    const reading = (async () => {
      try {
        for await (const frame of duplex.source) {
          const m = frame.type === MESSAGE_TYPE ? readMessage(frame.body) : undefined
          if (m === undefined || (s.client !== undefined && m.client !== s.client)) { s.foreign++; continue }
          if (s.client === undefined) { s.client = m.client; known(m.client) }
          s.received.push(m.seq)
          this.changed.notify()
        }
      } catch (err) {
        s.readError = err as Error
      }
      s.readDone = true
      this.changed.notify()
    })()
    const init = this.init
    const messages = async function * (): AsyncGenerator<Frame> {
      const id = await client
      for (let seq = 0; seq < (init.count ?? 0); seq++) {
        const wait = init.before?.(seq)
        if (wait !== undefined) await wait
        s.written++
        yield { type: MESSAGE_TYPE, body: messageBody(id, seq, init.size?.(seq) ?? 64) }
      }
    }
    try {
      await duplex.sink(messages())
    } catch (err) {
      s.writeError = err as Error
    }
    s.writeDone = true
    this.changed.notify()
    await reading
  }
}
