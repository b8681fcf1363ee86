import type { Frame } from '@proto/codec'
import { codec, encodeGoAway, FrameType, GoAwayCode } from '@proto/codec'
import { heartbeat } from '@proto/heartbeat'
import type { Server } from '@proto/transport'
import { listen } from '@proto/transport'
import { Mailbox } from './mailbox.js'
import { ChatType, frame, text } from './protocol.js'

export interface ChatServerInit {
  /** Heartbeat ping interval, ms. @default 5000 */
  heartbeatInterval?: number
  /** Declare a member gone after this long without a byte from it, ms. @default 15000 */
  heartbeatTimeout?: number
  /** Disconnect a member that said nothing (no JOIN or SAY) for this long, with GOAWAY IDLE_TIMEOUT, ms. @default 300000 */
  idleTimeout?: number
  /** Broadcast lines queued per member before it is dropped as too slow. @default 256 */
  maxQueued?: number
}

/** A member: a joined connection of the registry, with its outbox. */
export interface Member {
  id: string
  name: string
}

export interface ChatServer {
  readonly port: number
  /** The transport's registry: every live connection, joined or not. */
  readonly server: Server
  /** Joined members by connection id. */
  readonly members: ReadonlyMap<string, Member>
  /** Every line broadcast, in order (for tests and logs). */
  readonly log: string[]
  /** Called with each broadcast line. */
  onLine?: (line: string) => void
  close(): Promise<void>
}

interface Live extends Member {
  outbox: Mailbox<Frame>
}

/**
 * A chat server: transport `listen` → codec → heartbeat per connection. Every SAY is broadcast to all
 * members; joins and departures are announced with the reason (left, idle, vanished without a FIN, too slow).
 */
export async function startChatServer (init: ChatServerInit = {}): Promise<ChatServer> {
  const hb = { interval: init.heartbeatInterval ?? 5_000, timeout: init.heartbeatTimeout ?? 15_000 }
  const idleTimeout = init.idleTimeout ?? 300_000
  const maxQueued = init.maxQueued ?? 256
  const members = new Map<string, Live>()
  const log: string[] = []

  const broadcast = (line: string): void => {
    log.push(line)
    chat.onLine?.(line)
    for (const m of members.values()) {
      if (!m.outbox.push(frame(ChatType.MESSAGE, line))) m.outbox.end() // too slow: finish it off
    }
  }

  const server = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => {
    const link = heartbeat(codec(conn), hb)
    const outbox = new Mailbox<Frame>(maxQueued)
    const sending = link.sink(outbox).catch(() => {}) // fails only with the connection, handled below
    let member: Live | undefined
    let reason = 'left'
    // one re-armed timer per member: kick it when it said nothing for idleTimeout
    let lastSaid = performance.now()
    let idle: NodeJS.Timeout | undefined
    const checkIdle = (): void => {
      const quiet = performance.now() - lastSaid
      if (quiet < idleTimeout) { idle = setTimeout(checkIdle, idleTimeout - quiet).unref(); return }
      reason = 'idle'
      outbox.push({ type: FrameType.GOAWAY, body: encodeGoAway({ code: GoAwayCode.IDLE_TIMEOUT, reason: 'idle' }) })
      outbox.end() // half-close; the client answers with its FIN
    }
    idle = setTimeout(checkIdle, idleTimeout).unref()
    try {
      for await (const f of link.source) {
        lastSaid = performance.now()
        if (f.type === ChatType.JOIN && member === undefined) {
          member = { id: conn.id, name: text(f), outbox }
          members.set(conn.id, member)
          broadcast(`* ${member.name} joined`)
        } else if (f.type === ChatType.SAY && member !== undefined) {
          broadcast(`${member.name}: ${text(f)}`)
        }
      }
    } catch (err) {
      reason = (err as Error).name === 'HeartbeatTimeoutError' ? 'vanished (no FIN, heartbeat timeout)' : `dropped (${(err as Error).name})`
      link.abort(err as Error)
    } finally {
      clearTimeout(idle)
      members.delete(conn.id)
      outbox.end()
      if (member !== undefined) broadcast(`* ${member.name} ${reason}`)
    }
    await sending
    await link.close().catch(() => {})
  })

  // Handlers run on socket events, never before this statement: `broadcast` may refer to `chat`.
  const chat: ChatServer = {
    port: (server.address as { port: number }).port,
    server,
    members,
    log,
    close: async () => { await server.close({ deadline: 1_000 }) }
  }
  return chat
}
