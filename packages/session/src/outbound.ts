import type { Frame } from '@proto/codec'
import type { BatchIterator, PushSource, PushTarget } from '@proto/interface'
import { DONE, isPushSource, toError } from '@proto/interface'
import type { Source } from 'it-stream-types'

/** What a connection's outbound needs from its stage. */
export interface OutboundOwner {
  /** Nothing this connection does counts any more (replaced, lost or closed). */
  readonly fenced: boolean
  /** Numbers a batch the feed handed over; returns the frames to write (those the peer lacks). */
  number(items: Frame[]): Frame[]
  /** The feed ended: our writing of the session is complete once END is acknowledged. */
  feedEnded(): void
  /** The feed failed. */
  feedFailed(err: Error): void
  /** The ACK to send now, or `undefined` when there is nothing to acknowledge. */
  ackFrame(): Frame | undefined
}

/** The control queue while it holds nothing: an idle session's connection keeps no array of its own (32 B). Never written to. */
const NONE: never[] = []

interface Writer {
  resolve(value: Frame[] | IteratorResult<Frame> | undefined): void
  reject(err: Error): void
  batch: boolean
}

/**
 * The one source the stage gives the connection's sink, for the connection's whole life: control frames
 * (RESUME, END, GOAWAY, then the current ACK) before data; data from the feed that reconnect attaches,
 * numbered by the stage, read one batch ahead. Ends only when the stage closes (`finish()`), so ACKs keep
 * flowing after our own writing has ended.
 *
 * A sink that takes pushes (the heartbeat's) subscribes instead of pulling: what is ready goes to it at
 * once, in the same order, and nothing is parked while the session is idle. When it asks to wait, one
 * numbered batch is held here (reading the feed stops) until it resumes.
 *
 * The feed may push too (reconnect's does, written with `sinkPush`): this object subscribes to it, takes
 * each batch in the call that made it ready, and asks it to wait while a numbered batch is held.
 */
export class SessionOutbound implements AsyncIterableIterator<Frame>, PushSource<Frame>, PushTarget<Frame> {
  /** Control frames queued ahead of data (`NONE` while there are none). */
  private control: Frame[] = NONE
  private ackDue = false
  private data: Frame[] | undefined
  private dataAt = 0
  private feed: BatchIterator<Frame> | undefined
  private feedReading = false
  private feedDone = false
  /** The feed pushes to this object; `feedPaused` while it was asked to wait. */
  private feedPusher: PushSource<Frame> | undefined
  private feedPaused = false
  /** The feed's end came while a numbered batch was held: told once that batch is taken. */
  private feedEndHeld = false
  private writer: Writer | undefined
  // push mode: the subscribed sink, whether it asked to wait, whether it was told the end, and a guard
  // against pushing from within a push (what becomes ready meanwhile goes out after it, in order)
  private target: PushTarget<Frame> | undefined
  private targetFull = false
  private told = false
  private pushing = false
  private again = false
  private finishing = false
  private ended = false
  private failure: Error | undefined

  constructor (private readonly owner: OutboundOwner) {}

  [Symbol.asyncIterator] (): this { return this }

  /** Starts draining `feed` (reconnect's items for this connection). */
  attach (feed: Source<Frame>): void {
    if (Symbol.asyncIterator in feed) {
      const it = feed[Symbol.asyncIterator]() as AsyncIterator<Frame> & Partial<BatchIterator<Frame>>
      if (isPushSource<Frame>(it)) {
        this.feedPusher = it
        try {
          it.subscribe(this) // batches ready now come at once
          return
        } catch {
          this.feedPusher = undefined // a feed that refuses a subscriber is read instead
        }
      }
      this.feed = typeof it.nextBatch === 'function'
        ? it as BatchIterator<Frame>
        : Object.assign(it, { nextBatch: async () => { const r = await it.next(); return r.done === true ? undefined : [r.value] } })
    } else {
      const it = feed[Symbol.iterator]()
      this.feed = Object.assign(it, { nextBatch: async () => { const r = it.next(); return r.done === true ? undefined : [r.value] } }) as unknown as BatchIterator<Frame>
    }
    this.readFeed()
  }

  /** Queues a control frame ahead of data; an ACK that fell due before it goes first (frames keep event order). */
  send (frame: Frame): void {
    if (this.ended || this.failure !== undefined) return
    if (this.ackDue) {
      this.ackDue = false
      const ack = this.owner.ackFrame()
      if (ack !== undefined) this.queueControl(ack)
    }
    this.queueControl(frame)
    this.wake()
  }

  private queueControl (frame: Frame): void {
    if (this.control === NONE) this.control = [frame]
    else this.control.push(frame)
  }

  /** An ACK is due: the current one is taken when the sink next pulls. */
  ack (): void {
    if (this.ended || this.failure !== undefined) return
    this.ackDue = true
    this.wake()
  }

  /** Ends once the control frames queued so far are out; no more data is sent. */
  finish (): void {
    this.finishing = true
    this.data = undefined
    this.wake()
  }

  /** Fails the sink's pull (or tells a subscribed sink) with `err`: nothing more is sent. */
  fail (err: Error): void {
    if (this.failure !== undefined || this.ended) return
    this.failure = err
    this.control = NONE
    this.data = undefined
    const w = this.writer
    this.writer = undefined
    w?.reject(err)
    this.pushReady()
  }

  /**
   * Push mode: from now on every frame goes to `target` as soon as it is ready (what is ready now, at
   * once), then the end or the failure. Once, with no `next()` pending.
   */
  subscribe (target: PushTarget<Frame>): void {
    if (this.target !== undefined || this.writer !== undefined) throw new Error('expected subscribe() once, with no next() pending, on a session\'s outbound frames')
    this.target = target
    this.pushReady()
  }

  /** Push mode: the sink takes frames again after `push()` returned `false`. */
  resume (): void {
    if (!this.targetFull) return
    this.targetFull = false
    this.pushReady()
  }

  next (): Promise<IteratorResult<Frame>> {
    return this.pull(false) as Promise<IteratorResult<Frame>>
  }

  nextBatch (): Promise<Frame[] | undefined> {
    return this.pull(true) as Promise<Frame[] | undefined>
  }

  async return (): Promise<IteratorResult<Frame>> {
    this.ended = true
    this.told = true // a subscribed sink that returns wants nothing more, its end included
    return DONE
  }

  private pull (batch: boolean): Promise<Frame[] | IteratorResult<Frame> | undefined> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const out = this.take()
    if (out !== undefined) return Promise.resolve(batch ? out : this.one(out))
    if (this.atEnd()) return Promise.resolve(batch ? undefined : DONE)
    return new Promise((resolve, reject) => {
      this.writer = { resolve, reject, batch }
      this.readFeed()
    })
  }

  /**
   * `next()` hands one frame: the rest of a batch goes back to the front, ahead of anything queued meanwhile
   * (taking data reads the feed, whose end queues END).
   */
  private one (frames: Frame[]): IteratorResult<Frame> {
    if (frames.length > 1) this.control = this.control === NONE ? frames.slice(1) : [...frames.slice(1), ...this.control]
    return { done: false, value: frames[0] }
  }

  private atEnd (): boolean {
    if (this.ended) return true
    if (this.finishing && this.control.length === 0) {
      this.ended = true
      return true
    }
    return false
  }

  /** Everything ready now: control frames, the current ACK, then the data read ahead. */
  private take (): Frame[] | undefined {
    let out: Frame[] | undefined
    if (this.control.length > 0) {
      out = this.control
      this.control = NONE
    }
    if (this.ackDue && !this.ended) {
      this.ackDue = false
      const ack = this.owner.ackFrame()
      if (ack !== undefined) (out ??= []).push(ack)
    }
    const data = this.data
    if (data !== undefined && !this.finishing) {
      this.data = undefined
      if (out === undefined && this.dataAt === 0) out = data
      else {
        out ??= []
        for (let i = this.dataAt; i < data.length; i++) out.push(data[i])
      }
      this.readFeed()
    }
    return out
  }

  /** From a feed that pushes: a batch to number and send; `false` while a numbered batch waits here. */
  push (batch: Frame[]): boolean {
    this.fed(batch)
    const more = this.data === undefined && !this.feedDone && !this.finishing && this.failure === undefined && !this.owner.fenced
    if (!more) this.feedPaused = true
    return more
  }

  /**
   * From a feed that pushes: its end (our writing is complete), or its failure. The end may come while a
   * numbered batch still waits here: END follows that batch, as it would have followed a read.
   */
  end (err?: Error): void {
    if (err !== undefined) this.feedError(err)
    else if (this.data !== undefined) this.feedEndHeld = true
    else this.fed(undefined)
  }

  private readFeed (): void {
    const pusher = this.feedPusher
    if (pusher !== undefined) {
      if (this.feedEndHeld && this.data === undefined) {
        this.feedEndHeld = false
        this.fed(undefined)
        return
      }
      if (!this.feedPaused || this.data !== undefined || this.feedDone || this.finishing || this.failure !== undefined) return
      this.feedPaused = false
      pusher.resume()
      return
    }
    const feed = this.feed
    if (feed === undefined || this.feedReading || this.feedDone || this.data !== undefined || this.finishing || this.failure !== undefined) return
    this.feedReading = true
    feed.nextBatch().then(this.onFeed ??= (batch) => { this.fed(batch) }, this.onFeedError ??= (err) => { this.feedError(err) })
  }

  private onFeed: ((batch: Frame[] | undefined) => void) | undefined
  private onFeedError: ((err: unknown) => void) | undefined

  private fed (batch: Frame[] | undefined): void {
    this.feedReading = false
    if (this.owner.fenced || this.failure !== undefined) return
    if (batch === undefined) {
      this.feedDone = true
      this.owner.feedEnded()
      return
    }
    const frames = this.owner.number(batch)
    if (frames.length > 0) {
      this.data = frames
      this.dataAt = 0
      this.wake()
    } else {
      this.readFeed()
    }
  }

  private feedError (err: unknown): void {
    this.feedReading = false
    this.feedDone = true
    if (this.owner.fenced) return
    this.owner.feedFailed(toError(err))
  }

  /** A waiting sink gets what is ready now (or the end). */
  private wake (): void {
    if (this.target !== undefined) {
      this.pushReady()
      return
    }
    const w = this.writer
    if (w === undefined) return
    const out = this.take()
    if (out === undefined && !this.atEnd()) return
    this.writer = undefined
    if (w.batch) w.resolve(out)
    else w.resolve(out === undefined ? DONE : this.one(out))
  }

  /** Push mode: hands the subscribed sink what is ready while it takes it, then the end or the failure. */
  private pushReady (): void {
    const target = this.target
    if (target === undefined) return
    if (this.pushing) {
      this.again = true
      return
    }
    this.pushing = true
    try {
      do {
        this.again = false
        while (!this.told) {
          // a failure drops what was queued: the sink hears of it at once, asking to wait or not
          if (this.failure !== undefined) {
            this.told = true
            target.end(this.failure)
            break
          }
          if (this.targetFull) break
          const out = this.take()
          if (out === undefined) {
            if (this.atEnd()) {
              this.told = true
              target.end()
            }
            break
          }
          if (!target.push(out)) this.targetFull = true
        }
      } while (this.again && !this.told)
    } finally {
      this.pushing = false
    }
  }
}
