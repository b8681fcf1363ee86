import type { Slot } from '@proto/interface'
import { slotAdd, slotEach } from '@proto/interface'
import type { DialContext } from './types.js'

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
  #watchers: Slot<(reason: Error) => void>

  constructor (
    readonly attempt: number,
    readonly confirm: (count: number) => void,
    readonly lost: (err: Error) => void
  ) {}

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

  onAbort (fn: (reason: Error) => void): void {
    if (this.#reason !== undefined) {
      fn(this.#reason)
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
    slotEach(w, (fn) => { fn(reason) })
    this.#controller?.abort(reason)
  }
}
