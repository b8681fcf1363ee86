import type { Frame } from '@proto/codec'
import type { BatchIterator } from '@proto/interface'
import { DONE, RESOLVED_DONE } from '@proto/interface'
import type { DurableSourceIterator } from '@proto/reconnect'
import { SessionProtocolError } from './errors.js'
import type { SessionItem } from './inbound.js'
import type { SessionState } from './state.js'

const NONE: SessionItem[] = []

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
 */
export class SessionSource implements BatchIterator<Frame>, AsyncIterable<Frame> {
  private held: SessionItem[] = NONE
  private at = 0
  private ended = false
  private failure: Error | undefined

  constructor (private readonly owner: SourceOwner) {}

  [Symbol.asyncIterator] (): this { return this }

  next (): Promise<IteratorResult<Frame>> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const frame = this.takeOne()
    if (frame !== undefined) return Promise.resolve({ done: false, value: frame })
    if (this.ended) return RESOLVED_DONE
    return this.refill().then(this.retryNext ??= () => this.next())
  }

  nextBatch (): Promise<Frame[] | undefined> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    let out: Frame[] | undefined
    for (let frame = this.takeOne(); frame !== undefined; frame = this.takeOne()) (out ??= []).push(frame)
    if (out !== undefined) return Promise.resolve(out)
    if (this.ended) return Promise.resolve(undefined)
    return this.refill().then(this.retryBatch ??= () => this.nextBatch())
  }

  async return (): Promise<IteratorResult<Frame>> {
    this.ended = true
    this.held = NONE
    await this.owner.items.return?.()
    return DONE
  }

  /** Delivers nothing more, now: what was read ahead is dropped (the session moved; the peer sends it again elsewhere). */
  stop (err: Error): void {
    this.failure = err
    this.held = NONE
    this.at = 0
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
      this.end()
      return
    }
    this.held = batch
    this.at = 0
  }

  private takeOne (): Frame | undefined {
    const held = this.held
    while (this.at < held.length) {
      const item = held[this.at++]
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
    if (item.gen === s.gen) s.stage?.delivered(item.frame.body.byteLength)
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
  private end (): void {
    this.ended = true
    const s = this.owner.state
    if (s.peerEndAt !== undefined && s.peerEndGen === s.gen && s.received === s.peerEndAt) {
      s.inEnded = true
      s.stage?.endDelivered()
    }
  }
}
