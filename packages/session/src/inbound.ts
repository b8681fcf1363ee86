import type { Frame } from '@proto/codec'
import type { GoAwayDetail, GoAwayTarget } from '@proto/heartbeat'
import type { BatchIterator, PushSource, PushTarget } from '@proto/interface'
import { DONE, isPushSource, toError } from '@proto/interface'
import { isSequenced } from './classify.js'
import { MAX_POSITION } from './constants.js'
import { SessionProtocolError } from './errors.js'

/** An item of a session as it travels from a connection's stage to the endpoint: numbered, in its incarnation. */
export interface SessionItem {
  /** Its sequence number in the incarnation, from 1. */
  seq: number
  /** The incarnation of the session it belongs to (see `SessionState.gen`). */
  gen: number
  /** The frame as it came from the peer (DATA or an application type). */
  frame: Frame
}

/** What the pump needs from its stage. */
export interface PumpOwner {
  /** Nothing this connection does counts any more. */
  readonly fenced: boolean
  /** The session's incarnation this connection belongs to. */
  readonly gen: number
  /** Sequenced frames are allowed now: the handshake is complete and the peer's END has not come. */
  readonly accepting: boolean
  /** The peer's END has come: no item follows. */
  readonly peerEnded: boolean
  /** The last position the peer may send: that of its END once the session knew it (on any connection), else `Infinity`. */
  readonly peerLast: number
  /** The last position of this incarnation the application took (nothing after it was acknowledged). */
  readonly received: number
  /** Handles a control frame (ACK, END, RESUME, GOAWAY, unknown types); may throw `SessionProtocolError`. */
  control(frame: Frame): void
  /** The connection's source ended cleanly: `undefined` when the session's END came first, else the outage. */
  lowerEnded(): Error | undefined
  /** The pump stopped on `err` (a protocol error, or the connection's source failed). */
  stopped(err: Error): void
  /** The heartbeat beneath read the peer's GOAWAY (told to its subscriber, ahead of frames queued before it). */
  goAwayReported(code: number, reason: string): void
}

interface Reader {
  resolve(value: SessionItem[] | IteratorResult<SessionItem> | undefined): void
  reject(err: Error): void
  batch: boolean
}

const NONE: SessionItem[] = []

/**
 * Reads the connection's frames continuously, whatever the endpoint does: control frames are handled as
 * they arrive, sequenced frames are numbered and queued for the endpoint. The queue may hold up to the
 * peer's window (what it may send without an acknowledgement), so a compliant peer never makes the pump
 * stop, and its ACKs, which travel behind its data, are always read: two sessions that both wait for room
 * in their windows cannot block each other. Beyond the window (a peer that ignores it) the pump stops,
 * and backpressure reaches the connection. This is the source the stage gives reconnect.
 *
 * A connection's source that can push (the heartbeat's) is subscribed to instead of read, once the
 * handshake's reads are done: its frames come in the read callback and nothing is parked while the peer
 * is silent. Beyond the window it is told to wait, and resumed once the endpoint has taken items. A source
 * that refuses a subscriber after being read from is pulled as before.
 *
 * The items go up the same way: reconnect subscribes (`PushSource`) and gets every batch in the call that
 * numbered it. While it asks to wait, items queue here against the window exactly as for a reader.
 */
export class SessionInbound implements BatchIterator<SessionItem>, AsyncIterable<SessionItem>, PushTarget<Frame>, PushSource<SessionItem>, GoAwayTarget {
  /** The sequence number the next sequenced frame takes. */
  nextSeq = 1
  /** Items and body bytes the queue holds before the pump stops: the peer's window. */
  maxItems: number
  maxBytes: number
  /**
   * What the peer may leave unacknowledged, items and body bytes (`Infinity` until its RESUME says): its own
   * window, capped by the inbound limit we announced if it knows that extension. Only what the application
   * took is ever acknowledged, so more items numbered past that, or more bytes queued here, than the peer
   * may leave unacknowledged is a peer that broke the protocol, not one that is merely ahead of our
   * application (one larger item alone excepted, as a window allows).
   */
  peerMaxItems = Infinity
  peerMaxBytes = Infinity
  private head: SessionItem[] = NONE
  private headAt = 0
  /** Batches queued after `head`, oldest first (made when a second batch queues). */
  private rest: SessionItem[][] | undefined
  private queuedItems = 0
  private queuedBytes = 0
  private reader: Reader | undefined
  /** No more items (the peer's END): the source ends after the queued ones, the pump reads on for control frames. */
  private itemsEnded = false
  /** The pump stopped: the connection ended or failed. */
  private done = false
  private failure: Error | undefined
  private reading = false
  /** Push mode: subscribed to the connection's source; `paused` while it waits for room. */
  private subscribed = false
  private paused = false
  /** Push mode upwards: the subscriber of the items, whether it asked to wait, whether it was told the end. */
  private target: PushTarget<SessionItem> | undefined
  private targetFull = false
  private told = false
  private flushing = false
  // the callbacks of a read, made at the first read: a connection whose source pushes never reads it
  private onBatch: ((frames: Frame[] | undefined) => void) | undefined
  private onError: ((err: unknown) => void) | undefined

  constructor (private readonly owner: PumpOwner, private readonly lower: BatchIterator<Frame> & Partial<PushSource<Frame>>, private leftover: Frame[], window: { messages: number, bytes: number }) {
    this.maxItems = window.messages
    this.maxBytes = window.bytes
  }

  [Symbol.asyncIterator] (): this { return this }

  /** Starts reading (frames read during the handshake first). */
  start (): void {
    const leftover = this.leftover
    this.leftover = NONE as unknown as Frame[]
    const lower = this.lower
    const pusher = isPushSource<Frame>(lower) ? lower : undefined
    this.subscribed = pusher !== undefined
    if (leftover.length > 0) this.batch(leftover)
    if (pusher !== undefined && !this.done && !this.owner.fenced) {
      try {
        // frames it holds come at once; beyond the window the first push already asks it to wait
        pusher.subscribe(this)
        return
      } catch {
        // a source that was read from (the handshake) may refuse: it is pulled instead
        this.subscribed = false
        this.paused = false
      }
    }
    this.step()
  }

  /** Push mode, from a heartbeat's source: the peer's GOAWAY as it is read (`GoAwayTarget`). */
  goAway (detail: GoAwayDetail): void {
    this.owner.goAwayReported(detail.code, detail.reason)
  }

  /** Whether the connection's source pushes to this object (a heartbeat's tells it the peer's GOAWAY too). */
  get pushed (): boolean { return this.subscribed }

  /** Push mode, from the connection's source: frames as they are read. `false` once the window is full. */
  push (frames: Frame[]): boolean {
    this.batch(frames)
    if (this.done || this.owner.fenced) return false
    if (!this.full) return true
    this.paused = true
    return false
  }

  /** Push mode, from the connection's source: its end, or its failure. */
  end (err?: Error): void {
    if (err === undefined) this.batch(undefined)
    else this.lowerFailed(err)
  }

  /**
   * Push mode upwards: from now on the items go to `target` as they are numbered (those queued, at once),
   * then the end or the failure. Once, with no read pending.
   */
  subscribe (target: PushTarget<SessionItem>): void {
    if (this.target !== undefined || this.reader !== undefined) throw new Error('expected subscribe() once, with no read pending, on a session connection\'s items')
    this.target = target
    this.flush()
  }

  /** Push mode upwards: the subscriber takes items again after `push()` returned `false`. */
  resume (): void {
    if (!this.targetFull) return
    this.targetFull = false
    this.flush()
  }

  next (): Promise<IteratorResult<SessionItem>> {
    if (this.headAt < this.head.length) {
      const value = this.head[this.headAt++]
      this.taken(1, value.frame.body.length)
      return Promise.resolve({ done: false, value })
    }
    return this.wait(false) as Promise<IteratorResult<SessionItem>>
  }

  nextBatch (): Promise<SessionItem[] | undefined> {
    if (this.headAt < this.head.length) {
      const out = this.headAt === 0 ? this.head : this.head.slice(this.headAt)
      this.headAt = this.head.length
      let bytes = 0
      for (let i = 0; i < out.length; i++) bytes += out[i].frame.body.length
      this.taken(out.length, bytes)
      return Promise.resolve(out)
    }
    return this.wait(true) as Promise<SessionItem[] | undefined>
  }

  async return (): Promise<IteratorResult<SessionItem>> {
    this.told = true // a subscriber that returns wants nothing more, its end included
    this.finish(undefined)
    return DONE
  }

  /** Fails the source with `err` (what is queued is dropped: the connection is gone). */
  fail (err: Error): void {
    this.head = NONE
    this.headAt = 0
    this.rest = undefined
    this.queuedItems = 0
    this.queuedBytes = 0
    this.finish(err)
  }

  /**
   * After a GOAWAY, until the connection closes: the connection's source reads on and drops what comes
   * (nothing of it counts any more), so the peer's FIN is seen and unread bytes do not turn our close into
   * a reset, which would lose the GOAWAY at the peer.
   */
  discardLower (): void {
    try {
      void this.lower.return?.().catch(() => {})
    } catch {}
  }

  private wait (batch: boolean): Promise<SessionItem[] | IteratorResult<SessionItem> | undefined> {
    const err = this.failure
    if (err !== undefined) return Promise.reject(err)
    if (this.done || this.itemsEnded) return Promise.resolve(batch ? undefined : DONE)
    return new Promise((resolve, reject) => { this.reader = { resolve, reject, batch } })
  }

  /** Items left the queue: move to the next batch, and read on if there is room again. */
  private taken (items: number, bytes: number): void {
    this.queuedItems -= items
    this.queuedBytes -= bytes
    if (this.headAt >= this.head.length) {
      this.head = this.rest?.shift() ?? NONE
      this.headAt = 0
    }
    this.step()
  }

  /**
   * The queue holds more than the peer may send unacknowledged: reading stops. A compliant peer that filled
   * exactly that much sends nothing more but control frames, and its ACKs must still be read.
   */
  private get full (): boolean {
    return this.queuedItems > this.maxItems || this.queuedBytes > this.maxBytes
  }

  private step (): void {
    if (this.reading || this.done || this.owner.fenced || this.full) return
    if (this.subscribed) {
      if (!this.paused) return
      this.paused = false
      this.lower.resume?.()
      return
    }
    this.reading = true
    let read: Promise<Frame[] | undefined>
    try {
      read = this.lower.nextBatch()
    } catch (err) {
      this.lowerFailed(toError(err))
      return
    }
    read.then(this.onBatch ??= (frames) => { this.batch(frames) }, this.onError ??= (err) => { this.lowerFailed(toError(err)) })
  }

  /** One batch from the connection: control frames handled in place, sequenced ones numbered and queued. */
  private batch (frames: Frame[] | undefined): void {
    this.reading = false
    if (this.done || this.owner.fenced) return
    if (frames === undefined) {
      const outage = this.owner.lowerEnded()
      this.finish(outage)
      return
    }
    const owner = this.owner
    const gen = owner.gen
    let items: SessionItem[] | undefined
    let bytes = 0
    // an END from an earlier connection still holds: a resumed peer may replay up to it, never past it
    const last = owner.peerLast
    try {
      for (let i = 0; i < frames.length; i++) {
        const frame = frames[i]
        if (isSequenced(frame.type)) {
          if (!owner.accepting) throw new SessionProtocolError(`expected no data before the session handshake completed or after END, but got a frame of type ${frame.type}`)
          if (this.nextSeq > last) throw new SessionProtocolError(`expected no item after the peer's END at ${last}, but got item ${this.nextSeq} on a resumed connection`)
          if (this.nextSeq > MAX_POSITION) throw new SessionProtocolError('the peer sent more than 2^53 − 1 items in one session')
          ;(items ??= []).push({ seq: this.nextSeq++, gen, frame })
          bytes += frame.body.length
        } else {
          owner.control(frame)
          if (this.done || owner.fenced) return
        }
      }
    } catch (err) {
      this.owner.stopped(toError(err))
      return
    }
    if (items !== undefined) {
      this.hand(items, bytes)
      const untaken = this.nextSeq - 1 - owner.received
      if (untaken > this.peerMaxItems || (this.queuedItems > 1 && this.queuedBytes > this.peerMaxBytes)) {
        const what = untaken > this.peerMaxItems ? `${untaken} items it sent are not taken by the application yet` : `${this.queuedBytes} bytes in ${this.queuedItems} items it sent wait for the application`
        owner.stopped(new SessionProtocolError(`expected the peer to leave at most ${this.peerMaxItems} items and ${this.peerMaxBytes} bytes unacknowledged, but ${what}, none of them acknowledged`))
        return
      }
    }
    if (owner.peerEnded) this.endItems()
    this.step()
  }

  /** Hands numbered items to a waiting reader, or queues them. */
  private hand (items: SessionItem[], bytes: number): void {
    const reader = this.reader
    if (reader === undefined || this.headAt < this.head.length) {
      if (this.target !== undefined && !this.targetFull && !this.flushing && this.headAt >= this.head.length && !this.told) {
        // nothing queued before them: straight up, in this call
        if (!this.target.push(items)) this.targetFull = true
        return
      }
      if (this.headAt < this.head.length) {
        if (this.rest === undefined) this.rest = [items]
        else this.rest.push(items)
      } else {
        this.head = items
        this.headAt = 0
      }
      this.queuedItems += items.length
      this.queuedBytes += bytes
      if (this.target !== undefined) this.flush()
      return
    }
    this.reader = undefined
    if (reader.batch) {
      reader.resolve(items)
      return
    }
    reader.resolve({ done: false, value: items[0] })
    if (items.length > 1) {
      this.head = items
      this.headAt = 1
      this.queuedItems += items.length - 1
      this.queuedBytes += bytes - items[0].frame.body.length
    }
  }

  /** The peer's END came on an earlier connection, and everything before it was delivered: the source ends now. */
  peerEndedBefore (): void { this.endItems() }

  /** The peer's END: the source ends after the queued items; the pump goes on reading control frames. */
  private endItems (): void {
    if (this.itemsEnded) return
    this.itemsEnded = true
    if (this.target !== undefined) {
      this.flush()
      return
    }
    const reader = this.reader
    if (reader === undefined || this.headAt < this.head.length) return
    this.reader = undefined
    reader.resolve(reader.batch ? undefined : DONE)
  }

  private lowerFailed (err: Error): void {
    this.reading = false
    if (this.done || this.owner.fenced) return
    this.owner.stopped(err)
  }

  /**
   * Push mode upwards: hands what is queued while the subscriber takes it, then the end (after the peer's
   * END, or when the pump stopped) or the failure; reads on once there is room in the window again.
   */
  private flush (): void {
    const target = this.target
    if (target === undefined || this.flushing) return
    this.flushing = true
    try {
      while (!this.told && !this.targetFull && this.headAt < this.head.length) {
        const out = this.headAt === 0 ? this.head : this.head.slice(this.headAt)
        let bytes = 0
        for (let i = 0; i < out.length; i++) bytes += out[i].frame.body.length
        this.headAt = this.head.length
        this.queuedItems -= out.length
        this.queuedBytes -= bytes
        this.head = this.rest?.shift() ?? NONE
        this.headAt = 0
        if (!target.push(out)) this.targetFull = true
      }
      if (!this.told && this.headAt >= this.head.length && (this.done || this.itemsEnded)) {
        this.told = true
        target.end(this.failure)
      }
    } finally {
      this.flushing = false
    }
    this.step()
  }

  /** Ends the source: after the queued items, with `err` or cleanly. */
  private finish (err: Error | undefined): void {
    if (this.done) return
    this.done = true
    if (err !== undefined) this.failure = err
    if (this.target !== undefined) {
      this.flush()
      return
    }
    const reader = this.reader
    this.reader = undefined
    if (reader === undefined) return
    if (err !== undefined) reader.reject(err)
    else reader.resolve(reader.batch ? undefined : DONE)
  }
}
