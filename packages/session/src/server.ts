import type { Frame } from '@proto/codec'
import { encodeGoAway, FrameType, GoAwayCode } from '@proto/codec'
import type { ByteDuplex, Clock, Logger, Timers } from '@proto/interface'
import { abortReason, createLogger, toError, TypedEventTarget } from '@proto/interface'
import type { Reconnector } from '@proto/reconnect'
import type { AckPolicy } from './acks.js'
import type { ConnectionSettings } from './connection.js'
import { GOAWAY_GRACE, SESSION_FLAG, SessionFrameType, SessionGoAwayCode } from './constants.js'
import { SessionProtocolError, SessionRefusedError, SessionTakenOverError } from './errors.js'
import { stageRefusal } from './goaway.js'
import { stageFailure } from './handshake.js'
import type { CommonOptions, ServerOptions } from './options.js'
import { resolveCommon, resolveServer } from './options.js'
import { Registry } from './registry.js'
import type { Attach, ServerSessionOwner } from './server-session.js'
import { sessionLinks } from './server-session.js'
import { ServerSession } from './server-session.js'
import type { SessionStore, StoreHost } from './store.js'
import type { SessionDuplex, SessionFrames, SessionServerInit } from './types.js'
import type { Resume } from './wire.js'
import { decodeResume } from './wire.js'

/** Why the server refused a connection, as counted in `stats().refused`. */
export type RefusalReason = 'unknown' | 'completed' | 'expired' | 'closed' | 'limit' | 'protocol' | 'timeout' | 'plain' | 'shutting-down' | 'store'

/** Events of a session server. */
export interface SessionServerEvents {
  /** A new session: the application serves it for as long as it lives, across the client's connections. */
  session: SessionDuplex
  /**
   * A connection from a peer that did not announce sessions (a version 1 client): its frame duplex, for
   * the application to serve as it is. Without a listener such connections are refused (GOAWAY
   * `DO_NOT_RETRY`).
   */
  plain: SessionFrames
  /** A connection was refused; `code` is the GOAWAY code sent (when one was). */
  refused: {
    /** Why it was refused (the key it is counted under in `stats().refused`). */
    reason: RefusalReason
    /** The GOAWAY code sent; `undefined` when the connection was dropped without one. */
    code: number | undefined
    /** What went wrong, for people; also the GOAWAY's reason (its first 200 characters). */
    message: string
  }
}

/** A snapshot of a session server's counters, since it was made. */
export interface SessionServerStats {
  /** Sessions kept now, connected or not. */
  sessions: number
  /** Sessions with no connection now. */
  detached: number
  /** New sessions opened on this server. */
  created: number
  /** Detached sessions ended to make room for a new one when `maxSessions` was reached (reported `evicted`). */
  evicted: number
  /** Connections that resumed an existing session. */
  resumed: number
  /** Resumes that took a session over from a live connection. */
  takeovers: number
  /** Sessions that left this node through the session store (handed over to another node, or drained). */
  moved: number
  /** Sessions this node took from the session store: handed over by their node, or recovered after it died. */
  restored: {
    /** Handed over by the node that held them. */
    handover: number
    /** Recovered from what a node that died had persisted. */
    recovered: number
  }
  /** Detached sessions ended because no connection resumed them within `ttl`. */
  expired: number
  /** Connections served as plain frame duplexes (peers that did not announce sessions, given to a `plain` listener). */
  plain: number
  /** Refused connections, by reason. */
  refused: Record<RefusalReason, number>
  /**
   * Connections of established sessions closed for a protocol error (GOAWAY `PROTOCOL_ERROR`: a second
   * RESUME, an ACK beyond what was sent, data after END, …); each session was kept, detached.
   */
  protocolErrors: number
}

/** A server of sessions. Hand it every accepted connection; it emits `session` once per new session. */
export interface SessionServer extends TypedEventTarget<SessionServerEvents> {
  /** Serves one accepted byte connection: codec and heartbeat are composed here (or `stack`). */
  handle(conn: ByteDuplex): Promise<void>
  /** Serves one connection already made into frames (heartbeat with `hello: true` and `SESSION_FLAG`). */
  handleFrames(frames: SessionFrames): Promise<void>
  /** The session with this public id, if the server keeps it. */
  get(id: string): SessionDuplex | undefined
  /** A snapshot of the server's counters. */
  stats(): SessionServerStats
  /** Refuses new connections and closes every session (within each one's `closeTimeout`). */
  close(): Promise<void>
  /** Refuses new connections and aborts every session with `err`. */
  abort(err: Error): void
}

class Server extends TypedEventTarget<SessionServerEvents> implements SessionServer, ServerSessionOwner, StoreHost {
  readonly log: Logger = createLogger('session')
  readonly clock: Clock
  readonly timers: Timers
  readonly ttl: number
  readonly store: SessionStore
  private readonly registry: Registry<ServerSession>
  private readonly counts = { created: 0, evicted: 0, resumed: 0, takeovers: 0, expired: 0, plain: 0, moved: 0, protocolErrors: 0 }
  private readonly restoredCounts = { handover: 0, recovered: 0 }
  /** Restores under way, by token digest: a second RESUME for the same session waits for the first. */
  private readonly restoring = new Map<string, Promise<void>>()
  private readonly refusals: Record<RefusalReason, number> = { unknown: 0, completed: 0, expired: 0, closed: 0, limit: 0, protocol: 0, timeout: 0, plain: 0, 'shutting-down': 0, store: 0 }
  private closing = false

  /** What every connection of the server's sessions shares. */
  readonly connections: ConnectionSettings
  /** Makes each session's link: one set of link options for all of them. */
  readonly links: Reconnector<Frame>

  constructor (readonly common: CommonOptions, private readonly opts: ServerOptions) {
    super()
    this.links = sessionLinks(common)
    this.connections = { acks: common.acks as AckPolicy, inbound: common.inbound, timers: common.timers, log: this.log }
    this.clock = common.clock
    this.timers = common.timers
    this.ttl = opts.ttl
    this.registry = new Registry(opts.maxSessions)
    this.store = opts.store
    this.store.bind(this)
  }

  find (digest: Uint8Array): ServerSession | undefined { return this.registry.findDigest(digest) }
  sessions (): Iterable<ServerSession> { return [...this.registry.values()] }

  async handle (conn: ByteDuplex): Promise<void> {
    let frames: SessionFrames
    try {
      frames = this.common.stack(conn)
    } catch (err) {
      ;(conn as ByteDuplex | null | undefined)?.abort?.(toError(err))
      throw err
    }
    await this.handleFrames(frames)
  }

  async handleFrames (frames: SessionFrames): Promise<void> {
    if (this.closing) { this.refuse(frames, 'shutting-down', GoAwayCode.SHUTTING_DOWN, 'the server is shutting down'); return }
    const deadline = this.deadline()
    const cancelled = { done: false }
    try {
      const hello = await Promise.race([frames.peerHello, deadline.expired])
      if (hello === undefined) { await this.endedBeforeHello(frames); return }
      if ((hello.flags & SESSION_FLAG) === 0) { this.plain(frames); return }
      const opening = await Promise.race([this.readResume(frames), deadline.expired])
      await Promise.race([this.open(frames, opening.resume, opening.leftover, cancelled), deadline.expired])
    } catch (err) {
      cancelled.done = true // an open() still waiting for the store takes no connection it was refused
      if (err === TIMED_OUT) this.refuse(frames, 'timeout', undefined, `no HELLO and RESUME within resumeTimeout (${this.opts.resumeTimeout} ms)`)
      else if (err instanceof SessionProtocolError) this.refuse(frames, 'protocol', GoAwayCode.PROTOCOL_ERROR, err.message)
      else {
        // the stage beneath refused what the peer sent before its RESUME (and told it why): counted as ours are
        const e = toError(err)
        const refusal = stageRefusal(e)
        if (refusal !== undefined) this.counted('protocol', refusal.code, e.message)
        frames.abort(e)
      }
    } finally {
      deadline.cancel()
    }
  }

  get (id: string): SessionDuplex | undefined {
    for (const s of this.registry.values()) if (s.id === id) return s.endpoint
    return undefined
  }

  stats (): SessionServerStats {
    let detached = 0
    for (const s of this.registry.values()) if (s.detachedAt !== undefined) detached++
    return { sessions: this.registry.size, detached, ...this.counts, restored: { ...this.restoredCounts }, refused: { ...this.refusals } }
  }

  async close (): Promise<void> {
    this.closing = true
    const sessions = [...this.registry.values()]
    const closing = sessions.map(async (s) => { await s.endpoint.close().catch(() => {}) })
    // no client may resume now: a session waiting for one closes without waiting, and counts
    for (const s of sessions) s.shutDown()
    await Promise.all(closing)
  }

  /** The server is closing: no connection may resume a session any more. */
  get shuttingDown (): boolean { return this.closing }

  abort (err: Error): void {
    this.closing = true
    const reason = abortReason(err)
    for (const s of [...this.registry.values()]) s.endpoint.abort(reason)
  }

  ended (session: ServerSession): void {
    this.registry.remove(session)
    // a complete session is remembered for ttl: the client may not have heard our acknowledgement of its END;
    // an expired one, or one the application closed, too, so that a client coming back learns how it ended
    // rather than that it is unknown (an evicted one is not: nothing is kept for it)
    const complete = session.state.complete
    const how = complete ? 'completed' : session.lostAs === 'expired' ? 'expired' : session.lostAs === undefined && !session.left ? 'closed' : undefined
    if (how !== undefined) this.registry.markEnded(session.key, how, this.clock.now() + this.ttl)
    if (!session.left) this.store.ended(session, complete ? 'completed' : session.expired ? 'expired' : 'closed')
  }

  protocolError (session: ServerSession, err: Error): void {
    this.counts.protocolErrors++
    this.log.debug('session %s: a connection was closed for a protocol error: %s', session.id, err.message)
  }

  expired (session: ServerSession): void {
    this.counts.expired++
    this.registry.remove(session) // the store is told once the session has ended (`ended`)
  }

  moved (session: ServerSession): void {
    this.counts.moved++
    this.registry.remove(session)
  }

  /** Decides what the connection's RESUME gets: a new session, the one it names, or a GOAWAY. */
  private async open (frames: SessionFrames, resume: Resume, leftover: Frame[], cancelled: { done: boolean }): Promise<void> {
    // close() or abort() came while this connection's HELLO and RESUME were on their way
    if (this.closing) { this.refuse(frames, 'shutting-down', GoAwayCode.SHUTTING_DOWN, 'the server is shutting down'); return }
    if (resume.fresh) {
      // a new session was sent nothing: only 1 is a resume point, checked before anything is made
      if (resume.next !== 1) { this.refuse(frames, 'protocol', GoAwayCode.PROTOCOL_ERROR, `resume point ${resume.next} is outside what a new session sent (1)`); return }
      if (this.registry.full && !this.evictOldestDetached()) { this.refuse(frames, 'limit', SessionGoAwayCode.SESSION_LIMIT, `the server keeps ${this.registry.maxSessions} sessions already, all connected`); return }
      const credentials = this.registry.issue()
      const session = new ServerSession(this, credentials)
      this.registry.add(session)
      this.counts.created++
      this.store.opened(session)
      session.attach({ lower: frames, leftover, resume, token: credentials.token })
      this.log.debug('session %s opened', session.id)
      session.announced = true
      this.safeDispatchEvent('session', session.endpoint)
      return
    }
    let session = this.registry.find(resume.token)
    // completed (or expired) here within ttl: its copy in a durable store is gone too, so the store is not asked
    const ended = session === undefined ? this.registry.endedAs(resume.token, this.clock.now()) : undefined
    if (ended === 'completed') { this.refuse(frames, 'completed', SessionGoAwayCode.SESSION_CLOSED, 'the session completed'); return }
    // a copy that expired or was closed here may have been taken by another node meanwhile (this one was
    // paused, or cut off from the store, and did not know): with a durable store, the store is asked first
    if (session === undefined && this.store.durable) {
      const r = await this.restore(frames, resume)
      if (r === null || cancelled.done) return
      session = r
    }
    if (session === undefined && ended === 'expired') { this.refuse(frames, 'expired', SessionGoAwayCode.SESSION_EXPIRED, 'the session expired'); return }
    if (session === undefined && ended === 'closed') { this.refuse(frames, 'closed', SessionGoAwayCode.SESSION_CLOSED, 'the session was closed'); return }
    // a session its application is closing takes a resume: its close() rides out the connection it lost
    if (session === undefined || session.endpoint.ending()) { this.refuse(frames, 'unknown', SessionGoAwayCode.SESSION_UNKNOWN, 'no such session'); return }
    if (session.expiredAt(this.clock.now())) {
      session.expire()
      this.refuse(frames, 'expired', SessionGoAwayCode.SESSION_EXPIRED, 'the session expired')
      return
    }
    const s = session.state
    const has = resume.next - 1
    // the node before died after sending more than it persisted: the client has it, carry on from there
    if (s.recovered && has > s.outSent) session.skipTo(has)
    if (has > s.outSent || has < s.outAcked) {
      this.refuse(frames, 'protocol', GoAwayCode.PROTOCOL_ERROR, `resume point ${resume.next} is outside what this session sent (${s.outAcked + 1}–${s.outSent + 1})`)
      return
    }
    this.counts.resumed++
    // it replaces a connection: the live one, or one that resumed it and waits to be taken into use
    if (session.detachedAt === undefined || session.attachWaiting) this.counts.takeovers++
    const attach: Attach = { lower: frames, leftover, resume, token: resume.token }
    session.attach(attach)
    this.log.debug('session %s resumed', session.id)
    // a session restored from the store is announced with the first connection it takes
    if (!session.announced) {
      session.announced = true
      this.safeDispatchEvent('session', session.endpoint)
    }
  }

  /**
   * Takes the session a RESUME names from the store (its node hands it over, or it is recovered from what
   * a node that died persisted): the session, `undefined` when the store does not know it, `null` when the
   * connection was refused. A RESUME racing for the same session waits for the first and then finds it
   * here. The session is kept as detached until a connection is taken into use (it expires after `ttl`
   * if none is), and announced with that connection (`open`).
   */
  private async restore (frames: SessionFrames, resume: Resume): Promise<ServerSession | undefined | null> {
    const digest = Registry.digest(resume.token)
    const key = digest.toString('hex')
    const under = this.restoring.get(key)
    if (under !== undefined) {
      await under
      return this.registry.find(resume.token)
    }
    // checked before the store is asked: taking a session from its node only to drop it would lose it there
    // (a detached one is evicted only once the store gave a session to make room for)
    if (this.registry.full && !this.anyDetached()) {
      this.refuse(frames, 'limit', SessionGoAwayCode.SESSION_LIMIT, `the server keeps ${this.registry.maxSessions} sessions already, all connected`)
      return null
    }
    let done = (): void => {}
    this.restoring.set(key, new Promise<void>((resolve) => { done = resolve }))
    try {
      const restored = await this.store.restore(digest)
      if (restored === 'completed') {
        // completed on another node within ttl (this one's memory of completed sessions is its own)
        this.refuse(frames, 'completed', SessionGoAwayCode.SESSION_CLOSED, 'the session completed')
        return null
      }
      if (restored === undefined) return undefined
      if (this.closing) {
        // close() came while the store answered: the client resumes elsewhere (retryable), not told it is
        // unknown, and the store has the session back as it was (the next node takes it as a handover)
        this.store.unused?.(digest)
        this.refuse(frames, 'shutting-down', GoAwayCode.SHUTTING_DOWN, 'the server is shutting down')
        return null
      }
      // room is made now (a detached session was there when the store was asked); restores racing for the
      // last place may pass maxSessions by the restores in flight rather than drop a session taken from its node
      if (this.registry.full) this.evictOldestDetached()
      const session = new ServerSession(this, { token: resume.token, digest, idBytes: restored.idBytes, id: restored.id }, restored)
      this.registry.add(session)
      this.store.opened(session)
      this.restoredCounts[restored.origin]++
      this.log.debug('session %s restored from the store (%s)', session.id, restored.origin)
      return session
    } catch (err) {
      // the store cannot be asked now (Redis away): a retryable refusal, the client comes back after a backoff
      const message = `the session store cannot be asked now (${toError(err).message}); try again`
      this.refuse(frames, 'store', GoAwayCode.SHUTTING_DOWN, message)
      return null
    } finally {
      this.restoring.delete(key)
      done()
    }
  }

  private plain (frames: SessionFrames): void {
    if (this.listenerCount('plain') === 0) {
      this.refuse(frames, 'plain', GoAwayCode.DO_NOT_RETRY, 'this server serves sessions only: announce the session flag in HELLO')
      return
    }
    this.counts.plain++
    this.safeDispatchEvent('plain', frames)
  }

  /** Whether a session could be evicted to make room (one is detached). */
  private anyDetached (): boolean {
    for (const s of this.registry.values()) if (s.detachedAt !== undefined) return true
    return false
  }

  /**
   * Makes room for a new session by ending the one detached for the longest (it is reported lost, reason
   * `evicted`, with its count); `false` when every session is connected.
   */
  private evictOldestDetached (): boolean {
    let oldest: ServerSession | undefined
    for (const s of this.registry.values()) {
      if (s.detachedAt !== undefined && (oldest?.detachedAt === undefined || s.detachedAt < oldest.detachedAt)) oldest = s
    }
    if (oldest === undefined) return false
    this.counts.evicted++
    this.registry.remove(oldest)
    oldest.evict()
    return true
  }

  /** Reads the connection's first frame, which must be a RESUME; what came with it is kept for the session. */
  private async readResume (frames: SessionFrames): Promise<{ resume: Resume, leftover: Frame[] }> {
    for (;;) {
      const batch = await frames.source.nextBatch()
      if (batch === undefined) throw new SessionProtocolError('expected a RESUME, but the connection ended')
      if (batch.length === 0) continue
      const first = batch[0]
      if (first.type !== SessionFrameType.RESUME) throw new SessionProtocolError(`expected a RESUME as the first frame after HELLO, but got type ${first.type}`)
      return { resume: decodeResume(first.body), leftover: batch.slice(1) }
    }
  }

  /**
   * The connection's stage ended before a HELLO was accepted. When it refused what the peer sent, the
   * refusal is counted and reported like the server's own: a HELLO the heartbeat refused (it sent the
   * GOAWAY: `DO_NOT_RETRY` for a version or heartbeat it cannot serve, else `PROTOCOL_ERROR`), or bytes
   * the codec could not frame (GOAWAY `PROTOCOL_ERROR` saying why). A peer that left, cleanly or with a
   * reset, or in the middle of a frame, is not a refusal.
   */
  private async endedBeforeHello (frames: SessionFrames): Promise<void> {
    const err = await stageFailure(frames)
    const refusal = err === undefined ? undefined : stageRefusal(err)
    if (err !== undefined && refusal !== undefined) this.counted('protocol', refusal.code, err.message)
    frames.abort(err ?? new SessionProtocolError('the connection ended before its HELLO'))
  }

  /** Counts a refusal and reports it (`refused`). */
  private counted (reason: RefusalReason, code: number | undefined, message: string): void {
    this.refusals[reason]++
    this.log.debug('refused a connection (%s): %s', reason, message)
    this.safeDispatchEvent('refused', { reason, code, message })
  }

  /** Sends GOAWAY `code` (if any) and closes the connection, destroying it if that takes longer than a grace period. */
  private refuse (frames: SessionFrames, reason: RefusalReason, code: number | undefined, message: string): void {
    this.counted(reason, code, message)
    this.goAway(frames, code, message, new SessionProtocolError(`refused: ${message}`))
  }

  dismiss (lower: SessionFrames, code: number, message: string): void {
    this.log.debug('a connection waiting to be taken into use was dismissed: %s', message)
    this.goAway(lower, code, message, new SessionRefusedError(`dismissed: ${message}`, { code }))
  }

  takenOver (lower: SessionFrames): void {
    this.log.debug('a connection waiting to resume a session was taken over by a newer one')
    this.goAway(lower, SessionGoAwayCode.SESSION_TAKEN_OVER, 'session taken over', new SessionTakenOverError('A newer connection resumed this session before this one was taken into use'))
  }

  /** Sends GOAWAY `code` (if any) and closes the connection; it is aborted with `err` if that takes longer than a grace period. */
  private goAway (frames: SessionFrames, code: number | undefined, message: string, err: Error): void {
    if (code === undefined) { frames.abort(err); return }
    const timer = this.timers.setTimeout(() => { frames.abort(err) }, GOAWAY_GRACE)
    const goAway: Frame = { type: FrameType.GOAWAY, body: encodeGoAway({ code, reason: message.slice(0, 200) }) }
    frames.sink([goAway]).then(async () => { await frames.close() }).then(() => { timer.cancel() }, () => { timer.cancel(); frames.abort(err) })
  }

  private deadline (): { expired: Promise<never>, cancel(): void } {
    let cancel = (): void => {}
    const expired = new Promise<never>((_resolve, reject) => {
      const t = this.timers.setTimeout(() => { reject(TIMED_OUT) }, this.opts.resumeTimeout)
      cancel = () => { t.cancel() }
    })
    expired.catch(() => {})
    return { expired, cancel }
  }
}

const TIMED_OUT = new Error('timed out')

/**
 * A session server. Feed it every accepted connection (`handle(conn)`, e.g. from `@proto/transport`'s
 * `listen`); it answers RESUMEs, keeps sessions across their clients' connections for `ttl`, and emits
 * `session` with one durable duplex per new session. Throws `InvalidParametersError` at once on a bad option.
 */
export function sessionServer (init: SessionServerInit = {}): SessionServer {
  const opts = resolveServer(init)
  return new Server(resolveCommon(init, 'server', opts.ttl), opts)
}
