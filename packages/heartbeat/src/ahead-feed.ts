import type { Frame } from '@proto/codec'
import type { Feed, FeedOwner } from './feed.js'

/** The source ended (no failure). */
export const ENDED = Object.freeze({ err: undefined })

/**
 * What every asynchronous feed shares: frames ready to take (`ahead`, from `index` on), then the end or
 * the failure the source settled with, surfaced only once every frame before it was taken. How frames get
 * here (read, or pushed) is the subclass's.
 */
export abstract class AheadFeed implements Feed {
  protected ahead: Frame[] | undefined
  protected index = 0
  protected over: { err: unknown } | undefined
  protected stopped = false

  /** `source`: what is released (its `return()`) when the feed stops before the source ended. */
  constructor (protected readonly owner: FeedOwner, private readonly source: { return?: () => unknown }) {}

  get ended (): boolean {
    return this.over === ENDED && this.ahead === undefined
  }

  get hasReady (): boolean {
    return this.ahead !== undefined || this.over !== undefined
  }

  get failing (): boolean {
    return this.ahead === undefined && this.over !== undefined && this.over !== ENDED
  }

  take (): Frame | undefined {
    const ahead = this.ahead
    if (ahead !== undefined) {
      const frame = ahead[this.index++] as Frame
      if (this.index >= ahead.length) this.clearAhead()
      return frame
    }
    const over = this.over
    if (over !== undefined) {
      if (over === ENDED) return undefined
      this.over = ENDED
      throw over.err
    }
    return this.nothingAhead()
  }

  takeRun (into: Frame[], maxFrames: number, maxBytes: number, bytes: number): number {
    const ahead = this.ahead
    if (ahead === undefined) return bytes
    let i = this.index
    while (i < ahead.length && into.length < maxFrames && bytes < maxBytes) {
      const frame = ahead[i++] as Frame
      into.push(frame)
      bytes += frame.body.length
    }
    if (i >= ahead.length) this.clearAhead()
    else this.index = i
    return bytes
  }

  /** Stops taking: frames not taken are counted unsent, the source is released. */
  stop (): void {
    if (this.stopped) return
    this.stopped = true
    if (this.ahead !== undefined) this.owner.unsent(this.ahead.length - this.index)
    this.clearAhead()
    if (this.over === undefined) abandon(this.source)
    this.over = ENDED
  }

  /** `take()` found nothing ahead and no end: start what brings more (a read), and give a frame if one came at once. */
  protected abstract nothingAhead (): Frame | undefined

  protected clearAhead (): void {
    this.ahead = undefined
    this.index = 0
  }
}

/** Calls an iterator's (or a push source's) `return()`, ignoring whatever it throws or rejects with: the source is being abandoned. */
export function abandon (it: { return?: () => unknown }): void {
  try {
    const r = it.return?.()
    if (r != null && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, () => {})
  } catch {}
}
