import type { Frame } from '@proto/codec'
import type { AbortOptions, Logger } from '@proto/interface'
import { TypedEventTarget, validate } from '@proto/interface'
import type { DialFunction, DurableDuplex, DurableSourceIterator, ReconnectInit, Reconnector, StatusEvent } from '@proto/reconnect'
import { reconnect } from '@proto/reconnect'
import type { Source } from 'it-stream-types'
import type { SessionMovedError } from './errors.js'
import { ConnectionLostError, SessionLostError } from './errors.js'
import type { SessionItem } from './inbound.js'
import { SessionSource } from './source.js'
import type { SessionLoss, SessionState } from './state.js'
import type { SessionOrigin } from './store.js'
import type { LostPolicy, SessionDuplex, SessionEventMap, SessionStats } from './types.js'

export interface EndpointInit {
  state: SessionState
  /** Opens one connection of the session, handshake done. */
  dial: DialFunction<SessionItem, Frame>
  /**
   * Options of the durable duplex underneath (retention, peerEnd and validate are set by the caller), or
   * what makes it with options shared by many sessions (a server's).
   */
  link: ReconnectInit<Frame> | Reconnector<Frame>
  /** What a client does when the session is lost; a server always fails the session. */
  onLost: LostPolicy
  log: Logger
  /** Replaces the application's sink (a server session with a durable store feeds the link through its journal). */
  sink?: (source: Source<Frame>) => Promise<void>
}

/** What a server's session hears from its endpoint (the server's session itself: no closures of its own). */
export interface EndpointServer {
  /** Each status event of the link, after the session's listeners (a server session follows its connections). */
  linkStatus(event: StatusEvent): void
  /** The items the application's writing has reached in this session (`written`). */
  written(): number
  /** An attribute changed (a server session persists them with a durable store). */
  attributesChanged(): void
}

/**
 * One end of a session: a durable duplex (reconnect with retention) of numbered items underneath, and
 * on top the application's source (duplicates dropped, deliveries counted) and sink (straight into
 * reconnect). Forwards reconnect's status events and adds the session's own: `open`, `resumed`,
 * `session-lost`. Used for both a client and each of a server's sessions.
 */
export class SessionEndpoint extends TypedEventTarget<SessionEventMap> implements SessionDuplex {
  readonly link: DurableDuplex<SessionItem, Frame>
  readonly source: SessionSource
  readonly sink: (source: Source<Frame>) => Promise<void>
  readonly state: SessionState
  readonly items: DurableSourceIterator<SessionItem>

  /** What a client does when the session is lost. */
  private readonly onLost: LostPolicy
  private readonly log: Logger

  /** Keeps nothing of `init` but what it needs later (the link's options go to the link). */
  constructor (init: EndpointInit) {
    super()
    this.onLost = init.onLost
    this.log = init.log
    this.state = init.state
    // every status event of the link is forwarded through one callback, not a listener per type
    // a bound method: no closure context of its own for the session's life
    const own = this.linkStatus.bind(this)
    // a client's own onStatus is told first, as reconnect tells it (a throw is reported, and disturbs nothing)
    const user = typeof init.link === 'function' ? undefined : validate.fn('onStatus', init.link.onStatus)
    const onStatus = user === undefined
      ? own
      : (event: StatusEvent) => {
          try {
            user(event)
          } catch (err) {
            queueMicrotask(() => { throw err })
          }
          own(event)
        }
    this.link = typeof init.link === 'function'
      ? init.link(init.dial, { onStatus })
      : reconnect<SessionItem, Frame>(init.dial, { ...init.link, onStatus })
    this.items = this.link.source[Symbol.asyncIterator]() as DurableSourceIterator<SessionItem>
    this.source = new SessionSource(this)
    this.sink = init.sink ?? this.link.sink
  }

  /** A server's session: told the link's status, counts what was written, keeps the attributes. */
  server: EndpointServer | undefined

  /**
   * The `open` or `resumed` event of the connection whose handshake just completed: told when the link takes
   * that connection into use (its `connected`), so a listener reads the status `connected` and may call
   * `reconnect()`; dropped if the link never does (it closed or failed meanwhile).
   */
  private announcing: SessionEventMap['open'] | SessionEventMap['resumed'] | undefined

  /** The link's status events are the session's: dispatched as they are, then told to a server's session. */
  private linkStatus (event: StatusEvent): void {
    const announcing = this.announcing
    if (announcing !== undefined && event.type !== 'connecting') {
      this.announcing = undefined
      if (event.type === 'connected') this.safeDispatchEvent(announcing.type, announcing as never)
    }
    this.safeDispatchEvent(event.type, event as never)
    this.server?.linkStatus(event)
  }

  origin: SessionOrigin | undefined

  get written (): number | undefined { return this.server?.written() }
  /** Made with the first attribute. */
  private attrs: Map<string, string> | undefined

  getAttribute (key: string): string | undefined { return this.attrs?.get(key) }
  setAttribute (key: string, value: string | undefined): void {
    // strings only: a durable store persists them as they are, and a number key would be its string on the next node
    if (typeof key !== 'string') validate.invalid('an attribute key', 'a string', key)
    if (value !== undefined && typeof value !== 'string') validate.invalid(`attribute '${key}'`, 'a string, or undefined to remove it', value)
    if (value === undefined) this.attrs?.delete(key)
    else (this.attrs ??= new Map()).set(key, value)
    this.server?.attributesChanged()
  }

  attributes (): Record<string, string> { return this.attrs === undefined ? {} : Object.fromEntries(this.attrs) }

  /**
   * The session left this node through a store: the application's source delivers nothing more, the
   * connection is told to resume elsewhere, `moved` is dispatched and the link aborted with `err`.
   */
  moveAway (err: SessionMovedError, snapshot: () => void): void {
    this.source.stop(err)
    this.state.stage?.moveAway(err)
    snapshot()
    this.safeDispatchEvent('moved', { type: 'moved', id: this.state.id ?? '', handedOver: err.handedOver })
    this.link.abort(err)
  }

  /** The public id of the session (16 hex digits), once established. Safe to log; the token is not. */
  get id (): string | undefined { return this.state.id }
  get status (): DurableDuplex<SessionItem, Frame>['status'] { return this.link.status }

  close (options?: AbortOptions): Promise<void> { return this.link.close(options) }
  /** Tears the session down: the peer is told (GOAWAY `SESSION_CLOSED`, best effort), the link aborted. */
  abort (err: Error): void { this.link.abort(err) }

  /** The link is ending for good (closed or failed while a connection was still up). */
  ending (): boolean {
    const status = this.link.status
    return status === 'closed' || status === 'failed'
  }

  reconnect (): void { this.link.reconnect() }
  statusIterator (options?: AbortOptions): AsyncIterableIterator<StatusEvent> { return this.link.statusIterator(options) }

  stats (): SessionStats {
    const s = this.state
    return { id: s.id, role: s.role, status: this.link.status, ...s.counters, link: this.link.stats() }
  }

  /**
   * A handshake completed on a new connection, whose peer has every item up to `peerHas`: of the items
   * retained, those are confirmed rather than sent again. `open` or `resumed` is told once the link takes
   * the connection into use.
   */
  opened (resumed: boolean, peerHas: number): void {
    const id = this.state.id ?? ''
    const retained = this.link.stats().retained
    const again = retained - Math.min(retained, Math.max(0, peerHas - this.state.outAcked))
    this.announcing = resumed
      ? { type: 'resumed', id, retained: again, possibleDuplicates: this.state.counters.possibleDuplicates }
      : { type: 'open', id }
  }

  broken (err: Error): void { this.link.abort(err) }

  /**
   * The session cannot go on. Counts and reports the items the peer may not have received, then applies
   * the policy: `'fail'` ends the link with the error; a client's `'replay'` sends them again in a new
   * session; its `'drop'` gives them up. Returns the error the current connection fails with.
   */
  lost (loss: SessionLoss): Error {
    const s = this.state
    const unconfirmed = this.link.stats().retained
    if (s.role === 'client' && s.complete) {
      // the session is complete here and lingered to tell the server we have its END: whatever the server
      // answers our RESUME (completed, forgotten, expired), nothing is left to do
      s.lingerOver = true
      return new ConnectionLostError(`The session is complete here; the server answered its last RESUME: ${loss.message}`)
    }
    if (s.role === 'client' && loss.completed === true) {
      // the server completed the session: its application had everything we wrote, END included
      if (unconfirmed > 0) this.link.confirm(unconfirmed)
      s.endAcked = true
      s.lingerOver = true
      return new ConnectionLostError('The server completed the session before our END\'s acknowledgement reached us')
    }
    if (s.role === 'client' && loss.reason === 'unknown' && s.inEnded && s.endAt !== undefined && s.endAt === s.outAcked && unconfirmed === 0) {
      // everything was acknowledged both ways but our END: a server forgets a session once it is complete
      s.endAcked = true
      s.lingerOver = true
      return new ConnectionLostError('The server completed the session and forgot it before our END\'s acknowledgement arrived')
    }
    const sessionId = s.id
    s.counters.sessionsLost++
    const err = new SessionLostError(`The session cannot be resumed: ${loss.message}. ${unconfirmed} items sent in it were never acknowledged`, { reason: loss.reason, unconfirmed, ...(sessionId !== undefined ? { sessionId } : {}) })
    // a client whose close() rides out an outage does not open a new session to replay into: it gives them up,
    // and ends the close (the client's retry policy takes a SessionLostError while closing as final)
    const closing = this.link.status === 'closing'
    const action: LostPolicy = s.role === 'server' ? 'fail' : closing ? 'drop' : this.onLost
    this.log.debug('session %s lost (%s): %d unconfirmed, %s', sessionId ?? '-', loss.reason, unconfirmed, action)
    this.safeDispatchEvent('session-lost', { type: 'session-lost', id: sessionId ?? '', reason: loss.reason, unconfirmed, action })
    if (action === 'fail') {
      // at once: the connection fails with `err` next, and reconnect must not take that for a fatal dial error
      this.link.abort(err)
      return err
    }
    if (action === 'drop') {
      this.link.abandon()
      s.counters.droppedAfterLoss += unconfirmed
      if (closing) return err
    } else {
      s.counters.resentAfterLoss += unconfirmed
      // nothing to replay: the lost session's END is owed to no one (a close() has nothing to wait for)
      if (unconfirmed === 0) this.link.abandon(0)
    }
    s.renew()
    return err
  }
}
