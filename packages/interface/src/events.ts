import { getEventListeners } from 'node:events'

/**
 * The one event API of the SDK: every object that emits events is a real `EventTarget` whose events are
 * `CustomEvent`s carrying a typed `detail`, so `addEventListener`, `removeEventListener`, `dispatchEvent`,
 * the `{ once, signal }` options, `instanceof EventTarget`, and Node's `events.once(target, type)` and
 * `events.on(target, type)` all work as users know them.
 *
 * Throwing listeners follow Node's `EventTarget` rule: the error neither disturbs the emitter nor stops the
 * other listeners; it is reported as an uncaught exception on the next tick, as with `EventEmitter`.
 */

/** A listener of an event whose `detail` is `D`. */
export type TypedEventListener<D> = ((event: CustomEvent<D>) => void) | { handleEvent(event: CustomEvent<D>): void }

/** Options of `addEventListener`, as in the DOM: `once`, `signal` (removes the listener on abort), `capture`. */
export type ListenerOptions = boolean | { once?: boolean, signal?: AbortSignal, capture?: boolean, passive?: boolean }

type AnyListener = ((event: Event) => void) | { handleEvent(event: Event): void }

/** An `EventTarget` whose event types and their `detail` are described by `Events`. */
export class TypedEventTarget<Events extends object> extends EventTarget {
  override addEventListener<K extends keyof Events & string> (type: K, listener: TypedEventListener<Events[K]> | null, options?: ListenerOptions): void
  override addEventListener (type: string, listener: AnyListener | null, options?: ListenerOptions): void
  override addEventListener (type: string, listener: AnyListener | null, options?: ListenerOptions): void {
    if (listener != null) super.addEventListener(type, listener, options)
  }

  override removeEventListener<K extends keyof Events & string> (type: K, listener: TypedEventListener<Events[K]> | null, options?: boolean | { capture?: boolean }): void
  override removeEventListener (type: string, listener: AnyListener | null, options?: boolean | { capture?: boolean }): void
  override removeEventListener (type: string, listener: AnyListener | null, options?: boolean | { capture?: boolean }): void {
    if (listener != null) super.removeEventListener(type, listener, options)
  }

  /** How many listeners are registered for `type`. */
  listenerCount (type: keyof Events & string): number {
    return getEventListeners(this, type).length
  }

  /**
   * Dispatches a `CustomEvent` of `type` carrying `detail`, only when someone listens (nothing is
   * allocated otherwise). Returns whether there was a listener.
   */
  safeDispatchEvent<K extends keyof Events & string> (type: K, detail: Events[K]): boolean {
    if (getEventListeners(this, type).length === 0) return false
    this.dispatchEvent(new CustomEvent(type, { detail }))
    return true
  }
}
