/**
 * Server side of the Redis-store benchmark: one session server per worker process (a "node"), on the
 * memory store or on a Redis store. Its application: DATA frames are counted and END answered with the
 * tally (as the session benchmark's receiver); ECHO frames are sent back; a first frame DOWN asks the node
 * to stream `size`-byte frames to the client for `maxMs`, then END.
 */
import type { Frame } from '@proto/codec'
import type { SessionDuplex, SessionServer, SessionStore } from '@proto/session'
import { sessionServer } from '@proto/session'
import type { RedisStore, RedisStoreStats } from '@proto/session-redis'
import { redisStore } from '@proto/session-redis'
import type { Server } from '@proto/transport'
import { listen } from '@proto/transport'
import type { Tally } from '../lib/net-util.js'
import { encodeTally, HOST, seconds } from '../lib/net-util.js'
import { END } from '../lib/producers.js'
import { pushable } from '../lib/pushable.js'

export const DATA = 0x40
export const ECHO = 0x44
export const DOWN = 0x45

export interface NodeInit {
  /** `journal`: a durable store that keeps nothing and never holds an ACK, to measure the server's journal alone. */
  store: 'memory' | 'redis' | 'journal'
  url?: string
  prefix?: string
  persistInterval?: number
  /** Session ttl (ms), also the store's key ttl. */
  ttl?: number
}

export interface NodeStats {
  store: RedisStoreStats | undefined
  sessions: number
  /** CPU time this node process used so far (µs, user + system). */
  cpu: number
}

/** A durable store without I/O: the server journals what it writes, and its ACKs are never held. */
function journalOnlyStore (): SessionStore {
  return { durable: true, bind: () => {}, opened: (session) => { session.persisted(Infinity) }, changed: () => {}, restore: async () => undefined, ended: () => {}, close: async () => {} }
}

let node: { server: SessionServer, tcp: Server, store: RedisStore | undefined } | undefined

async function * down (size: number, maxMs: number): AsyncGenerator<Frame> {
  const body = new Uint8Array(size).fill(0x62)
  const deadline = seconds() + maxMs / 1000
  for (let n = 0; ; n++) {
    if ((n & 255) === 255 && seconds() > deadline) break
    yield { type: DATA, body }
  }
  yield { type: END, body: new Uint8Array(0) }
}

async function serve (session: SessionDuplex): Promise<void> {
  const it = session.source[Symbol.asyncIterator]()
  const first = await it.next()
  if (first.done === true) return
  if (first.value.type === DOWN) {
    const { size, maxMs } = JSON.parse(new TextDecoder().decode(first.value.body)) as { size: number, maxMs: number }
    const writing = session.sink(down(size, maxMs))
    writing.catch(() => {}) // fails with the session, as the source does
    for (let r = await it.next(); r.done !== true; r = await it.next()) { /* nothing else comes */ }
    await writing
    return
  }
  const replies = pushable<Frame>()
  const writing = session.sink(replies)
  writing.catch(() => {}) // fails with the session, as the source does
  const tally: Tally = { count: 0, bytes: 0 }
  try {
    for (let r: IteratorResult<Frame> = first; r.done !== true; r = await it.next()) {
      const f = r.value
      if (f.type === ECHO) {
        replies.push(f)
      } else if (f.type === END) {
        replies.push({ type: DATA, body: encodeTally(tally) })
        tally.count = tally.bytes = 0
      } else {
        tally.count++
        tally.bytes += f.body.byteLength
      }
    }
  } finally {
    replies.end()
  }
  await writing
}

async function close (): Promise<void> {
  const n = node
  node = undefined
  if (n === undefined) return
  await n.server.close()
  await n.tcp.close({ deadline: 1_000 })
  await n.store?.close()
}

export const nodeHandlers = {
  async listen (init: NodeInit): Promise<number> {
    await close()
    const ttl = init.ttl ?? 120_000
    const store = init.store === 'redis' ? redisStore({ ttl, ...(init.url !== undefined ? { redis: init.url } : {}), ...(init.prefix !== undefined ? { prefix: init.prefix } : {}), ...(init.persistInterval !== undefined ? { persistInterval: init.persistInterval } : {}) }) : undefined
    await store?.ready()
    const server = sessionServer({ ttl, ...(store !== undefined ? { store } : init.store === 'journal' ? { store: journalOnlyStore() } : {}) })
    server.addEventListener('session', (e) => { void serve(e.detail).catch(() => {}) }) // a session ends with an error when the bench closes it
    const tcp = await listen({ host: HOST, port: 0 }, async (conn) => { await server.handle(conn) })
    node = { server, tcp, store }
    return (tcp.address as { port: number }).port
  },
  stats (): NodeStats {
    const cpu = process.cpuUsage()
    return { store: node?.store?.stats(), sessions: node?.server.stats().sessions ?? 0, cpu: cpu.user + cpu.system }
  },
  close
}
