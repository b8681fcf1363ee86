import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import type { HeartbeatDuplex, HeartbeatInit } from '@proto/heartbeat'
import { heartbeat } from '@proto/heartbeat'
import type { DurableDuplex, ReconnectInit } from '@proto/reconnect'
import { reconnect } from '@proto/reconnect'
import { connect } from '@proto/transport'
import type { LedgerInput } from './ledger.js'
import { MESSAGE_TYPE, messageBody, readMessage } from './message.js'
import { Waiter } from './waiter.js'

/** One connection the durable duplex made, in order. */
export interface ClientConnection {
  link: HeartbeatDuplex
  /** The dial attempt that made it. */
  attempt: number
  /** The durable duplex took it into use (`connected` event); abandoned dials stay `false`. */
  connected: boolean
  /** Items handed to it, once it was reported lost (`disconnected.handed`). */
  lostHanded?: number
  /** Error name the loss was reported with. */
  lostWith?: string | undefined
  timeouts: number
}

export interface StackClientInit {
  /** Client id written into every message. */
  id: number
  host?: string
  port: number
  /** Messages to send. */
  count: number
  /** Body size of message `seq`, in bytes (at least 8). @default 64 */
  size?: (seq: number) => number
  /** Awaited before message `seq` is produced, when it returns a promise (gates, pacing). */
  before?: (seq: number) => Promise<void> | undefined
  heartbeat?: HeartbeatInit
  reconnect?: ReconnectInit<Frame>
  /** Read the durable source (echoes, server data) from the start. @default true */
  read?: boolean
}

/**
 * A full-stack client: reconnect(heartbeat(codec(connect()))). Streams `count` test messages through one
 * durable sink, reads whatever comes back, and records every connection it made and how each ended, so a
 * ledger can be checked against what the server received.
 */
export class StackClient {
  readonly durable: DurableDuplex<Frame>
  readonly connections: ClientConnection[] = []
  /** Messages read from the durable source, in order. */
  readonly inbound: number[] = []
  /** Frames read that were not this client's well-formed messages. */
  foreignInbound = 0
  /** What the durable source failed with, if it failed. */
  readError: Error | undefined
  readonly changed = new Waiter()
  produced = 0
  private sinking: Promise<void> | undefined
  private reading: Promise<void> | undefined

  constructor (readonly init: StackClientInit) {
    const hbInit = init.heartbeat ?? {}
    this.durable = reconnect<Frame>(async ({ attempt, signal }) => {
      const conn = await connect({ host: init.host ?? '127.0.0.1', port: init.port }, { signal })
      const link = heartbeat(codec(conn), hbInit)
      const record: ClientConnection = { link, attempt, connected: false, timeouts: 0 }
      link.addEventListener('timeout', () => { record.timeouts++; this.changed.notify() })
      this.connections.push(record)
      return link
    }, init.reconnect ?? {})
    this.durable.addEventListener('disconnected', (event) => {
      const current = this.used[this.used.length - 1]
      if (current !== undefined) {
        current.lostHanded = event.detail.handed
        current.lostWith = event.detail.error?.name
      }
      this.changed.notify()
    })
    this.durable.addEventListener('connected', (event) => {
      const record = this.connections.findLast(c => !c.connected && c.attempt === event.detail.attempt)
      if (record !== undefined) record.connected = true
      this.changed.notify()
    })
    if (init.read ?? true) void this.startReading()
  }

  /** The connections the durable duplex used, in order. */
  get used (): ClientConnection[] {
    return this.connections.filter(c => c.connected)
  }

  /** Whether the last message is accounted for: delivered (per `delivered`), or handed to a lost connection. */
  settled (delivered: (seq: number) => boolean): boolean {
    const stats = this.durable.stats()
    if (stats.handed + stats.dropped + stats.unsent < this.init.count) return false
    if (delivered(this.init.count - 1)) return true
    const lost = this.used.reduce((n, c) => n + (c.lostHanded ?? 0), 0)
    return lost === stats.handed
  }

  /** This client's side of the ledger, to check with `checkLedger` against the server's arrivals. */
  ledger (): Omit<LedgerInput, 'arrivals'> {
    const stats = this.durable.stats()
    return {
      count: this.init.count,
      connections: this.used.map(c => ({ handed: c.lostHanded, lost: c.lostHanded !== undefined })),
      stats: { handed: stats.handed, unconfirmed: stats.unconfirmed, unsent: stats.unsent, dropped: stats.dropped, flushed: stats.flushed },
      echoes: this.inbound
    }
  }

  /** Heartbeat timeouts over every connection. */
  get timeouts (): number {
    return this.connections.reduce((n, c) => n + c.timeouts, 0)
  }

  /** The live connection's heartbeat stage, if any. */
  get link (): HeartbeatDuplex | undefined {
    return this.used[this.used.length - 1]?.link
  }

  /** Starts the durable sink with the `count` messages; resolves when it resolves. */
  send (): Promise<void> {
    this.sinking ??= this.durable.sink(this.messages())
    return this.sinking
  }

  /** Starts reading the durable source (if `read: false` was given). */
  startReading (): Promise<void> {
    this.reading ??= this.readAll()
    return this.reading
  }

  /** Closes the durable duplex and waits for the reader to finish. */
  async close (): Promise<void> {
    await this.durable.close()
    await this.reading
  }

  private async* messages (): AsyncGenerator<Frame> {
    const { id, count } = this.init
    const size = this.init.size ?? (() => 64)
    for (let seq = 0; seq < count; seq++) {
      const wait = this.init.before?.(seq)
      if (wait !== undefined) await wait
      this.produced = seq + 1
      yield { type: MESSAGE_TYPE, body: messageBody(id, seq, size(seq)) }
    }
  }

  private async readAll (): Promise<void> {
    try {
      for await (const frame of this.durable.source) {
        const m = frame.type === MESSAGE_TYPE ? readMessage(frame.body) : undefined
        if (m === undefined || m.client !== this.init.id) this.foreignInbound++
        else this.inbound.push(m.seq)
        this.changed.notify()
      }
    } catch (err) {
      this.readError = err as Error
    }
    this.changed.notify()
  }
}
