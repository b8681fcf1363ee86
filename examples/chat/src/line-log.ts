/** The room lines a chat client received, in order, and waiting for one that matches. */
export interface LineLog {
  readonly lines: string[]
  /** Records `line` and wakes every waiter it matches. */
  add(line: string): void
  /** The first line so far that `match` accepts, or the next one to arrive. */
  waitFor(match: (line: string) => boolean): Promise<string>
}

export function lineLog (): LineLog {
  const lines: string[] = []
  const waiters = new Set<{ match: (line: string) => boolean, resolve: (line: string) => void }>()
  return {
    lines,
    add (line) {
      lines.push(line)
      for (const w of waiters) if (w.match(line)) { waiters.delete(w); w.resolve(line) }
    },
    async waitFor (match) {
      const seen = lines.find(match)
      if (seen !== undefined) return seen
      return await new Promise((resolve) => { waiters.add({ match, resolve }) })
    }
  }
}
