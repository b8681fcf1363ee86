import type { Frame } from '@proto/codec'
import type { SessionDuplex } from '@proto/session'
import { sessionClient } from '@proto/session'
import { connect } from '@proto/transport'
import { lineLog } from './line-log.js'
import { Mailbox } from './mailbox.js'
import { ChatType, frame, text } from './protocol.js'

export interface SessionChatClient {
  readonly name: string
  readonly session: SessionDuplex
  /** Room lines received, each once, in the room's order. */
  readonly lines: string[]
  /** Lines received again (after the member moved between nodes) and dropped by id. */
  readonly duplicates: number
  say(line: string): void
  /** Resolves with the first received line (past or future) that matches. */
  waitFor(match: (line: string) => boolean): Promise<string>
  /** Leaves the room: ends the session. */
  leave(): Promise<void>
}

/**
 * Joins a chat fleet: one session (it resumes on whichever node `target.port` names when it reconnects)
 * whose first item is JOIN. Lines carry their room id (`node:seq`); an id already seen is dropped, so a
 * member handed to another node sees every line once.
 */
export function joinSessionChat (target: { host?: string, port: number }, name: string): SessionChatClient {
  const session = sessionClient(async ({ signal }) => await connect({ host: target.host ?? '127.0.0.1', port: target.port }, { signal }), { initialDelay: 20, maxDelay: 500 })
  const outbox = new Mailbox<Frame>(1_024)
  outbox.push(frame(ChatType.JOIN, name))
  session.sink(outbox).catch(() => {})
  const log = lineLog()
  const seen = new Map<string, number>() // node → highest seq seen (each node's ids grow in the room's order)
  let duplicates = 0
  void (async () => {
    for await (const f of session.source) {
      if (f.type !== ChatType.MESSAGE) continue
      const body = text(f)
      const space = body.indexOf(' ')
      const id = body.slice(0, space)
      const colon = id.lastIndexOf(':')
      const node = id.slice(0, colon)
      const n = Number(id.slice(colon + 1))
      if (n <= (seen.get(node) ?? 0)) { duplicates++; continue }
      seen.set(node, n)
      log.add(body.slice(space + 1))
    }
  })().catch(() => {})
  return {
    name,
    session,
    lines: log.lines,
    get duplicates () { return duplicates },
    say: (line) => { outbox.push(frame(ChatType.SAY, line)) },
    waitFor: log.waitFor,
    leave: async () => {
      outbox.end()
      await session.close()
    }
  }
}
