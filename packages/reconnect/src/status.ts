import type { ListenerOptions, ReconnectEventType, ReconnectListener, StatusEvent } from './types.js'

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined }

/**
 * One reader of status events. Keeps at most `capacity` unread events; when full, the oldest is
 * discarded (the reader sees the most recent history). Ends after `closed`.
 */
class StatusReader implements AsyncIterableIterator<StatusEvent> {
  private readonly buffer: StatusEvent[] = []
  private waiting: ((result: IteratorResult<StatusEvent>) => void) | undefined
  private ended = false

  constructor (private readonly capacity: number, private readonly detach: (reader: StatusReader) => void) {}

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
    this.ended = true
    this.detach(this)
  }
}

/** Emits status events both as `CustomEvent`s and to every status iterator. */
export class StatusEmitter {
  private readonly target = new EventTarget()
  private readonly readers = new Set<StatusReader>()
  private closed = false

  constructor (private readonly capacity: number) {}

  emit (event: StatusEvent): void {
    for (const reader of this.readers) reader.push(event)
    if (event.type === 'closed') this.closed = true
    this.target.dispatchEvent(new CustomEvent(event.type, { detail: event }))
  }

  iterator (): AsyncIterableIterator<StatusEvent> {
    const reader = new StatusReader(this.capacity, (r) => { this.readers.delete(r) })
    if (this.closed) void reader.return()
    else this.readers.add(reader)
    return reader
  }

  addEventListener<K extends ReconnectEventType> (type: K, listener: ReconnectListener<K>, options?: ListenerOptions): void {
    this.target.addEventListener(type, listener as unknown as (event: Event) => void, options)
  }

  removeEventListener<K extends ReconnectEventType> (type: K, listener: ReconnectListener<K>, options?: ListenerOptions): void {
    this.target.removeEventListener(type, listener as unknown as (event: Event) => void, options)
  }
}
