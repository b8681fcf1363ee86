import type { Frame } from '@proto/codec'
import { decodeGoAway, encodeGoAway, FrameType, GoAwayCode } from '@proto/codec'
import type { BatchIterator, Logger, StageDuplex, Timers } from '@proto/interface'
import { toError } from '@proto/interface'
import type { DialContext } from '@proto/reconnect'
import type { Source } from 'it-stream-types'
import type { AckPolicy } from './acks.js'
import { AckClock } from './acks.js'
import { classify } from './classify.js'
import { GOAWAY_GRACE, MAX_POSITION, SESSION_ID_LENGTH, SessionFrameType, SessionGoAwayCode, TOKEN_LENGTH } from './constants.js'
import { ConnectionLostError, SessionProtocolError, SessionRefusedError } from './errors.js'
import type { SessionItem } from './inbound.js'
import { SessionInbound } from './inbound.js'
import { SessionOutbound } from './outbound.js'
import type { AckSink, SessionLoss, SessionState } from './state.js'
import type { SessionFrames } from './types.js'
import type { Resume } from './wire.js'
import { decodeAck, decodeEnd, decodeResume, encodeAck, encodeEnd, encodeResume } from './wire.js'

/** A connection that a newer one of the same session replaced. */
export class SessionTakenOverError extends Error {
  static override name = 'SessionTakenOverError'

  constructor (message = 'A newer connection resumed this session; this one was fenced off', options?: ErrorOptions) {
    super(message, options)
    this.name = 'SessionTakenOverError'
  }
}

export interface SessionConnectionInit {
  state: SessionState
  ctx: DialContext
  lower: SessionFrames
  /** The lower source's iterator, possibly started already (a server read the client's RESUME from it). */
  iterator: BatchIterator<Frame>
  /** Frames read with the handshake, after the RESUME. */
  leftover: Frame[]
  /** Server: the client's RESUME, already checked; client: `undefined` (ours goes first, theirs is awaited). */
  peer: Resume | undefined
  /** Server: the token to put in our RESUME (the server keeps only its digest). */
  token?: Uint8Array
  acks: AckPolicy
  timers: Timers
  log: Logger
  /** The session cannot go on (the peer does not know it, it expired, was taken over or closed). */
  lost(loss: SessionLoss): Error
  /** The session's durable duplex is ending for good (aborted or failed), not merely losing this connection. */
  ending(): boolean
}

/**
 * One connection of a session, as reconnect sees it: a duplex of numbered items in and frames out. It
 * sends our RESUME, takes the peer's, then numbers what reconnect feeds from the first unacknowledged
 * position (skipping what the peer says it has), numbers what arrives from the position we announced,
 * confirms to reconnect what the peer acknowledges, and acknowledges what the endpoint delivers. Once the
 * connection is lost or replaced (its dial's signal aborts), nothing it reads or does touches the session.
 */
export class SessionConnection implements StageDuplex<SessionItem, Frame>, AckSink {
  readonly source: SessionInbound
  /** Resolves once both RESUMEs were exchanged; rejects if the handshake fails. */
  readonly ready: Promise<void>
  readonly goingAway?: AbortSignal
  readonly gen: number
  private readonly outbound: SessionOutbound
  private readonly state: SessionState
  private ackClock: AckClock | undefined
  private handshaken = false
  /** What the peer has: items up to here are acknowledged, or said to be had by its RESUME. */
  private peerAcked = 0
  /** The last position fed to this connection. */
  private lastFed: number
  peerEnded = false
  private dead = false
  private closing: Promise<void> | undefined
  private settleReady!: { resolve(): void, reject(err: Error): void }
  private settleSink: { resolve(): void, reject(err: Error): void } | undefined
  private goAwayCode: number | undefined
  /** A close() waiting for our END to be acknowledged. */
  private endAck: { resolve(): void, reject(err: Error): void } | undefined

  constructor (private readonly init: SessionConnectionInit) {
    const state = this.state = init.state
    this.gen = state.gen
    this.lastFed = state.outAcked
    if (init.lower.goingAway !== undefined) this.goingAway = init.lower.goingAway
    this.ready = new Promise((resolve, reject) => { this.settleReady = { resolve, reject } })
    this.ready.catch(() => {})
    this.outbound = new SessionOutbound(this)
    // until the peer's RESUME says otherwise, its window is taken to be ours
    this.source = new SessionInbound(this, init.iterator, init.leftover, { messages: state.params.windowMessages, bytes: state.params.windowBytes })
    this.source.nextSeq = state.received + 1
    let sinking: Promise<void>
    try {
      sinking = init.lower.sink(this.outbound)
    } catch (err) {
      sinking = Promise.reject(err)
    }
    sinking.then(() => { this.lowerSinkDone() }, (err: unknown) => { this.fail(toError(err)) })
    this.outbound.send({ type: SessionFrameType.RESUME, body: encodeResume(this.ourResume()) })
    if (init.peer !== undefined) {
      try {
        this.handshake(init.peer)
      } catch (err) {
        this.stopped(toError(err))
      }
    }
    this.source.start()
  }

  get fenced (): boolean { return this.dead || this.init.ctx.signal.aborted }
  get accepting (): boolean { return this.handshaken && !this.peerEnded }

  /** Reconnect's feed for this connection: numbered and written after the handshake. */
  sink = async (feed: Source<Frame>): Promise<void> => {
    await this.ready
    if (this.dead) throw new ConnectionLostError('the connection was lost before writing began')
    await new Promise<void>((resolve, reject) => {
      this.settleSink = { resolve, reject }
      this.outbound.attach(feed)
    })
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
    if (err instanceof SessionTakenOverError) this.fail(err, { code: SessionGoAwayCode.SESSION_TAKEN_OVER, reason: 'session taken over' })
    else if (this.init.ending()) this.endSession(err)
    else this.fail(err)
  }

  // ---- acknowledgements (the endpoint's hooks, through the state) -------------------------------------

  delivered (bytes: number): void { this.ackClock?.delivered(bytes) }
  duplicate (): void { this.ackClock?.duplicate() }
  endDelivered (): void { this.ackClock?.flush() }
  endSession (err: Error): void { this.fail(err, { code: SessionGoAwayCode.SESSION_CLOSED, reason: 'session aborted' }) }

  ackFrame (): Frame | undefined {
    if (this.fenced || !this.handshaken) return undefined
    const s = this.state
    const position = s.received
    const end = s.inEnded && s.peerEndGen === s.gen && position === s.peerEndAt
    s.counters.acksSent++
    return { type: SessionFrameType.ACK, body: encodeAck({ position, end }) }
  }

  // ---- outbound (numbering what reconnect feeds) ----------------------------------------------------

  /** Numbers a fed batch from the first unacknowledged position; returns the frames the peer lacks. */
  number (items: Frame[]): Frame[] {
    const s = this.state
    const first = this.lastFed + 1
    const last = this.lastFed + items.length
    if (last > MAX_POSITION) {
      this.fail(new SessionProtocolError('this session has numbered 2^53 − 1 items, the most a position can hold; start a new session'))
      return []
    }
    this.lastFed = last
    let out = items
    if (first <= this.peerAcked) {
      const skip = Math.min(items.length, this.peerAcked - first + 1)
      s.counters.skipped += skip
      out = skip === items.length ? [] : items.slice(skip)
    }
    const firstSent = last - out.length + 1
    if (firstSent <= s.outSent) s.counters.resent += Math.min(out.length, s.outSent - firstSent + 1)
    if (last > s.outSent) s.outSent = last
    s.counters.sent += out.length
    this.confirmUpTo()
    return out
  }

  /** Our writing ended: END goes out (until it is acknowledged), and the feed's sink is done. */
  feedEnded (): void {
    const s = this.state
    s.endAt = this.lastFed
    if (!s.endAcked) this.outbound.send({ type: SessionFrameType.END, body: encodeEnd(this.lastFed) })
    this.settleSink?.resolve()
  }

  feedFailed (err: Error): void { this.fail(err) }

  /** Confirms to reconnect every item fed here that the peer has. */
  private confirmUpTo (): void {
    const s = this.state
    const upTo = Math.min(this.peerAcked, this.lastFed)
    if (upTo <= s.outAcked || this.fenced) return
    this.init.ctx.confirm(upTo - s.outAcked)
    s.outAcked = upTo
  }

  // ---- inbound (control frames; the pump numbers the rest) -------------------------------------------

  control (frame: Frame): void {
    switch (classify(frame.type)) {
      case 'ack': { this.onAck(frame.body); return }
      case 'end': { this.onEnd(frame.body); return }
      case 'resume': {
        if (this.handshaken || this.init.peer !== undefined) throw new SessionProtocolError('expected one RESUME per connection, at its start, but got another')
        this.handshake(decodeResume(frame.body))
        return
      }
      case 'goaway': { this.onGoAway(frame.body); return }
      default: this.state.counters.ignoredControl++
    }
  }

  lowerEnded (): Error | undefined {
    const s = this.state
    if (this.peerEnded || (s.peerEndGen === s.gen && s.peerEndAt !== undefined && s.inEnded)) return undefined
    const err = this.goAwayError() ?? new ConnectionLostError('The peer closed the connection without ending the session: an outage, resumed on the next connection')
    this.fail(err)
    return err
  }

  stopped (err: Error): void {
    if (err instanceof SessionProtocolError) this.fail(err, { code: GoAwayCode.PROTOCOL_ERROR, reason: err.message.slice(0, 200) })
    else this.fail(err)
  }

  private ourResume (): Resume {
    const s = this.state
    const fresh = s.role === 'client' && s.token === undefined
    return {
      fresh,
      token: fresh ? new Uint8Array(TOKEN_LENGTH) : this.init.token ?? s.token as Uint8Array,
      id: s.role === 'server' && s.idBytes !== undefined ? s.idBytes : new Uint8Array(SESSION_ID_LENGTH),
      next: s.received + 1,
      maxAckDelay: s.params.maxAckDelay,
      windowMessages: s.params.windowMessages,
      windowBytes: s.params.windowBytes,
      ttl: s.params.ttl
    }
  }

  /** The peer's RESUME: where to replay from, what to number from, and how often to acknowledge. */
  private handshake (peer: Resume): void {
    const s = this.state
    if (s.role === 'client') {
      if (peer.fresh) throw new SessionProtocolError('expected the server\'s RESUME to name a session, but it asked for a new one')
      if (s.token === undefined) {
        s.token = peer.token
        s.idBytes = peer.id
        s.id = Buffer.from(peer.id).toString('hex')
      } else if (!Buffer.from(s.token).equals(peer.token)) {
        throw new SessionProtocolError('expected the server\'s RESUME to carry our session\'s token, but it carried another')
      } else {
        s.counters.resumes++
      }
      s.ttl = peer.ttl
    }
    const has = peer.next - 1
    if (has > s.outSent) throw new SessionProtocolError(`expected the peer to resume at most at ${s.outSent + 1} (we sent ${s.outSent} items), but it asked for ${peer.next}`)
    if (has < s.outAcked) throw new SessionProtocolError(`expected the peer to resume at ${s.outAcked + 1} or later (it acknowledged ${s.outAcked} items), but it asked for ${peer.next}: it lost what it acknowledged`)
    this.peerAcked = has
    this.source.maxItems = Math.max(1, peer.windowMessages)
    this.source.maxBytes = Math.max(1, peer.windowBytes)
    const policy = this.init.acks
    this.ackClock = new AckClock({
      delay: policy.delay,
      frames: Math.max(1, Math.min(policy.frames, Math.floor(peer.windowMessages / 4))),
      bytes: Math.max(1, Math.min(policy.bytes, Math.floor(peer.windowBytes / 4)))
    }, this.init.timers, () => { this.outbound.ack() })
    this.handshaken = true
    s.stage = this
    this.init.ctx.signal.addEventListener('abort', () => { this.dispose() }, { once: true })
    // a client acknowledges the server's RESUME at once, which releases what the server replays
    if (s.role === 'client') this.ackClock.flush()
    this.settleReady.resolve()
  }

  private onAck (body: Uint8Array): void {
    if (!this.handshaken) throw new SessionProtocolError('expected no ACK before the session handshake completed')
    const ack = decodeAck(body)
    const s = this.state
    if (ack.position > s.outSent) throw new SessionProtocolError(`expected an ACK of at most ${s.outSent} (what we sent), but got ${ack.position}`)
    s.counters.acksReceived++
    if (ack.position > this.peerAcked) this.peerAcked = ack.position
    this.confirmUpTo()
    if (!ack.end) return
    if (s.endAt === undefined || ack.position !== s.endAt) throw new SessionProtocolError(`expected an END acknowledgement at our END (${String(s.endAt)}), but got one at ${ack.position}`)
    s.endAcked = true
    this.endAck?.resolve()
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
    // the source ends after the items before END; the endpoint acknowledges END once it handed it over
    if (s.inEnded) this.ackClock?.flush()
  }

  private onGoAway (body: Uint8Array): void {
    const { code, reason } = decodeGoAway(body)
    this.goAwayCode = code
    this.init.log.debug('GOAWAY %d from the peer: %s', code, reason)
    const s = this.state
    const lose = (loss: SessionLoss): void => { this.fail(this.init.lost(loss)) }
    switch (code) {
      case SessionGoAwayCode.SESSION_UNKNOWN:
        if (s.role === 'client') lose({ reason: 'unknown', message: `the server does not know this session (${reason})` })
        return
      case SessionGoAwayCode.SESSION_EXPIRED:
        if (s.role === 'client') lose({ reason: 'expired', message: `the session expired on the server (${reason})` })
        return
      case SessionGoAwayCode.SESSION_TAKEN_OVER:
        if (s.role === 'client' && !this.fenced) lose({ reason: 'taken-over', message: 'another connection resumed this session' })
        return
      case SessionGoAwayCode.SESSION_CLOSED:
        // benign only when both directions are whole: ours acknowledged, theirs ended by END
        if (!s.endAcked || s.peerEndGen !== s.gen || s.peerEndAt === undefined) lose({ reason: 'closed', message: `the peer closed the session (${reason})` })
        return
      case GoAwayCode.PROTOCOL_ERROR:
        this.fail(new SessionProtocolError(`the peer says we broke the protocol: ${reason}`))
        return
      default:
        if (!this.handshaken || code === GoAwayCode.DO_NOT_RETRY || code === SessionGoAwayCode.SESSION_LIMIT) this.fail(this.goAwayError() as Error)
    }
  }

  private goAwayError (): Error | undefined {
    const code = this.goAwayCode
    if (code === undefined) return undefined
    return new SessionRefusedError(`The peer sent GOAWAY ${code} and closed the connection`, { code })
  }

  // ---- ending --------------------------------------------------------------------------------------

  /**
   * Fails this connection with `err`: the session's state is not touched. With `goAway`, that frame is
   * flushed first (at most `GOAWAY_GRACE`), then the connection is destroyed.
   */
  private fail (err: Error, goAway?: { code: number, reason: string }): void {
    if (this.dead) return
    this.dead = true
    this.dispose()
    // reconnect learns at once, even while nobody reads or writes (it ignores this once it dropped us itself)
    this.init.ctx.lost(err)
    this.settleReady.reject(err)
    this.settleSink?.reject(err)
    this.endAck?.reject(err)
    this.source.fail(err)
    if (goAway === undefined) {
      this.outbound.fail(err)
      this.abortLower(err)
      return
    }
    this.outbound.send({ type: FrameType.GOAWAY, body: encodeGoAway(goAway) })
    this.outbound.finish()
    const timer = this.init.timers.setTimeout(() => { this.abortLower(err) }, GOAWAY_GRACE)
    this.graceful = () => { timer.cancel(); this.abortLower(err) }
  }

  /** After a GOAWAY: the lower sink finished (flushed), so the connection can go now. */
  private graceful: (() => void) | undefined

  private lowerSinkDone (): void {
    const g = this.graceful
    this.graceful = undefined
    if (g !== undefined) { g(); return }
    if (this.closing === undefined) this.fail(new ConnectionLostError('the connection\'s sink finished before the session did'))
  }

  private abortLower (err: Error): void {
    try {
      this.init.lower.abort(err)
    } catch {}
  }

  private dispose (): void {
    this.ackClock?.dispose()
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
    this.outbound.send({ type: FrameType.GOAWAY, body: encodeGoAway({ code: SessionGoAwayCode.SESSION_CLOSED, reason: 'session closed' }) })
    this.outbound.finish()
    try {
      await this.init.lower.close()
    } finally {
      this.dead = true
      this.dispose()
      this.source.fail(new ConnectionLostError('the session was closed'))
    }
  }
}
