import type { Frame } from '@proto/codec'
import type { SessionDuplex, SessionServer } from '@proto/session'
import { sessionClient, sessionServer } from '@proto/session'
import type { Server } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import type { RedisStore, RedisStoreInit } from '../src/index.js'
import { redisStore } from '../src/index.js'

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
export const dec = (f: Frame): string => new TextDecoder().decode(f.body)
export const item = (s: string): Frame => ({ type: 0x40, body: enc(s) })

/** One node: a Redis store, a session server whose application answers `c<i>` with `s<i>`, a TCP listener. */
export interface Node {
  name: string
  store: RedisStore
  server: SessionServer
  tcp: Server
  port: number
  /** What this node's application took, in order. */
  took: string[]
  sessions: SessionDuplex[]
  close(): Promise<void>
}

/** The default application: answers each `c<i>` with `s<i>`, and ends its writing when the client's ends. */
function answering (session: SessionDuplex, took: string[]): void {
  const answers = async function * (): AsyncGenerator<Frame> {
    for await (const f of session.source) {
      const text = dec(f)
      took.push(text)
      yield item(`s${text.slice(1)}`)
    }
  }
  session.sink(answers()).catch(() => {})
}

export async function startNode (name: string, url: string, init: RedisStoreInit = {}, app: (session: SessionDuplex, took: string[]) => void = answering): Promise<Node> {
  const store = redisStore({ redis: url, prefix: 'test:', handoverTimeout: 1_000, nodeTtl: 600, ...init })
  await store.ready()
  const server = sessionServer({ ttl: 30_000, store, heartbeat: { interval: 200, timeout: 2_000 } })
  const took: string[] = []
  const sessions: SessionDuplex[] = []
  server.addEventListener('session', ({ detail: session }) => {
    sessions.push(session)
    app(session, took)
  })
  const tcp = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await server.handle(conn) })
  const port = (tcp.address as { port: number }).port
  return {
    name,
    store,
    server,
    tcp,
    port,
    took,
    sessions,
    close: async () => {
      server.abort(new Error('test over'))
      await tcp.close({ deadline: 500 })
      await store.close()
    }
  }
}

/** A session client whose next dial goes to `target.port` (change it to move the client). */
export function movingClient (target: { port: number }): SessionDuplex {
  return sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port: target.port }, { signal }), {
    initialDelay: 10,
    maxDelay: 100,
    heartbeat: { interval: 200, timeout: 2_000 }
  })
}
