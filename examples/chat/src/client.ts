import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import type { HeartbeatDuplex } from '@proto/heartbeat'
import { GoAwayError, heartbeat } from '@proto/heartbeat'
import { connect } from '@proto/transport'
import { lineLog } from './line-log.js'
import { Mailbox } from './mailbox.js'
import { ChatType, frame, text } from './protocol.js'

export interface ChatClientInit {
  host?: string
  port: number
  name: string
  /** @default 5000 */
  heartbeatInterval?: number
  /** @default 15000 */
  heartbeatTimeout?: number
}

export interface ChatClient {
  readonly name: string
  readonly link: HeartbeatDuplex
  /** Lines received so far. */
  readonly lines: string[]
  /** Called with each line received. */
  onLine?: (line: string) => void
  say(line: string): void
  /** Resolves with the first received line (past or future) that matches. */
  waitFor(match: (line: string) => boolean): Promise<string>
  /** Stop writing (FIN) and wait for the server to finish. */
  leave(): Promise<void>
  /** Resolves when the connection is over: `undefined` after a clean end, else the error (e.g. HeartbeatTimeoutError). */
  readonly done: Promise<Error | undefined>
}

/** Joins a chat server: connect → codec → heartbeat, then a JOIN frame with `name`. */
export async function joinChat (init: ChatClientInit): Promise<ChatClient> {
  const link = heartbeat(codec(await connect({ host: init.host ?? '127.0.0.1', port: init.port })), {
    interval: init.heartbeatInterval ?? 5_000,
    timeout: init.heartbeatTimeout ?? 15_000
  })
  const outbox = new Mailbox<Frame>(1_024)
  // the sink fails only together with the connection; `reading` reports that error
  const sending = link.sink(outbox).then(() => undefined, (err: Error) => err)
  outbox.push(frame(ChatType.JOIN, init.name))
  const log = lineLog()
  const receive = (line: string): void => {
    log.add(line) // waiters resume in a later microtask, after onLine
    client.onLine?.(line)
  }
  const reading = (async (): Promise<Error | undefined> => {
    try {
      for await (const f of link.source) {
        if (f.type === ChatType.MESSAGE) receive(text(f))
      }
      outbox.end() // the server finished: finish too
      return await sending
    } catch (err) {
      outbox.end()
      if (err instanceof GoAwayError) {
        // the server said why (GOAWAY, e.g. IDLE_TIMEOUT) and half-closed: a clean end
        receive(`! server closed the connection: ${err.reason}`)
        return await sending
      }
      return err as Error
    }
  })()
  const client: ChatClient = {
    name: init.name,
    link,
    lines: log.lines,
    say: (line) => { outbox.push(frame(ChatType.SAY, line)) },
    waitFor: log.waitFor,
    leave: async () => {
      outbox.end()
      await reading
    },
    done: reading
  }
  return client
}
