import type { Frame } from '@proto/codec'
import type { BatchIterator, PushSource, PushTarget } from '@proto/interface'
import { DONE, InvalidParametersError, isPushSource, RESOLVED_DONE } from '@proto/interface'
import type { DurableSourceIterator } from '@proto/reconnect'
import { SessionProtocolError } from './errors.js'
import type { SessionItem } from './inbound.js'
import type { SessionState } from './state.js'

const NONE: SessionItem[] = []

interface Reader {
  resolve(value: IteratorResult<Frame> | Frame[] | undefined): void
  reject(err: Error): void
  batch: boolean
}

/** What the session's source needs from its endpoint. */
export interface SourceOwner {
  readonly state: SessionState
  /** The durable source's items: numbered frames from whichever connection is current. */
  readonly items: DurableSourceIterator<SessionItem>
  /** The items do not follow each other: the session is broken. */
  broken(err: Error): void
}

/**
 * The application's source of a session: drops items it already delivered (replays after a resume),
 * strips the numbering, and counts a delivery when the application pulls the item, so an ACK always
 * means "handed to the application". Reads batches from the durable source and serves them as
 * already-resolved promises. When the durable source ends after the peer's END, the end is delivered too
 * and acknowledged.
 *
 * A durable source that can push (reconnect's) is subscribed to at the first read: each batch arrives in
 * the call that brought it and goes to a waiting read at once; while one batch is held here the durable
 * source is asked to wait, as a read would not have been made. Only the application's own read is parked
 * while the session is idle.
 *
 * It can push in turn (`PushSource`): a sink that subscribes (reconnect's, when the application writes the
 * session's source straight back, as an echo or a relay does) is handed each batch of new frames in the
 * call that brought it, and counted delivered then. Nothing at all is parked for such a session.
 */
export class SessionSource implements BatchIterator<Frame>, AsyncIterable<Frame>, PushTarget<SessionItem>, PushSource<Frame> {
  private held: SessionItem[] = NONE
  private at = 0
  private ended = false
  private failure: Error | undefined
  /** Push mode: subscribed to the durable source; `waiting` while it was asked to wait; the application's parked read. */
  private subscribed = false
  private waiting = false
  private reader: Reader | undefined
  /** Push mode: the end or failure the durable source told, delivered once what is held has been taken. */
  private pushedEnd = false
  private pushedFailure: Error | undefined
  /** Push mode downwards: the subscribed sink, whether it asked to wait, whether it was told the end. */
  private target: PushTarget<Frame> | undefined
  private targetFull = false
  private targetTold = false
  private serving = false
  private again = false

  constructor (private readonly owner: SourceOwner) {}

  [Symbol.asyncIterator] (): this { return this }

  next (): Promise<IteratorResult<Frame>> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    let frame: Frame | undefined
    try {
      frame = this.takeOne()
    } catch (err) {
      return Promise.reject(err)
    }
    if (frame !== undefined) {
      if (this.waiting) this.serve()
      return Promise.resolve({ done: false, value: frame })
    }
    if (this.ended) return RESOLVED_DONE
    if (this.subscribeItems()) return this.park(false) as Promise<IteratorResult<Frame>>
    return this.refill().then(this.retryNext ??= () => this.next())
  }

  nextBatch (): Promise<Frame[] | undefined> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    let out: Frame[] | undefined
    try {
      out = this.takeAll()
    } catch (err) {
      return Promise.reject(err)
    }
    if (out !== undefined) {
      if (this.waiting) this.serve()
      return Promise.resolve(out)
    }
    if (this.ended) return Promise.resolve(undefined)
    if (this.subscribeItems()) return this.park(true) as Promise<Frame[] | undefined>
    return this.refill().then(this.retryBatch ??= () => this.nextBatch())
  }

  async return (): Promise<IteratorResult<Frame>> {
    this.targetTold = true // a subscriber that returns wants nothing more, its end included
    this.ended = true
    this.held = NONE
    this.settleReader()
    await this.owner.items.return?.()
    return DONE
  }

  /** Delivers nothing more, now: what was read ahead is dropped (the session moved; the peer sends it again elsewhere). */
  stop (err: Error): void {
    this.failure = err
    this.held = NONE
    this.at = 0
    this.settleReader()
  }

  /** Push mode, from the durable source: a batch, handed to a waiting read at once; `false` while one is held. */
  push (items: SessionItem[]): boolean {
    if (this.failure !== undefined || this.ended) return false
    if (this.at < this.held.length) this.held = this.held.slice(this.at).concat(items)
    else this.held = items
    this.at = 0
    this.serve()
    const more = this.at >= this.held.length && this.failure === undefined && !this.ended
    if (!more) this.waiting = true
    return more
  }

  /** Push mode, from the durable source: its end (delivered after what is held), or its failure. */
  end (err?: Error): void {
    if (err !== undefined) {
      this.pushedFailure ??= err
    } else {
      this.pushedEnd = true
    }
    this.serve()
  }

  /**
   * Push mode downwards: from now on new frames go to `target` as they come (those held, at once), then the
   * end or the failure. Once, with no read pending. Refused (the sink then reads) when the durable source
   * beneath cannot push.
   */
  subscribe (target: PushTarget<Frame>): void {
    if (this.target !== undefined || this.reader !== undefined) throw new Error('expected subscribe() once, with no read pending, on a session\'s source')
    if (!this.subscribeItems()) throw new Error('expected a durable source that pushes beneath a session\'s source that is subscribed to; read it instead')
    this.target = target
    this.serve()
  }

  /** Push mode downwards: the sink takes frames again after `push()` returned `false`. */
  resume (): void {
    if (!this.targetFull) return
    this.targetFull = false
    this.serve()
  }

  /** Subscribes to the durable source if it can push (once, at the first read that finds nothing held). */
  private subscribeItems (): boolean {
    if (this.subscribed) return true
    const items = this.owner.items
    if (!isPushSource<SessionItem>(items)) return false
    try {
      items.subscribe(this)
    } catch {
      return false
    }
    this.subscribed = true
    return true
  }

  /** Push mode: parks the application's read until a batch, the end or the failure comes (maybe at once). */
  private park (batch: boolean): Promise<IteratorResult<Frame> | Frame[] | undefined> {
    // one consumer: a second read while one waits would leave one of them unanswered for good
    if (this.reader !== undefined) return Promise.reject(new InvalidParametersError('expected one read at a time from the session\'s source (one consumer), but a read was already waiting'))
    return new Promise((resolve, reject) => {
      this.reader = { resolve, reject, batch }
      this.serve()
    })
  }

  /** Push mode: answers a waiting read from what is held, then the end or the failure; resumes the durable source once everything held was taken. */
  private serve (): void {
    if (this.target !== undefined) {
      this.serveTarget(this.target)
      return
    }
    const reader = this.reader
    if (reader !== undefined) {
      let out: Frame[] | Frame | undefined
      try {
        out = reader.batch ? this.takeAll() : this.takeOne()
      } catch (err) {
        this.reader = undefined
        reader.reject(err as Error)
        return
      }
      if (out !== undefined) {
        this.reader = undefined
        reader.resolve(reader.batch ? out as Frame[] : { done: false, value: out as Frame })
      } else if (this.at >= this.held.length && (this.pushedEnd || this.pushedFailure !== undefined)) {
        this.reader = undefined
        const err = this.pushedFailure
        if (err !== undefined) {
          // the failure once, then the end, as a durable source read again after failing answers
          this.pushedFailure = undefined
          this.pushedEnd = true
          reader.reject(err)
        } else {
          this.reachEnd()
          reader.resolve(reader.batch ? undefined : DONE)
        }
      }
    }
    if (this.waiting && this.at >= this.held.length && this.failure === undefined && !this.ended) {
      this.waiting = false
      ;(this.owner.items as unknown as { resume(): void }).resume()
    }
  }

  /** Push mode downwards: hands the subscriber the new frames held while it takes them, then the end or the failure. */
  private serveTarget (target: PushTarget<Frame>): void {
    if (this.serving) {
      this.again = true // asked from within a push: looked at again once it returns, in order
      return
    }
    this.serving = true
    try {
      do {
        this.again = false
        if (this.targetTold) return
        if (this.failure !== undefined) {
          this.targetTold = true
          target.end(this.failure)
          return
        }
        while (!this.targetFull && this.at < this.held.length) {
          let out: Frame[] | undefined
          try {
            out = this.takeAll()
          } catch (err) {
            this.targetTold = true
            target.end(err as Error)
            return
          }
          if (out !== undefined && !target.push(out)) this.targetFull = true
        }
        if (!this.targetFull && this.at >= this.held.length && (this.pushedEnd || this.pushedFailure !== undefined)) {
          this.targetTold = true
          const err = this.pushedFailure
          this.pushedFailure = undefined
          if (err !== undefined) target.end(err)
          else {
            this.reachEnd()
            target.end()
          }
          return
        }
      } while (this.again)
    } finally {
      this.serving = false
    }
    if (this.waiting && this.at >= this.held.length && this.failure === undefined && !this.ended) {
      this.waiting = false
      ;(this.owner.items as unknown as { resume(): void }).resume()
    }
  }

  /** A waiting read ends now (the source was returned or stopped). */
  private settleReader (): void {
    const target = this.target
    if (target !== undefined && !this.targetTold) {
      this.targetTold = true
      if (this.failure !== undefined) target.end(this.failure)
      else target.end()
    }
    const reader = this.reader
    if (reader === undefined) return
    this.reader = undefined
    if (this.failure !== undefined) reader.reject(this.failure)
    else reader.resolve(reader.batch ? undefined : DONE)
  }

  // the callbacks of a refill, made on first use: a read parked for a session's life holds no closure of its own
  private retryNext: (() => Promise<IteratorResult<Frame>>) | undefined
  private retryBatch: (() => Promise<Frame[] | undefined>) | undefined
  private onRefill: ((batch: SessionItem[] | undefined) => void) | undefined

  /** Reads the next batch of the durable source (no async function: its frame would stay parked with the read). */
  private refill (): Promise<void> {
    let read: Promise<SessionItem[] | undefined>
    try {
      read = this.owner.items.nextBatch()
    } catch (err) {
      return Promise.reject(err)
    }
    return read.then(this.onRefill ??= (batch) => { this.refilled(batch) })
  }

  private refilled (batch: SessionItem[] | undefined): void {
    if (this.failure !== undefined) throw this.failure
    if (batch === undefined) {
      this.reachEnd()
      return
    }
    this.held = batch
    this.at = 0
  }

  /**
   * Every new frame held, or `undefined` when none is. The items that follow the last one delivered in its
   * incarnation, as a connection's batch does, are admitted as one run: counted, and told to the stage and
   * the store, once; any other item goes through `admit()`, after the run before it was counted.
   */
  private takeAll (): Frame[] | undefined {
    const held = this.held
    const s = this.owner.state
    let out: Frame[] | undefined
    let run = 0
    let bytes = 0
    while (this.at < held.length) {
      const item = held[this.at]
      if (item.gen === s.inGen && item.seq === s.inSeq + 1) {
        this.at++
        s.inSeq = item.seq
        run++
        bytes += item.frame.body.length
        ;(out ??= []).push(item.frame)
        continue
      }
      if (run > 0) {
        this.admitted(run, bytes)
        run = bytes = 0
      }
      this.at++
      if (this.admit(item)) (out ??= []).push(item.frame)
    }
    if (run > 0) this.admitted(run, bytes)
    return out
  }

  /** A run of `items` items (`bytes` body bytes) of the incarnation delivered last was admitted in order. */
  private admitted (items: number, bytes: number): void {
    const s = this.owner.state
    s.counters.delivered += items
    s.onChange?.()
    if (s.inGen === s.gen) s.stage?.delivered(items, bytes)
  }

  private takeOne (): Frame | undefined {
    const held = this.held
    const s = this.owner.state
    while (this.at < held.length) {
      const item = held[this.at++]
      if (item.gen === s.inGen && item.seq === s.inSeq + 1) {
        // the next item of the incarnation delivered last: what admit() decides, without its other cases
        s.inSeq = item.seq
        this.admitted(1, item.frame.body.length)
        return item.frame
      }
      if (this.admit(item)) return item.frame
    }
    return undefined
  }

  /** Whether `item` is new: the next in its incarnation, or the first of a new one. Counts either way. */
  private admit (item: SessionItem): boolean {
    const s = this.owner.state
    if (item.gen === s.inGen) {
      if (item.seq <= s.inSeq) return this.duplicate(item)
      if (item.seq !== s.inSeq + 1) this.gap(item)
    } else if (item.gen > s.inGen) {
      if (item.seq !== 1) this.gap(item)
      s.inGen = item.gen
    } else {
      return this.duplicate(item)
    }
    s.inSeq = item.seq
    s.counters.delivered++
    s.onChange?.()
    if (item.gen === s.gen) s.stage?.delivered(1, item.frame.body.length)
    return true
  }

  private duplicate (item: SessionItem): boolean {
    const s = this.owner.state
    s.counters.deduplicated++
    if (item.gen === s.gen) s.stage?.duplicate()
    return false
  }

  private gap (item: SessionItem): never {
    const s = this.owner.state
    const err = new SessionProtocolError(`expected item ${s.inSeq + 1} next, but got ${item.seq}: items were lost between connections`)
    this.owner.broken(err)
    throw err
  }

  /** The durable source ended: after the peer's END, that end is delivered now and acknowledged. */
  private reachEnd (): void {
    this.ended = true
    const s = this.owner.state
    if (s.peerEndAt !== undefined && s.peerEndGen === s.gen && s.received === s.peerEndAt) {
      s.inEnded = true
      s.stage?.endDelivered()
    }
  }
}
