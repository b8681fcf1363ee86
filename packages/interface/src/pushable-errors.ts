/** `push()` on a pushable that holds `maxItems` already: wait with `onRoom()`, or raise `maxItems`. */
export class PushableFullError extends Error {
  static override name = 'PushableFullError'

  constructor (message = 'The pushable is full: await onRoom() before pushing more, or raise maxItems', options?: ErrorOptions) {
    super(message, options)
    this.name = 'PushableFullError'
  }
}

/** `push()` after `end()`, or after the consumer stopped reading: the item was not queued. */
export class PushableEndedError extends Error {
  static override name = 'PushableEndedError'

  constructor (message = 'The pushable has ended (end() was called, or its consumer stopped reading): the item was not queued', options?: ErrorOptions) {
    super(message, options)
    this.name = 'PushableEndedError'
  }
}
