import type { Slot } from '@proto/interface'
import { slotAdd, slotEach } from '@proto/interface'
import type { AbortWatcher, DialContext } from './types.js'

/** Where an attempt's `confirm` and `lost` go: the durable duplex, told which dial they came from. */
export interface AttemptOwner {
  confirmFrom(epoch: number, count: number): void
  lostFrom(epoch: number, err: Error): void
  limitFrom(epoch: number, maxMessages: number, maxBytes: number): void
}

/**
 * One dial and the connection it makes: the {@link DialContext} the dial function gets. It ends once
 * (`abort`): when the dial times out, is superseded or fails, when the durable duplex closes, or when the
 * connection it made is lost. Its `signal` is made only when someone reads it (an `AbortSignal` with a
 * listener costs about 1 KiB of heap, for as long as the connection lives); a stage of the connection that
 * only needs to know uses `aborted` and `onAbort` instead.
 */
export class DialAttempt implements DialContext {
  /** Set while the dial runs: fails the dial at once when the attempt ends before it settles. */
  failDial: ((reason: Error) => void) | undefined
  #controller: AbortController | undefined
  #reason: Error | undefined
  #watchers: Slot<((reason: Error) => void) | AbortWatcher>

  constructor (
    readonly attempt: number,
    private readonly epoch: number,
    private readonly owner: AttemptOwner
  ) {}

  /**
   * `DialContext.confirm`, made when asked for (a stage may take it apart from the context) rather than
   * kept for the connection's life.
   */
  get confirm (): (count: number) => void {
    return (count) => { this.owner.confirmFrom(this.epoch, count) }
  }

  /** `DialContext.lost`, made when asked for, as `confirm` is. */
  get lost (): (err: Error) => void {
    return (err) => { this.owner.lostFrom(this.epoch, err) }
  }

  /** `DialContext.limitUnconfirmed`. */
  limitUnconfirmed (maxMessages: number, maxBytes: number): void {
    this.owner.limitFrom(this.epoch, maxMessages, maxBytes)
  }

  get aborted (): boolean {
    return this.#reason !== undefined
  }

  /** Why the attempt ended; `undefined` while it goes on. */
  get reason (): Error | undefined {
    return this.#reason
  }

  get signal (): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#reason !== undefined) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  onAbort (fn: ((reason: Error) => void) | AbortWatcher): void {
    if (this.#reason !== undefined) {
      tell(fn, this.#reason)
      return
    }
    this.#watchers = slotAdd(this.#watchers, fn)
  }

  /** Ends the attempt with `reason` (the first reason wins): the dial fails if it still runs, watchers are called, `signal` aborts. */
  abort (reason: Error): void {
    if (this.#reason !== undefined) return
    this.#reason = reason
    const failDial = this.failDial
    this.failDial = undefined
    failDial?.(reason)
    const w = this.#watchers
    this.#watchers = undefined
    slotEach(w, (fn) => { tell(fn, reason) })
    this.#controller?.abort(reason)
  }
}

function tell (watcher: ((reason: Error) => void) | AbortWatcher, reason: Error): void {
  if (typeof watcher === 'function') watcher(reason)
  else watcher.dialAborted(reason)
}
