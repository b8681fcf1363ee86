import { randomBytes } from 'node:crypto'
import { toError } from '@proto/interface'
import type { Redis } from 'ioredis'
import type { StoreOptions } from './options.js'
import { nodeChannel } from './record.js'

/** What the handover protocol needs from its store. */
export interface HandoverOwner {
  readonly nodeId: string
  readonly redis: Redis
  /** Hands the session over (final state persisted, released); whether it was done. */
  handOverTo(digestHex: string, to: string): Promise<boolean>
  /** The subscriber connection is subscribed (again), or lost. */
  listening(ready: boolean, err?: Error): void
}

/** A message on a node's channel. */
type Message =
  | { t: 'take', d: string, from: string, r: string }
  | { t: 'given', r: string, ok: boolean }

/**
 * The handover protocol over Redis pub/sub: each node listens on its own channel (on a connection of its
 * own, since a subscribed connection runs no other command). A node that gets a RESUME for a session held
 * by a live node publishes `take` on that node's channel and waits (at most `handoverTimeout`) for
 * `given`; the holder stops serving the session, persists its final state released, then answers.
 */
export class Handovers {
  private readonly sub: Redis
  private readonly waiting = new Map<string, (ok: boolean) => void>()
  private readonly counts = { requested: 0, given: 0, refused: 0, timedOut: 0 }
  private readonly channel: string

  constructor (private readonly owner: HandoverOwner, private readonly opts: StoreOptions) {
    this.channel = nodeChannel(opts.prefix, owner.nodeId)
    // a subscriber connection: offline queue on, so SUBSCRIBE waits for the connection; resubscribed after reconnects
    this.sub = owner.redis.duplicate({ enableOfflineQueue: true, autoResubscribe: true, enableAutoPipelining: false, commandTimeout: undefined })
    // errors while reconnecting: availability is reported through `listening` (close, then ready again)
    this.sub.on('error', () => {})
    this.sub.on('close', () => { this.subscribed = false; owner.listening(false) })
    this.sub.on('message', (_channel: string, text: string) => { this.message(text) })
    // subscribed once the connection is ready, and again after every reconnect (idempotent)
    this.sub.on('ready', () => { this.subscribe() })
    this.subscribe()
  }

  private subscribe (): void {
    this.sub.subscribe(this.channel).then(() => { this.subscribed = true; this.owner.listening(true) }, (err: unknown) => { this.owner.listening(false, toError(err)) })
  }

  /** Whether requests to this node can be heard now. */
  subscribed = false

  stats (): { requested: number, given: number, refused: number, timedOut: number } { return { ...this.counts } }

  /** Asks `holder` to hand over the session; resolves when it answered or `handoverTimeout` passed. */
  async request (holder: string, digestHex: string): Promise<boolean> {
    const r = randomBytes(8).toString('hex')
    this.counts.requested++
    let timer: NodeJS.Timeout | undefined
    const answered = new Promise<boolean>((resolve) => {
      this.waiting.set(r, resolve)
      timer = setTimeout(() => { this.counts.timedOut++; resolve(false) }, this.opts.handoverTimeout)
    })
    try {
      const msg: Message = { t: 'take', d: digestHex, from: this.owner.nodeId, r }
      await this.owner.redis.publish(nodeChannel(this.opts.prefix, holder), JSON.stringify(msg))
      return await answered
    } finally {
      clearTimeout(timer)
      this.waiting.delete(r)
    }
  }

  async close (): Promise<void> {
    for (const resolve of this.waiting.values()) resolve(false)
    this.waiting.clear()
    this.sub.disconnect()
  }

  private message (text: string): void {
    let msg: Message
    try {
      msg = JSON.parse(text) as Message
    } catch {
      return
    }
    if (msg.t === 'given') {
      this.waiting.get(msg.r)?.(msg.ok)
      return
    }
    if (msg.t !== 'take' || typeof msg.d !== 'string' || typeof msg.from !== 'string') return
    this.owner.handOverTo(msg.d, msg.from).then((ok) => {
      if (ok) this.counts.given++
      else this.counts.refused++
      const reply: Message = { t: 'given', r: msg.r, ok }
      return this.owner.redis.publish(nodeChannel(this.opts.prefix, msg.from), JSON.stringify(reply))
    }).catch((err: unknown) => { void toError(err) })
  }
}
