import type { Frame } from '@proto/codec'
import { GoAwayCode } from '@proto/codec'
import type { Clock, Logger, TimerHandle, Timers } from '@proto/interface'
import { raceSignal, validate } from '@proto/interface'
import type { DialContext, Reconnector, StatusEvent } from '@proto/reconnect'
import { reconnector } from '@proto/reconnect'
import type { Source } from 'it-stream-types'
import type { ConnectionSettings } from './connection.js'
import { SessionConnection } from './connection.js'
import { SessionGoAwayCode } from './constants.js'
import type { EndpointServer } from './endpoint.js'
import { SessionEndpoint } from './endpoint.js'
import { ServerShutDownError, SessionMovedError, SessionProtocolError, SessionTakenOverError } from './errors.js'
import { stageRefusal } from './goaway.js'
import { Journal } from './journal.js'
import type { CommonOptions } from './options.js'
import type { Credentials } from './registry.js'
import { SessionState } from './state.js'
import type { RestoredSession, SessionSnapshot, SessionStore, StoredSession } from './store.js'
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
  /** What every connection of the server's sessions shares. */
  readonly connections: ConnectionSettings
  /** Makes a session's link (`sessionLinks(common)`, shared by the server's sessions). */
  readonly links: Reconnector<Frame>
  readonly ttl: number
  readonly clock: Clock
  readonly timers: Timers
  readonly log: Logger
  /** The server is closing: no connection may resume a session any more. */
  readonly shuttingDown: boolean
  /** The session ended (closed, expired, aborted): forget it. */
  ended(session: ServerSession): void
  /** The session expired (`ended` follows once it has ended). */
  expired(session: ServerSession): void
  /** The session left this node through the store. */
  moved(session: ServerSession): void
  /** A connection of the session was closed for a protocol error (the session is kept, detached). */
  protocolError(session: ServerSession, err: Error): void
  /** A connection that resumed the session was replaced by a newer one before it was taken into use: tell it (GOAWAY `SESSION_TAKEN_OVER`) and close it. */
  takenOver(lower: SessionFrames): void
  /** A connection that opened or resumed the session is not taken into use (the session ended, or left): tell it why (GOAWAY `code`) and close it. */
  dismiss(lower: SessionFrames, code: number, message: string): void
  readonly store: SessionStore
}

/**
 * One session on the server: a durable duplex whose "dial" waits for the next connection that resumes
 * this session, so retention, replay, counters, events and the ledger are the same code as a client's.
 * A resume while a connection is live takes over: reconnect drops the old connection at once (its epoch
 * is fenced, it is sent GOAWAY `SESSION_TAKEN_OVER`) and dials, which takes the new one. A resume while
 * another waits to be taken (the link is between connections) takes over that one the same way.
 */
export class ServerSession implements StoredSession, EndpointServer {
  readonly endpoint: SessionEndpoint
  /**
   * The SHA-256 digest of the session's token in hex: the registry's key (the same string), and all the
   * session keeps of its token. `digest` is made from it when a store or a lookup needs the bytes.
   */
  readonly key: string
  readonly id: string
  /** With a durable store: every frame the application wrote and the peer has not acknowledged. */
  readonly journal: Journal | undefined
  /** Something changed since the store last took a snapshot. */
  private dirty = false
  private gone = false
  /** How it was lost here, if it was: detached for longer than `ttl`, or evicted to make room. */
  lostAs: 'expired' | 'evicted' | undefined
  /** It ended because it was detached for longer than `ttl`. */
  get expired (): boolean { return this.lostAs === 'expired' }
  /**
   * `clock.now()` when the server detected the loss of the last connection (or restored the session from a
   * store, before any connection was taken); `undefined` while connected.
   */
  detachedAt: number | undefined
  /** The application was told of the session (`session` event): a restored one, with its first connection. */
  announced = false
  private pending: Attach | undefined
  /** The link's dial, waiting for a connection: given one, or the error it ends with. */
  private waiter: ((attach: Attach | Error) => void) | undefined
  private expiry: TimerHandle | undefined
  private live = false

  constructor (private readonly owner: ServerSessionOwner, credentials: Credentials, restored?: RestoredSession) {
    this.key = credentials.digest.toString('hex')
    this.id = credentials.id
    const common = owner.common
    const state = new SessionState('server', common.params)
    state.id = credentials.id
    if (restored !== undefined) restoreState(state, restored)
    let sink: ((source: Source<Frame>) => Promise<void>) | undefined
    if (owner.store.durable) {
      const check = common.link.validate
      const journal = this.journal = new Journal({ get outAcked () { return state.outAcked }, changed: () => { this.changed() }, ...(check !== undefined ? { check } : {}) }, restored?.outAcked ?? 0, restored?.journal ?? [], restored?.endAt !== undefined)
      state.onChange = () => { this.changed() }
      state.onAckHeld = () => { if (!this.gone) owner.store.persistSoon?.(this) }
      // nothing is acknowledged before the store persisted it (the store lifts this while it is node-local)
      if (restored === undefined) state.ackLimit = 0
      // nor is our END sent, or the client's acknowledged, before the store has it (a restored session's copy has those it had)
      if (restored?.endAt === undefined) state.endPersisted = false
      if (restored?.inEnded !== true) state.peerEndPersisted = false
      sink = async (source) => {
        const bad = validate.sourceRefusal(source)
        if (bad !== undefined) throw bad
        journal.provide(source)
        await feeding
      }
    }
    this.endpoint = new SessionEndpoint({
      state,
      log: owner.log,
      onLost: 'fail',
      ...(sink !== undefined ? { sink } : {}),
      dial: this.dial.bind(this),
      link: owner.links
    })
    const link = this.endpoint.link
    this.endpoint.origin = restored?.origin ?? 'new'
    this.endpoint.server = this
    let feeding: Promise<void> = Promise.resolve()
    if (this.journal !== undefined) {
      for (const [k, v] of Object.entries(restored?.attributes ?? {})) this.endpoint.setAttribute(k, v)
      // the link drains the journal from now on: restored frames first, the application's when it writes
      feeding = link.sink(this.journal)
      feeding.catch(() => {})
    }
    // restored: detached until a connection is taken into use, and expired after ttl if none is
    if (restored !== undefined) this.detached()
  }

  get digest (): Buffer { return Buffer.from(this.key, 'hex') }

  // ---- what the endpoint tells it (EndpointServer) ------------------------------------------------------

  written (): number {
    if (this.journal !== undefined) return this.journal.written
    // what the link numbers, or will: not what it refused or gave up before numbering
    const l = this.endpoint.link.stats()
    return l.accepted - l.rejected - l.dropped - l.cleared
  }

  /** With a durable store, attributes are persisted with the session. */
  attributesChanged (): void {
    if (this.journal !== undefined) this.changed()
  }

  // ---- what a session store sees (StoredSession) -----------------------------------------------------

  snapshot (): SessionSnapshot {
    this.dirty = false
    const s = this.state
    return {
      id: this.id,
      idBytes: Buffer.from(this.id, 'hex'),
      digest: this.digest,
      outAcked: s.outAcked,
      outSent: s.outSent,
      received: s.received,
      endAt: s.endAt,
      endAcked: s.endAcked,
      peerEndAt: s.peerEndGen === s.gen ? s.peerEndAt : undefined,
      inEnded: s.inEnded,
      journal: this.journal?.pending() ?? [],
      attributes: this.endpoint.attributes(),
      ...(s.recovered ? { recovered: true } : {})
    }
  }

  persisted (received: number, snapshot?: SessionSnapshot): void {
    const s = this.state
    s.ackLimit = received
    if (received === Infinity || snapshot?.endAt !== undefined) s.endPersisted = true
    if (received === Infinity || snapshot?.inEnded === true) s.peerEndPersisted = true
    s.stage?.ackNow()
  }

  handOver (): SessionSnapshot {
    let snapshot: SessionSnapshot | undefined
    const handedOver = this.journal?.pending().length ?? 0
    this.leave(new SessionMovedError(`The session moved to another node through the session store, with ${handedOver} unacknowledged items written here`, { handedOver }), () => { snapshot = this.snapshot() })
    return snapshot ?? this.snapshot()
  }

  fenced (): void {
    if (this.gone) return
    this.leave(new SessionMovedError('Another node took this session over (the session store fenced this node); what was written here and not persisted did not go with it'), () => {})
  }

  /** Whether the session left this node (moved, fenced) or ended. */
  get left (): boolean { return this.gone }

  /**
   * A restored session whose client has more than the store's copy (the node before died after sending
   * it): what the client has up to `position` was delivered; carry on from there.
   */
  skipTo (position: number): void {
    const s = this.state
    if (position <= s.outSent) return
    this.journal?.skipTo(position)
    s.outSent = position
    s.outAcked = position
  }

  private leave (err: SessionMovedError, snapshot: () => void): void {
    if (this.gone) throw new SessionMovedError('The session left this node already')
    this.gone = true
    this.expiry?.cancel()
    // its client resumes on the node that holds it now
    this.refusePending(GoAwayCode.SHUTTING_DOWN, 'the session moved to another node')
    this.journal?.close(err)
    this.owner.moved(this)
    this.endpoint.moveAway(err, snapshot)
  }

  private changed (): void {
    if (this.dirty || this.gone) return
    this.dirty = true
    this.owner.store.changed(this)
  }

  get state (): SessionState { return this.endpoint.state }

  /** Whether the session has been disconnected for longer than its ttl. */
  expiredAt (now: number): boolean {
    return this.detachedAt !== undefined && now - this.detachedAt >= this.owner.ttl
  }

  /** A connection resumed this session: it replaces the live one, if any. */
  attach (attach: Attach): void {
    this.journal?.start()
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      waiter(attach)
      return
    }
    const superseded = this.pending
    this.pending = attach
    if (superseded !== undefined) this.owner.takenOver(superseded.lower)
    if (this.live) this.endpoint.link.reconnect(new SessionTakenOverError())
  }

  /** A connection resumed it and waits to be taken into use (the link is between connections). */
  get attachWaiting (): boolean {
    return this.pending !== undefined
  }

  /** Ends the session as expired: the unacknowledged items are counted and the application told. */
  expire (): void {
    this.expiry?.cancel()
    this.lostAs = 'expired'
    this.owner.expired(this)
    this.endpoint.lost({ reason: 'expired', message: `it was disconnected for longer than its ttl (${this.owner.ttl} ms)` })
  }

  /** Ends the session to make room for a new one (the registry is full and this one is detached). */
  evict (): void {
    this.expiry?.cancel()
    this.lostAs = 'evicted'
    this.endpoint.lost({ reason: 'evicted', message: 'the server needed room for a new session while this one was disconnected (maxSessions reached)' })
  }

  /** The next connection that resumes this session, or the dial's end (told without making its signal where the context allows). */
  private nextAttach (ctx: DialContext): Promise<Attach> {
    const onAbort = ctx.onAbort
    const waiting = new Promise<Attach>((resolve, reject) => {
      this.waiter = (attach) => { if (attach instanceof Error) reject(attach); else resolve(attach) }
      onAbort?.call(ctx, reject)
    })
    return onAbort === undefined ? raceSignal(waiting, ctx.signal) : waiting
  }

  /**
   * The server is closing: a close() of this session no longer waits for its client to resume (none may now).
   * Call after the session's close() began, so that the link's dial, refused, ends the close.
   */
  shutDown (): void {
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.(new ServerShutDownError())
  }

  private async dial (ctx: DialContext): Promise<SessionConnection> {
    let attach = this.pending
    this.pending = undefined
    if (attach === undefined && this.owner.shuttingDown) throw new ServerShutDownError()
    attach ??= await this.nextAttach(ctx).finally(() => { this.waiter = undefined })
    const stage = new SessionConnection({
      state: this.state,
      ctx,
      lower: attach.lower,
      iterator: attach.lower.source,
      leftover: attach.leftover,
      peer: attach.resume,
      token: attach.token,
      settings: this.owner.connections,
      endpoint: this.endpoint
    })
    // told with the connection's `connected`: a new session's first is `open`, a resume's `resumed`
    this.endpoint.opened(!attach.resume.fresh, attach.resume.next - 1)
    return stage
  }

  /** The link's status: a connection taken into use or lost, or the session over. */
  linkStatus (event: StatusEvent): void {
    if (event.type === 'connected') this.attached()
    else if (event.type === 'disconnected') {
      this.detached()
      // what the client sent broke the protocol: the session's (a second RESUME, an ACK beyond what was
      // sent) or the stages' beneath it (an oversized frame, a heartbeat violation); the session is kept
      const err = event.error
      if (err instanceof SessionProtocolError || (err !== undefined && stageRefusal(err) !== undefined)) this.owner.protocolError(this, err)
    } else if (event.type === 'closed') {
      this.expiry?.cancel()
      // ended before the connection that opened or resumed it was taken into use (the application closed
      // it in its `session` event): that client is told, not left to think it was cut and try again
      if (this.expired) this.refusePending(SessionGoAwayCode.SESSION_EXPIRED, 'the session expired')
      else this.refusePending(SessionGoAwayCode.SESSION_CLOSED, 'the session was closed')
      this.owner.ended(this)
    }
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

  private refusePending (code: number, message: string): void {
    const p = this.pending
    this.pending = undefined
    if (p !== undefined) this.owner.dismiss(p.lower, code, message)
  }
}

/**
 * The links of a server's sessions, validated once for all of them. A session's "dial" waits for its
 * client: no deadline but the session's ttl, no backoff to speak of, and it retries whatever ended its
 * connection (only the session's own end stops it).
 */
export function sessionLinks (common: CommonOptions): Reconnector<Frame> {
  return reconnector<Frame>({
    ...common.link,
    connectTimeout: Infinity,
    maxRetryTime: Infinity,
    minStableTime: 0,
    initialDelay: 1,
    maxDelay: 1,
    jitter: 'none',
    // a server's session waits for its client for as long as ttl allows (the registry's timer), unless the server closes
    shouldRetry: err => !(err instanceof ServerShutDownError)
  })
}

/** Puts a store's snapshot into a fresh server state. */
function restoreState (state: SessionState, r: RestoredSession): void {
  state.outAcked = r.outAcked
  state.outSent = r.outSent
  state.inSeq = r.received
  state.ackLimit = r.received
  state.endAt = r.endAt
  state.endAcked = r.endAcked
  if (r.peerEndAt !== undefined) {
    state.peerEndAt = r.peerEndAt
    state.peerEndGen = state.gen
    state.peerEndRestored = r.received === r.peerEndAt
  }
  state.inEnded = r.inEnded
  state.recovered = r.origin === 'recovered'
}
