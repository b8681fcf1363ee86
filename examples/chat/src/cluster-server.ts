import type { Frame } from '@proto/codec'
import type { SessionDuplex, SessionServer } from '@proto/session'
import { sessionServer } from '@proto/session'
import type { RedisStore, RedisStoreInit } from '@proto/session-redis'
import { redisStore } from '@proto/session-redis'
import type { Server } from '@proto/transport'
import { listen } from '@proto/transport'
import { Redis } from 'ioredis'
import { Mailbox } from './mailbox.js'
import { ChatType, frame, text } from './protocol.js'

export interface ChatNodeInit {
  /** Redis for the session store and the room's pub/sub, e.g. `redis://127.0.0.1:6379`. */
  redis: string
  /** Port to listen on (0: any). @default 0 */
  port?: number
  /** The room (a pub/sub channel). @default 'lobby' */
  room?: string
  /** Room lines each node keeps to catch up a member that moved here; also each member's outbox bound (a member this far behind is closed). @default 1024 */
  history?: number
  /** Options of the Redis session store (prefix, persistInterval …). */
  store?: Omit<RedisStoreInit, 'redis'>
}

export interface ChatNode {
  readonly port: number
  readonly store: RedisStore
  readonly sessions: SessionServer
  /** Members served by this node, by session id. */
  readonly members: ReadonlyMap<string, string>
  /** Every room line this node saw, in the room's order (the same on every node). */
  readonly log: string[]
  /** Errors from the room's Redis connections (ioredis reconnects with backoff) and lines that could not be published. */
  readonly redisErrors: number
  readonly lastRedisError: Error | undefined
  close(): Promise<void>
}

interface Line { id: string, line: string }

/**
 * A chat node for a fleet: members hold sessions (`@proto/session` on a Redis store), and every line goes
 * through the room's Redis pub/sub channel, so members on different nodes see each other. A member whose
 * client lands on another node is handed over with its session; the new node sends it the room's lines
 * after the member's cursor (a session attribute), and the client drops ids it has, so nothing is missed
 * and nothing is shown twice.
 */
export async function startChatNode (init: ChatNodeInit): Promise<ChatNode> {
  const room = init.room ?? 'lobby'
  const keep = init.history ?? 1024
  const store = redisStore({ ...init.store, redis: init.redis })
  await store.ready()
  const channel = `${init.store?.prefix ?? 'proto:'}chat:${room}`
  const pub = new Redis(init.redis, { lazyConnect: true })
  const sub = new Redis(init.redis, { lazyConnect: true })
  let redisErrors = 0
  let lastRedisError: Error | undefined
  const failed = (err: unknown): void => {
    redisErrors++
    lastRedisError = err instanceof Error ? err : new Error(String(err))
  }
  for (const r of [pub, sub]) r.on('error', failed) // ioredis reconnects with backoff; the node counts what it saw
  await Promise.all([pub.connect(), sub.connect()])
  const history: Line[] = []
  const log: string[] = []
  const outboxes = new Map<string, Mailbox<Line>>()
  const members = new Map<string, string>()
  let seq = 0

  sub.on('message', (_channel: string, json: string) => {
    const l = JSON.parse(json) as Line
    history.push(l)
    if (history.length > keep) history.shift()
    log.push(l.line)
    for (const box of outboxes.values()) if (!box.push(l)) box.end() // too slow: finish it off
  })
  await sub.subscribe(channel)
  // a line that cannot be published (Redis away) is counted in redisErrors, and the member stays
  const say = async (line: string): Promise<void> => { await pub.publish(channel, JSON.stringify({ id: `${store.nodeId}:${++seq}`, line })).catch(failed) }

  const serve = (session: SessionDuplex): void => {
    const id = session.id ?? ''
    const box = new Mailbox<Line>(keep)
    // what this member gets: the room's lines after its cursor, moved with the session between nodes
    const out = async function * (): AsyncGenerator<Frame> {
      for await (const l of box) {
        yield frame(ChatType.MESSAGE, `${l.id} ${l.line}`)
        session.setAttribute('cursor', l.id) // taken by the session: it travels with it from now on
      }
    }
    session.sink(out()).catch(() => {})
    const joined = (name: string): void => {
      members.set(id, name)
      outboxes.set(id, box)
      const cursor = session.getAttribute('cursor')
      const at = cursor === undefined ? -1 : history.findIndex(l => l.id === cursor)
      for (const l of history.slice(at + 1)) box.push(l)
    }
    let moved = false
    session.addEventListener('moved', () => { moved = true })
    const name = session.getAttribute('name')
    if (name !== undefined) joined(name) // handed over from another node: already a member
    void (async () => {
      try {
        for await (const f of session.source) {
          if (f.type === ChatType.JOIN && !members.has(id)) {
            session.setAttribute('name', text(f))
            session.setAttribute('cursor', history.at(-1)?.id ?? '')
            joined(text(f))
            await say(`* ${text(f)} joined`)
          } else if (f.type === ChatType.SAY && members.has(id)) {
            await say(`${members.get(id) ?? ''}: ${text(f)}`)
          }
        }
      } catch {
        // the session ended (closed, expired, aborted, moved): its own events and stats report how
      } finally {
        const who = members.get(id)
        members.delete(id)
        outboxes.delete(id)
        box.end()
        // a member that moved to another node did not leave
        if (who !== undefined && !moved) await say(`* ${who} left`)
      }
    })()
  }

  const sessions = sessionServer({ store, ttl: 30_000 })
  sessions.addEventListener('session', ({ detail }) => { serve(detail) })
  const tcp: Server = await listen({ host: '127.0.0.1', port: init.port ?? 0 }, async (conn) => { await sessions.handle(conn) })
  return {
    port: (tcp.address as { port: number }).port,
    store,
    sessions,
    members,
    log,
    get redisErrors () { return redisErrors },
    get lastRedisError () { return lastRedisError },
    close: async () => {
      sessions.abort(new Error('the chat node is closing'))
      await tcp.close({ deadline: 1_000 })
      await store.close()
      pub.disconnect()
      sub.disconnect()
    }
  }
}
