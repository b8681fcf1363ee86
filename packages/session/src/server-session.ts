import type { Frame } from '@proto/codec'
import type { Clock, Logger, TimerHandle, Timers } from '@proto/interface'
import { raceSignal } from '@proto/interface'
import type { DialContext } from '@proto/reconnect'
import type { AckPolicy } from './acks.js'
import { SessionConnection } from './connection.js'
import { SessionEndpoint } from './endpoint.js'
import { SessionTakenOverError } from './errors.js'
import type { CommonOptions } from './options.js'
import type { Credentials } from './registry.js'
import { SessionState } from './state.js'
import type { SessionFrames } from './types.js'
import type { Resume } from './wire.js'

/** A connection that presented a valid RESUME for this session, waiting to be taken into use. */
export interface Attach {
  lower: SessionFrames
  leftover: Frame[]
  resume: Resume
  /** The token to answer with (the client's own, or a new session's). */
  token: Uint8Array
}

/** What a session needs from its server. */
export interface ServerSessionOwner {
  readonly common: CommonOptions
  readonly ttl: number
  readonly clock: Clock
  readonly timers: Timers
  readonly log: Logger
  /** The session ended (closed, expired, aborted): forget it. */
  ended(session: ServerSession): void
  /** The session expired. */
  expired(session: ServerSession): void
}

/**
 * One session on the server: a durable duplex whose "dial" waits for the next connection that resumes
 * this session, so retention, replay, counters, events and the ledger are the same code as a client's.
 * A resume while a connection is live takes over: reconnect drops the old connection at once (its epoch
 * is fenced, it is sent GOAWAY `SESSION_TAKEN_OVER`) and dials, which takes the new one.
 */
export class ServerSession {
  readonly endpoint: SessionEndpoint
  readonly digest: Buffer
  readonly id: string
  /** `clock.now()` when the server detected the loss of the last connection; `undefined` while connected. */
  detachedAt: number | undefined
  private pending: Attach | undefined
  private waiter: ((attach: Attach) => void) | undefined
  private expiry: TimerHandle | undefined
  private live = false

  constructor (private readonly owner: ServerSessionOwner, credentials: Credentials) {
    this.digest = credentials.digest
    this.id = credentials.id
    const common = owner.common
    const state = new SessionState('server', common.params)
    state.id = credentials.id
    state.idBytes = credentials.idBytes
    this.endpoint = new SessionEndpoint({
      state,
      log: owner.log,
      onLost: 'fail',
      dial: async ctx => await this.dial(ctx),
      link: {
        ...common.link,
        // the "dial" waits for the client: no deadline but the session's ttl, no backoff to speak of
        connectTimeout: Infinity,
        maxRetryTime: Infinity,
        minStableTime: 0,
        initialDelay: 1,
        maxDelay: 1,
        jitter: 'none',
        shouldRetry: () => true
      }
    })
    const link = this.endpoint.link
    link.addEventListener('connected', () => { this.attached() })
    link.addEventListener('disconnected', () => { this.detached() })
    link.addEventListener('closed', () => {
      this.expiry?.cancel()
      this.refusePending()
      this.owner.ended(this)
    })
  }

  get state (): SessionState { return this.endpoint.state }

  /** Whether the session has been disconnected for longer than its ttl. */
  expiredAt (now: number): boolean {
    return this.detachedAt !== undefined && now - this.detachedAt >= this.owner.ttl
  }

  /** A connection resumed this session: it replaces the live one, if any. */
  attach (attach: Attach): void {
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      waiter(attach)
      return
    }
    this.refusePending()
    this.pending = attach
    if (this.live) this.endpoint.link.reconnect(new SessionTakenOverError())
  }

  /** Ends the session as expired: the unacknowledged items are counted and the application told. */
  expire (): void {
    this.expiry?.cancel()
    this.owner.expired(this)
    this.endpoint.lost({ reason: 'expired', message: `it was disconnected for longer than its ttl (${this.owner.ttl} ms)` })
  }

  /** Ends the session to make room for a new one (the registry is full and this one is detached). */
  evict (): void {
    this.expiry?.cancel()
    this.endpoint.lost({ reason: 'evicted', message: 'the server needed room for a new session while this one was disconnected (maxSessions reached)' })
  }

  private async dial (ctx: DialContext): Promise<SessionConnection> {
    let attach = this.pending
    this.pending = undefined
    attach ??= await raceSignal(new Promise<Attach>((resolve) => { this.waiter = resolve }), ctx.signal).finally(() => { this.waiter = undefined })
    return new SessionConnection({
      state: this.state,
      ctx,
      lower: attach.lower,
      iterator: attach.lower.source,
      leftover: attach.leftover,
      peer: attach.resume,
      token: attach.token,
      acks: this.owner.common.acks as AckPolicy,
      timers: this.owner.timers,
      log: this.owner.log,
      lost: loss => this.endpoint.lost(loss),
      ending: () => this.endpoint.ending()
    })
  }

  private attached (): void {
    this.live = true
    this.detachedAt = undefined
    this.expiry?.cancel()
    this.expiry = undefined
  }

  private detached (): void {
    this.live = false
    this.detachedAt = this.owner.clock.now()
    this.expiry?.cancel()
    this.expiry = this.owner.timers.setTimeout(() => { this.expire() }, this.owner.ttl)
  }

  private refusePending (): void {
    const p = this.pending
    this.pending = undefined
    p?.lower.abort(new SessionTakenOverError('A newer connection resumed this session before this one was taken into use'))
  }
}
