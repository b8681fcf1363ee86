/**
 * Event-driven waiting for tests: producers call `notify()` whenever something changed; `until()` re-checks
 * its predicate on each notification and fails after a deadline. No polling, no sleeps.
 */
export class Waiter {
  private readonly listeners = new Set<() => void>()

  /** Something changed: re-check every pending predicate. */
  notify (): void {
    for (const listener of [...this.listeners]) listener()
  }

  /** Resolves once `predicate()` holds; rejects after `deadline` ms with `what` in the message. */
  async until (predicate: () => boolean, what: string, deadline = 20_000): Promise<void> {
    if (predicate()) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check)
        reject(new Error(`timed out after ${deadline} ms waiting for ${what}`))
      }, deadline)
      const check = (): void => {
        let ok: boolean
        try {
          ok = predicate()
        } catch (err) {
          clearTimeout(timer)
          this.listeners.delete(check)
          reject(err)
          return
        }
        if (!ok) return
        clearTimeout(timer)
        this.listeners.delete(check)
        resolve()
      }
      this.listeners.add(check)
    })
  }

  /** Pending `until()` calls (0 when a test left nothing waiting). */
  get pending (): number {
    return this.listeners.size
  }
}
