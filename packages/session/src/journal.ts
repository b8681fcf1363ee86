import type { Frame } from '@proto/codec'
import type { BatchIterator } from '@proto/interface'
import { asyncIteratorOf, DONE, InvalidParametersError, isBatchIterator, iteratorOf, RESOLVED_DONE } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { SessionMovedError } from './errors.js'

/** What a journal needs from its session. */
export interface JournalOwner {
  /** Highest outbound position the peer acknowledged: frames up to it are dropped. */
  readonly outAcked: number
  /** A frame was journaled. */
  changed(): void
  /**
   * What the link's sink refuses (its `validate`), to journal nothing it will not number: the refused frame
   * and what follows it in its batch are refused by the link too, and the application's sink ends there.
   */
  readonly check?: (frame: Frame) => void
}

const NONE: Frame[] = []
/** Appends between two trims of what the peer acknowledged (and at every `pending()`). */
const TRIM_EVERY = 64

/**
 * A server session's outbound journal, for a durable session store: every frame the application's sink
 * takes is kept here, by position, until the peer acknowledges it, so the session can be handed to
 * another node with everything that was written and not acknowledged (sent or still buffered). It is also
 * the source reconnect's sink drains (`next()`, or `nextBatch()` for everything ready at once): frames
 * restored from a store first, then the application's own.
 * Frames are shared with reconnect's buffers, never copied.
 */
export class Journal implements BatchIterator<Frame>, AsyncIterator<Frame> {
  /** Position of `frames[head]` minus one. */
  private base: number
  private frames: Frame[]
  private head = 0
  /** Frames restored from a store, still to be fed (they are journaled already). */
  private prefix: Frame[]
  private app: BatchIterator<Frame> | AsyncIterator<Frame> | Iterator<Frame> | undefined
  private appAsync = false
  private provided: (() => void) | undefined
  private cut: Error | undefined
  /** Nothing is fed before the session's first connection was judged (a restored session may skip some). */
  private started = false
  private onStart: (() => void) | undefined
  /** The application's plain async iterator once nothing else comes first (see `refresh`), else `undefined`. */
  private direct: AsyncIterator<Frame> | undefined
  /** Frames appended since the last trim (acknowledged frames are dropped every `TRIM_EVERY` appends). */
  private sinceTrim = 0
  /** Frames pulled (and journaled), not yet handed to reconnect. */
  private held: Frame[] = NONE
  private at = 0
  private done = false

  /**
   * @param startAt the position before the first journaled frame (`outAcked` of a restored session, else 0)
   * @param restored frames from a store, positions `startAt + 1` …
   * @param ended the application's writing ended on the node before (its END is in the snapshot): feed only `restored`
   */
  constructor (private readonly owner: JournalOwner, startAt: number, restored: Frame[], private readonly ended: boolean) {
    this.base = startAt
    this.frames = restored.slice()
    this.prefix = this.frames.slice()
  }

  /** Highest journaled position. */
  get written (): number { return this.base + this.frames.length - this.head }

  /** The unacknowledged frames, from `outAcked + 1`. */
  pending (): Frame[] {
    this.trim()
    return this.frames.slice(this.head)
  }

  /** A restored session whose peer already has everything up to `position` (the node before died): drop those. */
  skipTo (position: number): void {
    const drop = Math.max(0, Math.min(position - this.base, this.frames.length - this.head))
    this.head += drop
    this.prefix = this.prefix.slice(drop)
    this.base = Math.max(this.base + drop, position)
    this.refresh()
  }

  /** The first connection was taken: feeding may begin. */
  start (): void {
    this.started = true
    this.refresh()
    this.onStart?.()
  }

  /** The application's sink: its frames follow the restored ones. */
  provide (source: Source<Frame>): void {
    if (this.app !== undefined) throw new InvalidParametersError('sink was called already: a session\'s sink takes one source (with a durable store, its items go through the journal)')
    this.appAsync = Symbol.asyncIterator in source
    const it: AsyncIterator<Frame> | Iterator<Frame> = this.appAsync ? asyncIteratorOf(source as AsyncIterable<Frame>) : iteratorOf(source as Iterable<Frame>)
    this.app = it
    this.refresh()
    this.provided?.()
  }

  /** The session moved: nothing more is taken from the application. */
  close (err: Error): void {
    this.cut = err
    this.refresh()
    this.provided?.()
    this.onStart?.()
  }

  /** The next frames to feed: restored ones first, then the application's (journaled as they are taken). */
  private async pull (): Promise<Frame[] | undefined> {
    if (!this.started) await new Promise<void>((resolve) => { this.onStart = resolve })
    if (this.cut !== undefined) throw this.cut
    if (this.prefix.length > 0) {
      const out = this.prefix
      this.prefix = NONE
      this.refresh()
      return out
    }
    if (this.ended) return undefined
    if (this.app === undefined) await new Promise<void>((resolve) => { this.provided = resolve })
    if (this.cut !== undefined) throw this.cut
    const app = this.app as BatchIterator<Frame> | AsyncIterator<Frame> | Iterator<Frame>
    let batch: Frame[] | undefined
    if (isBatchIterator<Frame>(app)) {
      batch = await app.nextBatch()
    } else {
      const r = await app.next()
      batch = r.done === true ? undefined : [r.value]
    }
    if (this.cut !== undefined) throw new SessionMovedError('The session moved to another node before these frames could be taken', { cause: this.cut })
    if (batch === undefined) return undefined
    this.append(batch)
    return batch
  }

  next (): Promise<IteratorResult<Frame>> {
    if (this.cut !== undefined) return Promise.reject(this.cut)
    if (this.at < this.held.length) return Promise.resolve({ done: false, value: this.held[this.at++] })
    if (this.done) return RESOLVED_DONE
    const app = this.direct
    if (app !== undefined) return app.next().then(this.tookOne ??= (r) => { this.took(r); return r })
    return this.pull().then((batch) => {
      if (batch === undefined || batch.length === 0) {
        if (batch === undefined) this.done = true
        return batch === undefined ? DONE : this.next()
      }
      this.held = batch
      this.at = 1
      return { done: false, value: batch[0] }
    })
  }

  /** Everything ready at once: restored frames, then each batch the application hands over (one `next()` step when it has no batches). */
  nextBatch (): Promise<Frame[] | undefined> {
    if (this.cut !== undefined) return Promise.reject(this.cut)
    if (this.at < this.held.length) {
      const out = this.at === 0 ? this.held : this.held.slice(this.at)
      this.held = NONE
      this.at = 0
      return Promise.resolve(out)
    }
    if (this.done) return Promise.resolve(undefined)
    const app = this.direct
    if (app !== undefined) return app.next().then(this.tookBatch ??= r => this.took(r) ? [r.value] : undefined)
    return this.pull().then((batch) => {
      if (batch === undefined) {
        this.done = true
        return undefined
      }
      return batch.length === 0 ? this.nextBatch() : batch
    })
  }

  /**
   * Keeps `direct`: the application's async iterator when it has no batches, once the first connection was
   * judged and restored frames are out (and while the session is here). Its next item is then taken and
   * journaled in the one promise step that takes it (`took`); otherwise `pull` runs.
   */
  private refresh (): void {
    const app = this.app
    this.direct = this.started && this.prefix.length === 0 && !this.ended && this.cut === undefined && app !== undefined && this.appAsync && !isBatchIterator<Frame>(app) ? app as AsyncIterator<Frame> : undefined
  }

  private tookOne: ((r: IteratorResult<Frame>) => IteratorResult<Frame>) | undefined
  private tookBatch: ((r: IteratorResult<Frame>) => Frame[] | undefined) | undefined

  /** Journals what the application's `next()` gave; returns whether it was an item (else its end). */
  private took (r: IteratorResult<Frame>): boolean {
    if (this.cut !== undefined) throw new SessionMovedError('The session moved to another node before this frame could be taken', { cause: this.cut })
    if (r.done === true) {
      this.done = true
      return false
    }
    this.appendOne(r.value)
    return true
  }

  async return (): Promise<IteratorResult<Frame>> {
    const app = this.app
    if (app !== undefined && typeof app.return === 'function') await app.return()
    return DONE
  }

  [Symbol.asyncIterator] (): this { return this }

  private append (batch: Frame[]): void {
    this.trim()
    const n = this.checked(batch)
    for (let i = 0; i < n; i++) this.frames.push(batch[i])
    this.owner.changed()
  }

  private appendOne (frame: Frame): void {
    if (this.checked([frame]) === 0) return
    if (++this.sinceTrim >= TRIM_EVERY) this.trim()
    this.frames.push(frame)
    this.owner.changed()
  }

  /** How many frames of `batch` the link will take: those before the first it refuses. */
  private checked (batch: Frame[]): number {
    const check = this.owner.check
    if (check === undefined) return batch.length
    for (let i = 0; i < batch.length; i++) {
      try {
        check(batch[i])
      } catch {
        return i
      }
    }
    return batch.length
  }

  /** Drops what the peer acknowledged. */
  private trim (): void {
    this.sinceTrim = 0
    const drop = Math.min(this.owner.outAcked - this.base, this.frames.length - this.head)
    if (drop <= 0) return
    this.head += drop
    this.base += drop
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head)
      this.head = 0
    }
  }
}
