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

/**
 * Node's `EventTarget` makes two maps for every instance (listeners by type, and `on<type>` handlers):
 * 0.37 KiB before any listener, on every connection, link and session. A `TypedEventTarget` starts with
 * one shared, empty stand-in for both, and gets a map of its own with its first listener. Every read Node
 * makes of them (`dispatchEvent`, `removeEventListener`, `events.getEventListeners`) is a method call on
 * the map, which the stand-in answers as an empty map does; every write goes through `addEventListener`,
 * which this class overrides. The two fields are Node's own: they are found by name on a probe target,
 * and the scheme is used only if the probe behaves exactly as a plain `EventTarget` with the stand-in in
 * place; otherwise every target keeps Node's maps, as before.
 */
class NoListeners extends Map<unknown, unknown> {
  override set (): this {
    throw new Error('expected listeners to be added with addEventListener() of the target itself, which gives it a map of its own')
  }
}

const NO_LISTENERS: Map<unknown, unknown> = Object.freeze(new NoListeners())

/** An empty map as Node keeps one (its own `Map` subclass, which is no `instanceof Map` here). */
function isEmptyMap (value: unknown): boolean {
  const m = value as Map<unknown, unknown> | undefined
  return typeof m?.get === 'function' && typeof m.set === 'function' && typeof m.delete === 'function' && m.size === 0
}

/** Node's two per-target map fields, if the lazy scheme works on this Node (see `NoListeners`). */
const storage = ((): { events: symbol, handlers: symbol } | undefined => {
  try {
    const probe = new EventTarget() as unknown as Record<symbol, unknown>
    const fields = Object.getOwnPropertySymbols(probe)
    const events = fields.find(f => f.description === 'kEvents')
    const handlers = fields.find(f => f.description === 'kHandlers')
    if (events === undefined || handlers === undefined || !isEmptyMap(probe[events]) || !isEmptyMap(probe[handlers])) return undefined
    const target = probe as unknown as EventTarget
    probe[events] = NO_LISTENERS
    probe[handlers] = NO_LISTENERS
    let calls = 0
    const count = (): void => { calls++ }
    target.dispatchEvent(new Event('probe'))
    target.removeEventListener('probe', count)
    probe[events] = new Map()
    target.addEventListener('probe', count)
    target.dispatchEvent(new Event('probe'))
    target.removeEventListener('probe', count)
    target.dispatchEvent(new Event('probe'))
    return calls === 1 && NO_LISTENERS.size === 0 ? { events, handlers } : undefined
  } catch {
    return undefined
  }
})()

/** An `EventTarget` whose event types and their `detail` are described by `Events`. */
export class TypedEventTarget<Events extends object> extends EventTarget {
  /**
   * The event types that ever had a listener: a type outside it has none, which `hasListeners` answers
   * without asking Node (whose `getEventListeners` makes an array per call). Made with the first listener.
   */
  #listened: string[] | undefined

  constructor () {
    super()
    if (storage !== undefined) {
      const fields = this as unknown as Record<symbol, unknown>
      fields[storage.events] = NO_LISTENERS
      fields[storage.handlers] = NO_LISTENERS
    }
  }

  /** Calls `listener` with each `type` event; its `detail` is typed by `Events`. A `null` listener is ignored. */
  override addEventListener<K extends keyof Events & string> (type: K, listener: TypedEventListener<Events[K]> | null, options?: ListenerOptions): void
  /** Calls `listener` with each `type` event, for an event type outside `Events` (as on any `EventTarget`). */
  override addEventListener (type: string, listener: AnyListener | null, options?: ListenerOptions): void
  override addEventListener (type: string, listener: AnyListener | null, options?: ListenerOptions): void {
    if (listener == null) return
    if (storage !== undefined) {
      const fields = this as unknown as Record<symbol, unknown>
      if (fields[storage.events] === NO_LISTENERS) fields[storage.events] = new Map()
    }
    // copied on each new type (types are few and added rarely) with concat(), which sizes it exactly: a
    // pushed-to array, or a spread into a literal, reserves room for 17–19 types (0.15 KiB)
    const listened = this.#listened
    if (listened === undefined) this.#listened = [type]
    else if (!listened.includes(type)) this.#listened = listened.concat(type)
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
