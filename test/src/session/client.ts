import type { Frame } from '@proto/codec'
import type { HeartbeatInit } from '@proto/heartbeat'
import type { LostPolicy, SessionClientInit, SessionDuplex } from '@proto/session'
import { sessionClient } from '@proto/session'
import { connect } from '@proto/transport'
import { MESSAGE_TYPE, messageBody, readMessage } from '../stack/message.js'
import { Waiter } from '../stack/waiter.js'

export interface SessionTestClientInit {
  /** Client id written into every message. */
  id: number
  port: number
  /** Messages to send. */
  count: number
  /** Body size of message `seq`, in bytes (at least 8). @default 64 */
  size?: (seq: number) => number
  /** Awaited before message `seq` is produced, when it returns a promise (pacing). */
  before?: (seq: number) => Promise<void> | undefined
  heartbeat?: Omit<HeartbeatInit, 'hello'>
  session?: Omit<SessionClientInit, 'heartbeat' | 'onLost'>
  onLost?: LostPolicy
}

/**
 * A session client on real TCP: streams `count` test messages through one session and records, in
 * order, every message the server's application sent it, and every `session-lost` report.
 */
export class SessionTestClient {
  readonly session: SessionDuplex
  /** Seqs of the server's messages, in the order the application read them. */
  readonly received: number[] = []
  foreign = 0
  readError: Error | undefined
  writeError: Error | undefined
  readonly lost: Array<{ reason: string, unconfirmed: number }> = []
  readonly changed = new Waiter()
  produced = 0
  private sending: Promise<void> | undefined
  private reading: Promise<void> | undefined

  constructor (readonly init: SessionTestClientInit) {
    this.session = sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port: init.port }, { signal }), {
      ...(init.heartbeat !== undefined ? { heartbeat: init.heartbeat } : {}),
      ...(init.onLost !== undefined ? { onLost: init.onLost } : {}),
      ...init.session
    })
    this.session.addEventListener('session-lost', (e) => { this.lost.push(e.detail); this.changed.notify() })
    for (const type of ['connected', 'disconnected', 'closed'] as const) this.session.addEventListener(type, () => { this.changed.notify() })
    this.reading = this.readAll()
  }

  /** Starts writing the messages; resolves once all were handed down (the sink resolved). */
  send (): Promise<void> {
    this.sending ??= this.session.sink(this.messages()).catch((err: unknown) => { this.writeError = err as Error })
    return this.sending
  }

  /** Resolves once the server's stream has ended (or failed) here. */
  async read (): Promise<void> { await this.reading }

  async close (): Promise<void> {
    await this.session.close()
    await this.reading
  }

  private async* messages (): AsyncGenerator<Frame> {
    const { id, count } = this.init
    for (let seq = 0; seq < count; seq++) {
      const wait = this.init.before?.(seq)
      if (wait !== undefined) await wait
      this.produced = seq + 1
      yield { type: MESSAGE_TYPE, body: messageBody(id, seq, this.init.size?.(seq) ?? 64) }
    }
  }

  private async readAll (): Promise<void> {
    try {
      for await (const frame of this.session.source) {
        const m = frame.type === MESSAGE_TYPE ? readMessage(frame.body) : undefined
        if (m === undefined || m.client !== this.init.id) this.foreign++
        else this.received.push(m.seq)
        this.changed.notify()
      }
    } catch (err) {
      this.readError = err as Error
    }
    this.changed.notify()
  }
}
