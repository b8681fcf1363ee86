import { DONE, onAbortOf } from '@proto/interface'
import type { StatusEvent } from './types.js'

/**
 * One reader of status events. Keeps at most `capacity` unread events; when full, the oldest is
 * discarded (the reader sees the most recent history). Ends after `closed`, on `return()`, or when its
 * signal aborts.
 */
class StatusReader implements AsyncIterableIterator<StatusEvent> {
  private readonly buffer: StatusEvent[] = []
  private waiting: ((result: IteratorResult<StatusEvent>) => void) | undefined
  private ended = false
  private readonly onAbort = (): void => { void this.return() }

  constructor (private readonly capacity: number, private readonly detach: (reader: StatusReader) => void, private readonly signal: AbortSignal | undefined) {
    if (signal !== undefined) onAbortOf(signal, this.onAbort)
  }

  push (event: StatusEvent): void {
    if (this.ended) return
    if (event.type === 'closed') this.finish()
    const wake = this.waiting
    if (wake != null) {
      this.waiting = undefined
      wake({ done: false, value: event })
      return
    }
    if (this.buffer.length >= this.capacity) this.buffer.shift()
    this.buffer.push(event)
  }

  async next (): Promise<IteratorResult<StatusEvent>> {
    const event = this.buffer.shift()
    if (event != null) return { done: false, value: event }
    if (this.ended) return DONE
    return await new Promise((resolve) => { this.waiting = resolve })
  }

  async return (): Promise<IteratorResult<StatusEvent>> {
    this.finish()
    this.buffer.length = 0
    const wake = this.waiting
    this.waiting = undefined
    wake?.(DONE)
    return DONE
  }

  [Symbol.asyncIterator] (): AsyncIterableIterator<StatusEvent> { return this }

  private finish (): void {
    if (this.ended) return
    this.ended = true
    this.signal?.removeEventListener('abort', this.onAbort)
    this.detach(this)
  }
}

/** Hands status events to every status iterator. */
export class StatusReaders {
  /** Made with the first status iterator (0.15 KiB a session otherwise). */
  private readers: Set<StatusReader> | undefined
  constructor (private readonly capacity: number, private closed: boolean) {}

  push (event: StatusEvent): void {
    if (this.readers !== undefined) for (const reader of this.readers) reader.push(event)
    if (event.type === 'closed') this.closed = true
  }

  iterator (signal: AbortSignal | undefined): AsyncIterableIterator<StatusEvent> {
    const readers = this.readers ??= new Set()
    const reader = new StatusReader(this.capacity, (r) => { readers.delete(r) }, signal)
    if (this.closed || signal?.aborted === true) void reader.return()
    else readers.add(reader)
    return reader
  }
}
