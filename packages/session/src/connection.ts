import type { Frame } from '@proto/codec'
import { decodeGoAway, encodeGoAway, FrameType, GoAwayCode } from '@proto/codec'
import type { BatchIterator, Logger, PushSource, SinkWatcher, StageDuplex, TimerHandle, Timers } from '@proto/interface'
import { settleSinkRun, sinkWatched, tellSinkEnd, toError } from '@proto/interface'
import type { AbortWatcher, DialContext, EndConfirming, ReconnectStatus } from '@proto/reconnect'
import type { Source } from 'it-stream-types'
import type { AckPolicy } from './acks.js'
import { AckClock } from './acks.js'
import { classify } from './classify.js'
import { ACK_WINDOW_SHARE, GOAWAY_GRACE, SessionFrameType, SessionGoAwayCode } from './constants.js'
import { ConnectionLostError, SessionProtocolError, SessionTakenOverError } from './errors.js'
import { judgeGoAway, refused } from './goaway.js'
import { adoptServerResume, ourResume } from './handshake.js'
import type { SessionItem } from './inbound.js'
import { SessionInbound } from './inbound.js'
import type { InboundLimits } from './options.js'
import { SessionOutbound } from './outbound.js'
import type { PositionsOwner } from './positions.js'
import { Positions } from './positions.js'
import type { AckSink, SessionLoss, SessionState } from './state.js'
import type { SessionOrigin } from './store.js'
import type { SessionFrames } from './types.js'
import type { Resume } from './wire.js'
import { decodeAck, decodeEnd, decodeResume, encodeAck, encodeEnd, encodeResume } from './wire.js'

/** The `ready` of every connection that handshook as it was made. */
const HANDSHAKEN: Promise<void> = Promise.resolve()

function rejected (err: Error): Promise<void> {
  const p = Promise.reject(err)
  p.catch(() => {})
  return p
}

export interface SessionConnectionInit {
  state: SessionState
  ctx: DialContext
  lower: SessionFrames
  /** The lower source's iterator, possibly started already (a server read the client's RESUME from it). */
  iterator: BatchIterator<Frame>
  /** Frames read with the handshake, after the RESUME. */
  leftover: Frame[]
  /** Server: the client's RESUME, already checked; client: `undefined` (ours goes first, theirs is awaited). Used only while the connection is made. */
  peer: Resume | undefined
  /** Server: the token to put in our RESUME (the server keeps only its digest). Used only while the connection is made. */
  token?: Uint8Array | undefined
  /** What every connection of a client, or of a server's sessions, shares. */
  settings: ConnectionSettings
  /** The session's endpoint. */
  endpoint: ConnectionEndpoint
}

/** The settings every connection of a client, or of a server's sessions, shares: one object, not one per connection. */
export interface ConnectionSettings {
  readonly acks: AckPolicy
  /** What this side queues of the peer's items at most, whatever the peer's window. */
  readonly inbound: InboundLimits
  readonly timers: Timers
  readonly log: Logger
  /** Client: how long a complete session lingers on its connection for the server to say it has our last acknowledgement (ms). */
  readonly linger?: number
}

/** What a connection tells its session's endpoint (the endpoint itself: no closures per connection). */
export interface ConnectionEndpoint {
  /** The session cannot go on (the peer does not know it, it expired, was taken over or closed). */
  lost(loss: SessionLoss): Error
  /** The session's durable duplex is ending for good (aborted or failed), not merely losing this connection. */
  ending(): boolean
  /** The durable duplex's status (`'closing'` once the application's `close()` began). */
  readonly status: ReconnectStatus
  /** Server: how the session came to this node (`'recovered'`: from a copy a node that died left; the client may be ahead of it). */
  readonly origin: SessionOrigin | undefined
}

/**
 * One connection of a session, as reconnect sees it: a duplex of numbered items in and frames out. It
 * sends our RESUME, takes the peer's, then numbers what reconnect feeds from the first unacknowledged
 * position (skipping what the peer says it has), numbers what arrives from the position we announced,
 * confirms to reconnect what the peer acknowledges, and acknowledges what the endpoint delivers. Once the
 * connection is lost or replaced (its dial's attempt ends), nothing it reads or does touches the session.
 */
export class SessionConnection implements StageDuplex<SessionItem, Frame>, AckSink, SinkWatcher, PositionsOwner, AbortWatcher, EndConfirming {
  readonly source: SessionInbound
  /**
   * Resolves once both RESUMEs were exchanged; rejects if the handshake fails. A server's connection
   * handshakes as it is made, and shares one settled promise (a connection lives long after its handshake).
   */
  readonly ready: Promise<void>
  readonly gen: number
  private readonly outbound: SessionOutbound
  private readonly state: SessionState
  /** Made with the first delivery or ACK after the handshake (`acks()`): an idle connection has none. */
  private ackClock: AckClock | undefined
  /** The ACK clock's bounds on this connection, with the peer's window applied (set by the handshake). */
  private ackFrames = 0
  private ackBytes = 0
  private handshaken = false
  /** The position of the last ACK this connection sent, and whether it carried the END flag. */
  private lastAck = -1
  private lastAckEnd = false
  private readonly positions: Positions
  peerEnded = false
  private dead = false
  private closing: Promise<void> | undefined
  /** Our END waits for the store to persist it (`ackNow` sends it). */
  private endHeld = false
  /** The GOAWAY the peer is told when the session is lost here (abort follows the loss): its reason, not `SESSION_CLOSED`. */
  private lossGoAway: { code: number, reason: string } | undefined
  /** Settles `ready`; dropped once it has (a connection lives long after its handshake). */
  private settleReady: { resolve(): void, reject(err: Error): void } | undefined
  private settleSink: { resolve(): void, reject(err: Error): void } | undefined
  /** The watcher of a sink written with `sinkPush`, until it is told. */
  private sinkWatcher: SinkWatcher | undefined
  private goAwayCode: number | undefined
  /**
   * The peer's GOAWAY as the heartbeat beneath reported it: an event dispatched when the frame is read, ahead
   * of frames still queued before it, so it is judged only once the source has ended (or failed).
   */
  private reportedGoAway: { code: number, reason: string } | undefined
  /** A close() waiting for our END to be acknowledged. */
  private endAck: { resolve(): void, reject(err: Error): void } | undefined
  /** A closing session waits here while a durable store holds its ACKs: called once they cover everything received, or the connection died. */
  private acksReleased: (() => void) | undefined
  /** Listening to the lower duplex's `goaway` events (its source does not push to the inbound). */
  private listening = false
  /** Client: bounds how long a complete session lingers on this connection. */
  private lingerTimer: TimerHandle | undefined

  private readonly ctx: DialContext
  private readonly lower: SessionFrames
  private readonly endpoint: ConnectionEndpoint
  private readonly settings: ConnectionSettings

  /** The lower duplex's `goingAway`, read through on demand (`undefined` when it has none). */
  get goingAway (): AbortSignal {
    return this.lower.goingAway as AbortSignal
  }

  /** Keeps of `init` only what it needs for its life (the handshake's parts are used here and let go). */
  constructor (init: SessionConnectionInit) {
    this.ctx = init.ctx
    this.lower = init.lower
    this.endpoint = init.endpoint
    this.settings = init.settings
    const state = this.state = init.state
    this.gen = state.gen
    this.positions = new Positions(state, this)
    this.outbound = new SessionOutbound(this)
    // until the peer's RESUME says otherwise, its window is taken to be ours
    this.source = new SessionInbound(this, init.iterator, init.leftover, { messages: state.params.windowMessages, bytes: state.params.windowBytes })
    this.source.nextSeq = state.received + 1
    // how the lower sink's run ends comes back to onSinkEnd; through sinkPush where the lower has it (a
    // heartbeat's link), nothing is parked for the connection's life
    sinkWatched(init.lower, this.outbound, this)
    this.outbound.send({ type: SessionFrameType.RESUME, body: encodeResume(ourResume(state, init.token, init.settings.inbound)) })
    const peer = init.peer
    if (peer === undefined) {
      this.ready = new Promise((resolve, reject) => { this.settleReady = { resolve, reject } })
      this.ready.catch(() => {})
    } else {
      let failure: Error | undefined
      try {
        this.handshake(peer)
      } catch (err) {
        failure = toError(err)
        this.stopped(failure)
      }
      this.ready = failure === undefined ? HANDSHAKEN : rejected(failure)
      // restored with the client's direction complete: no END comes again, the source ends here
      if (state.peerEndRestored && this.handshaken) this.peerEnded = true
    }
    this.source.start()
    if (this.peerEnded && !this.dead) this.source.peerEndedBefore()
    // the heartbeat beneath reads the peer's GOAWAY frames itself: it tells the inbound it pushes to, and
    // dispatches an event, listened to only when the inbound reads (a listener costs a map per connection)
    if (!this.source.pushed && !this.dead) {
      this.listening = true
      init.lower.addEventListener('goaway', this)
    }
  }

  get fenced (): boolean { return this.dead || (this.ctx.aborted ?? this.ctx.signal.aborted) }
  get accepting (): boolean { return this.handshaken && !this.peerEnded }
  get peerLast (): number {
    const s = this.state
    return s.peerEndGen === s.gen && s.peerEndAt !== undefined ? s.peerEndAt : Infinity
  }

  get received (): number { return this.state.received }

  /** What the peer's RESUME said it has (0 before the handshake): items up to it are not sent again. */
  get resumeHas (): number { return this.positions.resumeHas }

  /** The peer has the `count` oldest unconfirmed items: reconnect releases them. */
  confirmOut (count: number): void { this.ctx.confirm(count) }

  /**
   * Our writing is complete only once the peer acknowledged our END: until then reconnect does not end the
   * session by itself, and a connection lost meanwhile is an outage, after which END goes out again.
   */
  get endConfirmed (): boolean { return this.state.endAcked }

  /**
   * Client: the session is complete here (our END acknowledged, the server's END and everything before it
   * received) but the server may not have our acknowledgement of its END yet; it completes, and says so
   * with GOAWAY `SESSION_CLOSED`, once it has. Until then (at most the `linger` time) reconnect does not close
   * the session by itself, and a connection lost meanwhile is resumed once, to carry that acknowledgement
   * again: otherwise the server would keep the session for its ttl and then count what the acknowledgement
   * covered as unconfirmed (docs/PROTOCOL.md §6.5).
   */
  get lingering (): boolean {
    const s = this.state
    return s.role === 'client' && !s.lingerOver && s.endAcked && s.peerEndGen === s.gen && s.peerEndAt !== undefined && s.received === s.peerEndAt
  }

  /** Bounds the linger once it has begun (our END acknowledged and the server's taken, in either order). */
  private lingerBegun (): void {
    const ms = this.settings.linger
    if (this.lingerTimer !== undefined || ms === undefined || this.fenced || !this.lingering) return
    this.lingerTimer = this.settings.timers.setTimeout(() => {
      this.lingerTimer = undefined
      if (!this.fenced && this.lingering) {
        this.settings.log.debug('the server did not say it had our last acknowledgement within %d ms: the session ends here', ms)
        this.lingerEnds()
      }
    }, ms)
  }

  /** The linger is over: reconnect may close the session now. */
  private lingerEnds (): void {
    this.state.lingerOver = true
    this.lingerTimer?.cancel()
    this.lingerTimer = undefined
    this.ctx.confirm(0)
  }

  /**
   * Reconnect's feed for this connection: numbered and written after the handshake. One promise for the
   * connection's life, without an async function's frame behind it.
   */
  sink (feed: Source<Frame>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.ready.then(() => {
        if (this.dead) throw new ConnectionLostError('the connection was lost before writing began')
        this.settleSink = { resolve, reject }
        this.outbound.attach(feed)
      }).then(undefined, reject)
    })
  }

  /**
   * As `sink(feed)` for a feed that pushes (reconnect's): how the writing ended goes to `watcher`, from a
   * microtask, instead of a promise, so nothing is parked for the connection's life.
   */
  sinkPush (feed: PushSource<Frame>, watcher: SinkWatcher): void {
    const iterable = Symbol.asyncIterator in feed ? feed : { [Symbol.asyncIterator]: () => feed }
    this.ready.then(() => {
      if (this.dead) throw new ConnectionLostError('the connection was lost before writing began')
      this.sinkWatcher = watcher
      this.outbound.attach(iterable as unknown as Source<Frame>)
    }).then(undefined, (err: unknown) => { tellSinkEnd(watcher, toError(err)) })
  }

  /** Our writing of the session ended (`err` undefined) or failed: the sink's promise or watcher learns it, once. */
  private settleWriting (err?: Error): void {
    const settle = this.settleSink
    const watcher = this.sinkWatcher
    this.settleSink = undefined
    this.sinkWatcher = undefined
    settleSinkRun(settle, watcher, err)
  }

  /** A clean end of the whole session (both directions done, or closed by the application): GOAWAY SESSION_CLOSED, then close. */
  async close (): Promise<void> {
    this.closing ??= this.closeOnce()
    await this.closing
  }

  /**
   * Reconnect drops this connection: replaced by a newer one (GOAWAY `SESSION_TAKEN_OVER`), the whole
   * session torn down (GOAWAY `SESSION_CLOSED`, so the peer ends its side instead of waiting for a resume),
   * or simply lost (nothing to say: the peer will see the connection go).
   */
  abort (err: Error): void {
    if (this.lossGoAway !== undefined) this.fail(err, this.lossGoAway)
    else if (err instanceof SessionTakenOverError) this.fail(err, { code: SessionGoAwayCode.SESSION_TAKEN_OVER, reason: 'session taken over' })
    else if (this.endpoint.ending()) this.endSession(err)
    else this.fail(err)
  }

  // ---- acknowledgements (the endpoint's hooks, through the state) -------------------------------------

  delivered (items: number, bytes: number): void { this.acks()?.delivered(items, bytes) }
  /** (Without a clock nothing is unacknowledged: nothing to send.) */
  duplicate (): void { this.ackClock?.duplicate() }
  endDelivered (): void { this.acks()?.flush() }
  endSession (err: Error): void { this.fail(err, { code: SessionGoAwayCode.SESSION_CLOSED, reason: 'session aborted' }) }

  ackNow (): void {
    if (this.endHeld && this.state.endPersisted && !this.fenced) {
      this.endHeld = false
      this.sendEnd()
    }
    const s = this.state
    if (!this.fenced && this.handshaken && (s.ackable > this.lastAck || (this.endAckable() && !this.lastAckEnd))) this.acks()?.flush()
    if (this.acksReleased !== undefined && this.acksPersisted()) this.releaseAcks()
  }

  /**
   * The ACK clock, made when first needed: after the handshake, and not once the connection is fenced (it
   * is disposed of then, so a clock made after would act for a dropped connection).
   */
  private acks (): AckClock | undefined {
    if (this.ackClock === undefined && this.handshaken && !this.fenced) {
      this.ackClock = new AckClock({ delay: this.settings.acks.delay, frames: this.ackFrames, bytes: this.ackBytes }, this.settings.timers, this.outbound)
    }
    return this.ackClock
  }

  /** Whether an ACK would acknowledge the peer's END now (delivered, and persisted with a durable store). */
  private endAckable (): boolean {
    const s = this.state
    return s.inEnded && s.peerEndGen === s.gen && s.ackable === s.peerEndAt && s.peerEndPersisted
  }

  /** Whether the ACKs may cover everything the application took, END included (a durable store persisted it). */
  private acksPersisted (): boolean {
    const s = this.state
    return s.ackable >= s.received && (!s.inEnded || s.peerEndPersisted)
  }

  private releaseAcks (): void {
    const released = this.acksReleased
    this.acksReleased = undefined
    released?.()
  }

  moveAway (err: Error): void { this.fail(err, { code: GoAwayCode.SHUTTING_DOWN, reason: 'session moved to another node' }) }

  ackFrame (): Frame | undefined {
    if (this.fenced || !this.handshaken) return undefined
    const s = this.state
    const position = s.ackable
    if (position < s.received || (s.inEnded && !s.peerEndPersisted)) s.onAckHeld?.()
    const end = this.endAckable()
    // the same ACK again tells the peer nothing: this connection delivers the one already sent (a store
    // that has not persisted yet holds the position, and the ACK goes out once it has: ackNow)
    if (position === this.lastAck && end === this.lastAckEnd) return undefined
    this.lastAck = position
    this.lastAckEnd = end
    s.counters.acksSent++
    if (end) this.lingerBegun()
    return { type: SessionFrameType.ACK, body: encodeAck({ position, end }) }
  }

  // ---- outbound (numbering what reconnect feeds) ----------------------------------------------------

  /** Numbers a fed batch from the first unacknowledged position; returns the frames the peer lacks. */
  number (items: Frame[]): Frame[] {
    try {
      return this.positions.number(items)
    } catch (err) {
      this.fail(toError(err))
      return []
    }
  }

  /**
   * Our writing ended: END goes out (until it is acknowledged; with a durable store, once the store has
   * persisted it: `ackNow` sends it then), and the feed's sink is done.
   */
  feedEnded (): void {
    const s = this.state
    s.endAt = this.positions.lastFed
    s.onChange?.()
    if (s.endPersisted) this.sendEnd()
    else {
      this.endHeld = true
      s.onAckHeld?.() // the store is asked to persist at once
    }
    this.settleWriting()
  }

  private sendEnd (): void {
    const s = this.state
    if (!s.endAcked && s.endAt !== undefined) this.outbound.send({ type: SessionFrameType.END, body: encodeEnd(s.endAt) })
  }

  feedFailed (err: Error): void { this.fail(err) }

  // ---- inbound (control frames; the pump numbers the rest) -------------------------------------------

  control (frame: Frame): void {
    switch (classify(frame.type)) {
      case 'ack': { this.onAck(frame.body); return }
      case 'end': { this.onEnd(frame.body); return }
      case 'resume': {
        // a server's connection starts with the client's RESUME already read (`init.peer`)
        if (this.handshaken || this.state.role === 'server') throw new SessionProtocolError('expected one RESUME per connection, at its start, but got another')
        this.handshake(decodeResume(frame.body))
        return
      }
      case 'goaway': { // a stack whose heartbeat has no GOAWAY type hands them up as frames
        const { code, reason } = decodeGoAway(frame.body)
        this.onGoAway(code, reason)
        return
      }
      default: this.state.counters.ignoredControl++
    }
  }

  lowerEnded (): Error | undefined {
    const s = this.state
    // the peer's direction is complete; the connection ending is the session's end only once ours is too
    // (our END acknowledged): before that it is an outage of our direction, resumed like any other
    const peerDone = this.peerEnded || (s.peerEndGen === s.gen && s.peerEndAt !== undefined && s.inEnded)
    if (peerDone && s.endAcked && this.handshaken) {
      // a lingering client hears in the server's GOAWAY SESSION_CLOSED, read before this end, that the
      // server has its last acknowledgement; a connection that ended without it is an outage, resumed once
      // (a connection that ended before its handshake, the answer to that resume, is judged below)
      if (this.lingering) this.judgeReportedGoAway()
      if (!this.lingering) return undefined
      const err = new ConnectionLostError('The server ended the connection without saying it had our acknowledgement of its END: resumed once to send it again')
      this.fail(err)
      return err
    }
    const judged = this.judgeReportedGoAway()
    if (judged !== undefined) return judged
    const err = this.goAwayCode !== undefined ? refused(this.goAwayCode) : new ConnectionLostError('The peer closed the connection without ending the session: an outage, resumed on the next connection')
    this.fail(err)
    return err
  }

  stopped (err: Error): void {
    if (this.judgeReportedGoAway() !== undefined) return
    if (err instanceof SessionProtocolError) this.fail(err, { code: GoAwayCode.PROTOCOL_ERROR, reason: err.message.slice(0, 200) })
    else this.fail(err)
  }

  /** The peer's RESUME: where to replay from, what to number from, and how often to acknowledge. */
  private handshake (peer: Resume): void {
    const s = this.state
    if (s.role === 'client' && peer.recovered === true && s.token !== undefined && !this.recoveredAt(peer)) return
    if (s.role === 'client') adoptServerResume(s, peer)
    this.positions.resumeAt(peer.next)
    // as much as the peer may send unacknowledged, but never more than this side is willing to queue (a
    // peer that knows the inbound extension sends no more than that: we announced it)
    this.source.maxItems = Math.max(1, Math.min(peer.windowMessages, this.settings.inbound.maxMessages))
    this.source.maxBytes = Math.max(1, Math.min(peer.windowBytes, this.settings.inbound.maxBytes))
    // beyond what it may leave unacknowledged, the peer breaks the protocol: its window, and the inbound
    // limit we announced if its own RESUME shows it knows that extension (one that predates it may send its
    // whole window: the pump then stops reading, and TCP holds it back)
    const knowsInbound = peer.inboundMessages !== undefined
    this.source.peerMaxItems = Math.max(1, knowsInbound ? this.source.maxItems : peer.windowMessages)
    this.source.peerMaxBytes = Math.max(1, knowsInbound ? this.source.maxBytes : peer.windowBytes)
    // and we send no more unacknowledged than the peer queues: were it to stop reading, it would not see
    // the acknowledgements we send it, which travel behind our data
    if (peer.inboundMessages !== undefined && peer.inboundBytes !== undefined) this.ctx.limitUnconfirmed?.(peer.inboundMessages, peer.inboundBytes)
    const policy = this.settings.acks
    this.ackFrames = Math.max(1, Math.min(policy.frames, Math.floor(peer.windowMessages / 4)))
    this.ackBytes = Math.max(1, Math.min(policy.bytes ?? Math.floor(peer.windowBytes / ACK_WINDOW_SHARE), Math.floor(peer.windowBytes / 4)))
    this.handshaken = true
    s.stage = this
    // told without making the dial's signal where the context allows (a signal with a listener is ~1 KiB)
    const ctx = this.ctx
    if (ctx.onAbort !== undefined) ctx.onAbort(this)
    else ctx.signal.addEventListener('abort', () => { this.dispose() }, { once: true })
    // a client acknowledges the server's RESUME at once, which releases what the server replays
    if (s.role === 'client') this.acks()?.flush()
    this.settleReady?.resolve()
    this.settleReady = undefined
  }

  /**
   * Client: the server restored the session from a store copy its previous node did not hand over (it
   * died). What we sent past its resume point may have reached that node's application: counted as
   * possible duplicates, then sent again. A copy older than what that node acknowledged cannot be resumed
   * (we no longer hold what it lacks): the session is lost, with its count. Returns whether to go on.
   */
  private recoveredAt (peer: Resume): boolean {
    const s = this.state
    const has = peer.next - 1
    if (has < s.outAcked) {
      const err = this.endpoint.lost({ reason: 'unknown', message: `the node that restored it holds an older copy (position ${has}) than what was acknowledged (${s.outAcked})` })
      this.fail(err)
      return false
    }
    if (has < s.outSent) s.counters.possibleDuplicates += s.outSent - has
    return true
  }

  private onAck (body: Uint8Array): void {
    if (!this.handshaken) throw new SessionProtocolError('expected no ACK before the session handshake completed')
    const ack = decodeAck(body)
    const s = this.state
    // the client has read our RESUME: a restored session's RECOVERED flag was heard
    if (s.role === 'server') s.recovered = false
    this.positions.acked(ack.position)
    if (!ack.end) return
    if (s.endAt === undefined && this.endpoint.origin === 'recovered') {
      // the node before ended our writing and died before its store had that END (it had fallen back
      // node-local): the client is past this copy in a way it cannot carry on from; a counted loss on both
      // sides, not a protocol error (which would fail the client for good)
      this.lossGoAway = { code: SessionGoAwayCode.SESSION_UNKNOWN, reason: 'the session was lost with its node' }
      const err = this.endpoint.lost({ reason: 'unknown', message: 'the client has an END of the node before that this copy of the session lacks (that node ended its writing without persisting it, then died)' })
      this.fail(err, this.lossGoAway)
      return
    }
    if (s.endAt === undefined || ack.position !== s.endAt) throw new SessionProtocolError(`expected an END acknowledgement at our END (${String(s.endAt)}), but got one at ${ack.position}`)
    s.endAcked = true
    s.onChange?.()
    this.endAck?.resolve()
    this.lingerBegun()
    this.ctx.confirm(0) // writing may be complete now
  }

  private onEnd (body: Uint8Array): void {
    if (!this.handshaken) throw new SessionProtocolError('expected no END before the session handshake completed')
    const last = decodeEnd(body)
    const numbered = this.source.nextSeq - 1
    if (last !== numbered) throw new SessionProtocolError(`expected END at ${numbered} (the last item numbered on this connection), but got END at ${last}`)
    const s = this.state
    this.peerEnded = true
    s.peerEndAt = last
    s.peerEndGen = s.gen
    s.onChange?.()
    // the source ends after the items before END; the endpoint acknowledges END once it handed it over
    if (s.inEnded) this.acks()?.flush()
  }

  /** The heartbeat beneath reports the peer's GOAWAY as an event (this object is the listener). */
  handleEvent (event: CustomEvent<{ code: number, reason: string }>): void {
    this.goAwayReported(event.detail.code, event.detail.reason)
  }

  /** The heartbeat beneath read the peer's GOAWAY: judged once the source has ended (or failed). */
  goAwayReported (code: number, reason: string): void {
    if (this.dead) return
    this.goAwayCode = code
    this.reportedGoAway = { code, reason }
    // a lingering client needs nothing after this (the server completed): it closes now, not once the server
    // has ended the connection too (a peer may wait for our FIN first)
    if (code === SessionGoAwayCode.SESSION_CLOSED && this.lingering) this.lingerEnds()
  }

  /** Applies a GOAWAY the heartbeat reported, now that everything before it was read; the error it failed with. */
  private judgeReportedGoAway (): Error | undefined {
    const g = this.reportedGoAway
    this.reportedGoAway = undefined
    return g === undefined ? undefined : this.onGoAway(g.code, g.reason)
  }

  /** Judges the peer's GOAWAY `code`; returns the error the connection failed with, if it did. */
  private onGoAway (code: number, reason: string): Error | undefined {
    this.goAwayCode = code
    this.settings.log.debug('GOAWAY %d from the peer: %s', code, reason)
    // the server completed the session (or closed it): it has our acknowledgement of its END, or needs it no more
    if (code === SessionGoAwayCode.SESSION_CLOSED && this.lingering) this.lingerEnds()
    // once our close() began (the application's, still waiting for acknowledgements, or this connection's
    // own), the peer's SESSION_CLOSED answers it: its direction was open, or it closed at the same time
    const closing = this.closing !== undefined || this.endpoint.status === 'closing'
    const verdict = judgeGoAway(code, reason, this.state, { handshaken: this.handshaken, fenced: this.fenced, closing })
    if (verdict.kind === 'note') return undefined
    const err = verdict.kind === 'lost' ? this.endpoint.lost(verdict.loss) : verdict.error
    this.fail(err)
    return err
  }

  // ---- ending --------------------------------------------------------------------------------------

  /**
   * Fails this connection with `err`: the session's state is not touched. With `goAway`, that frame is
   * flushed first with our FIN, and the connection closed once the peer ends its side (what it sends
   * meanwhile is dropped), all within `GOAWAY_GRACE`; then, or at once without `goAway`, it is destroyed.
   */
  private fail (err: Error, goAway?: { code: number, reason: string }): void {
    if (this.dead) return
    this.dead = true
    this.dispose()
    // reconnect learns at once, even while nobody reads or writes (it ignores this once it dropped us itself)
    this.ctx.lost(err)
    this.settleReady?.reject(err)
    this.settleReady = undefined
    this.settleWriting(err)
    this.endAck?.reject(err)
    this.releaseAcks()
    this.source.fail(err)
    if (goAway === undefined) {
      this.outbound.fail(err)
      this.abortLower(err)
      return
    }
    this.outbound.send({ type: FrameType.GOAWAY, body: encodeGoAway(goAway) })
    this.outbound.finish()
    // what the peer still sends is read and dropped: closing with it unread would reset the connection,
    // and the peer would lose the GOAWAY with everything else it had not read yet
    this.source.discardLower()
    const timer = this.settings.timers.setTimeout(() => { this.abortLower(err) }, GOAWAY_GRACE)
    this.graceful = () => {
      // our FIN is out with the GOAWAY: the connection closes once the peer ends its side too
      this.lower.close().then(() => { timer.cancel() }, () => { timer.cancel(); this.abortLower(err) })
    }
  }

  /** After a GOAWAY: the lower sink finished (GOAWAY and FIN handed down); the connection closes once the peer ends its side, within `GOAWAY_GRACE`. */
  private graceful: (() => void) | undefined

  /** The dial's attempt ended (reconnect dropped this connection, or the session is over). */
  dialAborted (): void { this.dispose() }

  /** The lower sink's run ended: cleanly (everything handed down, FIN), or with `err`. */
  onSinkEnd (err?: Error): void {
    if (err === undefined) this.lowerSinkDone()
    else this.fail(err)
  }

  private lowerSinkDone (): void {
    const g = this.graceful
    this.graceful = undefined
    if (g !== undefined) { g(); return }
    if (this.closing === undefined) this.fail(new ConnectionLostError('the connection\'s sink finished before the session did'))
  }

  private abortLower (err: Error): void {
    try {
      this.lower.abort(err)
    } catch {}
  }

  private dispose (): void {
    if (this.listening) {
      this.listening = false
      this.lower.removeEventListener('goaway', this)
    }
    this.ackClock?.dispose()
    this.lingerTimer?.cancel()
    this.lingerTimer = undefined
    if (this.state.stage === this) this.state.stage = undefined
  }

  private async closeOnce (): Promise<void> {
    if (this.dead) return
    const s = this.state
    if (s.peerEndGen === s.gen && s.peerEndAt !== undefined && s.received === s.peerEndAt) {
      // everything up to the peer's END was handed over and the session is ending: acknowledge END too
      s.inEnded = true
    }
    if (this.handshaken) this.outbound.ack()
    // the peer learns the session is closed only once it has acknowledged our END (reconnect bounds the wait)
    if (!s.endAcked && s.endAt !== undefined) await new Promise<void>((resolve, reject) => { this.endAck = { resolve, reject } })
    if (this.dead) return
    if (!this.acksPersisted()) {
      // a durable store holds ACKs until it has persisted what they cover: SESSION_CLOSED goes only after
      // the ACK of everything the application took (END included), or the peer counts those items lost
      // and sends them again in a new session (reconnect bounds the wait, as it does the one above)
      s.onAckHeld?.()
      await new Promise<void>((resolve) => { this.acksReleased = resolve })
      if (this.dead) return
      this.outbound.ack()
    }
    this.outbound.send({ type: FrameType.GOAWAY, body: encodeGoAway({ code: SessionGoAwayCode.SESSION_CLOSED, reason: 'session closed' }) })
    this.outbound.finish()
    try {
      await this.lower.close()
    } finally {
      this.dead = true
      this.dispose()
      this.source.fail(new ConnectionLostError('the session was closed'))
    }
  }
}
