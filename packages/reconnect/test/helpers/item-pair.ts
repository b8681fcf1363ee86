import type { StageDuplex } from '@proto/interface'
import type { Source } from 'it-stream-types'

/** One direction of an in-memory item channel: bounded, with end and failure. */
class Channel<T> {
  readonly items: T[] = []
  ended = false
  error: Error | undefined
  private wakeReader: (() => void) | undefined
  private wakeWriter: (() => void) | undefined

  constructor (private readonly capacity: number) {}

  async write (item: T): Promise<void> {
    if (this.error != null) throw this.error
    if (this.ended) throw new Error('write after end')
    this.items.push(item)
    this.wake()
    while (this.items.length >= this.capacity && this.error == null) {
      await new Promise<void>((resolve) => { this.wakeWriter = resolve })
    }
    if (this.error != null) throw this.error
  }

  end (): void { this.ended = true; this.wake() }

  fail (err: Error): void {
    if (this.error != null) return
    this.error = err
    this.wake()
  }

  async* read (): AsyncGenerator<T> {
    for (;;) {
      if (this.error != null) throw this.error
      if (this.items.length > 0) {
        const item = this.items.shift() as T
        const w = this.wakeWriter
        this.wakeWriter = undefined
        w?.()
        yield item
        continue
      }
      if (this.ended) return
      await new Promise<void>((resolve) => { this.wakeReader = resolve })
    }
  }

  private wake (): void {
    const r = this.wakeReader
    const w = this.wakeWriter
    this.wakeReader = undefined
    this.wakeWriter = undefined
    r?.()
    w?.()
  }
}

/** An in-memory connection: `near` goes to the durable duplex, `far` plays the server. */
export interface ItemConnection<T> {
  near: StageDuplex<T>
  far: StageDuplex<T>
  /** Items the near side wrote, as the far side's channel holds them (unread). */
  toFar: T[]
  /** Fails both directions, as a reset would. */
  reset(err: Error): void
  /** Ends the far side's writing, as a peer closing cleanly would. */
  endFromFar(): void
  readonly aborted: boolean
}

/** Makes a connected pair of in-memory item duplexes, each direction bounded to `capacity` items. */
export function itemConnection<T> (capacity = 16): ItemConnection<T> {
  const nearToFar = new Channel<T>(capacity)
  const farToNear = new Channel<T>(capacity)
  let aborted = false
  const reset = (err: Error): void => { nearToFar.fail(err); farToNear.fail(err) }
  const end = (incoming: Channel<T>, outgoing: Channel<T>, isNear: boolean): StageDuplex<T> => ({
    source: incoming.read(),
    async sink (source: Source<T>): Promise<void> {
      for await (const item of source) await outgoing.write(item)
      outgoing.end()
    },
    abort: (err: Error) => { if (isNear) aborted = true; reset(err) },
    async close () { outgoing.end() }
  })
  return {
    near: end(farToNear, nearToFar, true),
    far: end(nearToFar, farToNear, false),
    toFar: nearToFar.items,
    reset,
    endFromFar: () => { farToNear.end() },
    get aborted () { return aborted }
  }
}
