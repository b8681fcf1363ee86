import type { Frame } from '@proto/codec'
import type { Server } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import type { SessionClientInit, SessionDuplex, SessionServer, SessionServerInit } from '../../src/index.js'
import { sessionClient, sessionServer } from '../../src/index.js'

/** `[u32be n]` as a DATA frame body. */
export function item (n: number, size = 4): Frame {
  const body = new Uint8Array(Math.max(4, size))
  new DataView(body.buffer).setUint32(0, n)
  return { type: 0x40, body }
}

export function num (frame: Frame): number {
  return new DataView(frame.body.buffer, frame.body.byteOffset, frame.body.byteLength).getUint32(0)
}

export interface Harness {
  server: SessionServer
  tcp: Server
  port: number
  sessions: SessionDuplex[]
  client(init?: SessionClientInit, port?: number): SessionDuplex
  close(): Promise<void>
}

/** A session server behind `@proto/transport`'s `listen`, whose sessions `serve` runs. */
export async function harness (serve: (session: SessionDuplex) => void, init: SessionServerInit = {}): Promise<Harness> {
  const server = sessionServer(init)
  const sessions: SessionDuplex[] = []
  server.addEventListener('session', (event) => {
    sessions.push(event.detail)
    serve(event.detail)
  })
  const tcp = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await server.handle(conn) })
  const port = (tcp.address as { port: number }).port
  const clients: SessionDuplex[] = []
  return {
    server,
    tcp,
    port,
    sessions,
    client (clientInit = {}, to = port) {
      const c = sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port: to }, { signal }), { initialDelay: 5, maxDelay: 50, ...clientInit })
      clients.push(c)
      return c
    },
    async close () {
      for (const c of clients) c.abort(new Error('test over'))
      server.abort(new Error('test over'))
      await tcp.close({ deadline: 100 })
    }
  }
}

/** The server application of most tests: echoes every item of a session back into it. */
export function echo (session: SessionDuplex): void {
  void session.sink(session.source).catch(() => {})
}
