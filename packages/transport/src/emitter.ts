type Listener<T> = (event: T) => void

/**
 * A small typed event emitter. A listener that throws does not disturb the emitter or the other
 * listeners; its error is rethrown on the next tick (an uncaught exception, as with `EventEmitter`).
 */
export class Emitter<Events> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>()

  on<K extends keyof Events> (type: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(type)
    if (set == null) {
      set = new Set()
      this.listeners.set(type, set)
    }
    set.add(listener as Listener<never>)
    return () => { this.off(type, listener) }
  }

  off<K extends keyof Events> (type: K, listener: Listener<Events[K]>): void {
    this.listeners.get(type)?.delete(listener as Listener<never>)
  }

  listenerCount (type: keyof Events): number {
    return this.listeners.get(type)?.size ?? 0
  }

  /** Calls every listener of `type`; returns whether there was one. */
  emit<K extends keyof Events> (type: K, event: Events[K]): boolean {
    const set = this.listeners.get(type)
    if (set == null || set.size === 0) return false
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(event)
      } catch (err) {
        process.nextTick(() => { throw err })
      }
    }
    return true
  }

  clear (): void {
    this.listeners.clear()
  }
}
