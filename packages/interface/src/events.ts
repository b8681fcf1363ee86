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

/** A listener of an event whose `detail` is `D`: a function, or an object with a `handleEvent` method. */
export type TypedEventListener<D> = ((event: CustomEvent<D>) => void) | {
  /** Called with each event, with the object as `this`. */
  handleEvent(event: CustomEvent<D>): void
}

/**
 * Options of `addEventListener`, as in the DOM. A bare boolean is `capture`.
 */
export type ListenerOptions = boolean | {
  /** Removes the listener after its first call. @default false */
  once?: boolean
  /** Removes the listener when this signal aborts. */
  signal?: AbortSignal
  /** Accepted for DOM compatibility; there is no capture phase here, so it only matters to match a later `removeEventListener`. @default false */
  capture?: boolean
  /** Accepted for DOM compatibility; these events are not cancelable, so it changes nothing. @default false */
  passive?: boolean
}

/**
 * A listener of any event, as a plain `EventTarget` takes it: the listener type of the untyped overloads of
 * {@link TypedEventTarget}, used for an event type not named in its `Events` map.
 */
export type AnyListener = ((event: Event) => void) | {
  /** Called with each event, with the object as `this`. */
  handleEvent(event: Event): void
}

/** An `EventTarget` whose event types and their `detail` are described by `Events`. */
export class TypedEventTarget<Events extends object> extends EventTarget {
  /**
   * The event types that ever had a listener: a type outside it has none, which `hasListeners` answers
   * without asking Node (whose `getEventListeners` makes an array per call). Made with the first listener.
   */
  #listened: string[] | undefined

  /** Calls `listener` with each `type` event; its `detail` is typed by `Events`. A `null` listener is ignored. */
  override addEventListener<K extends keyof Events & string> (type: K, listener: TypedEventListener<Events[K]> | null, options?: ListenerOptions): void
  /** Calls `listener` with each `type` event, for an event type outside `Events` (as on any `EventTarget`). */
  override addEventListener (type: string, listener: AnyListener | null, options?: ListenerOptions): void
  override addEventListener (type: string, listener: AnyListener | null, options?: ListenerOptions): void {
    if (listener == null) return
    // copied on each new type (types are few and added rarely): exactly sized, where a pushed-to array
    // would reserve room for 17 types (0.15 KiB) on an object that has one listener
    const listened = this.#listened
    if (listened === undefined) this.#listened = [type]
    else if (!listened.includes(type)) this.#listened = [...listened, type]
    super.addEventListener(type, listener, options)
  }

  /** Removes a listener added with the same `type`, `listener` and `capture`; does nothing if there is none. */
  override removeEventListener<K extends keyof Events & string> (type: K, listener: TypedEventListener<Events[K]> | null, options?: boolean | { capture?: boolean }): void
  /** Removes a listener of an event type outside `Events`, added with the same `type`, `listener` and `capture`. */
  override removeEventListener (type: string, listener: AnyListener | null, options?: boolean | { capture?: boolean }): void
  override removeEventListener (type: string, listener: AnyListener | null, options?: boolean | { capture?: boolean }): void {
    if (listener != null) super.removeEventListener(type, listener, options)
  }

  /** How many listeners are registered for `type`. */
  listenerCount (type: keyof Events & string): number {
    return this.#listened?.includes(type) === true ? getEventListeners(this, type).length : 0
  }

  /**
   * Whether anyone listens to `type`: cheap when nobody ever did (nothing is allocated), so an emitter on a
   * hot path asks first and builds the event's `detail` only when it will be dispatched.
   */
  hasListeners (type: keyof Events & string): boolean {
    return this.#listened?.includes(type) === true && getEventListeners(this, type).length > 0
  }

  /**
   * Dispatches a `CustomEvent` of `type` carrying `detail`, only when someone listens (nothing is
   * allocated otherwise). Returns whether there was a listener.
   */
  safeDispatchEvent<K extends keyof Events & string> (type: K, detail: Events[K]): boolean {
    if (!this.hasListeners(type)) return false
    this.dispatchEvent(new CustomEvent(type, { detail }))
    return true
  }
}
