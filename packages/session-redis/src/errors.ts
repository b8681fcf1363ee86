export { InvalidParametersError } from '@proto/interface'

/**
 * Redis cannot be used now: down, unreachable, restarting, or slower than `commandTimeout`. Sessions fall
 * back to node-local (acknowledged as on one node) until it is back; a RESUME for a session held elsewhere
 * is refused as retryable meanwhile.
 */
export class StoreUnavailableError extends Error {
  static override name = 'StoreUnavailableError'

  constructor (message = 'The Redis session store is unavailable', options?: ErrorOptions) {
    super(message, options)
    this.name = 'StoreUnavailableError'
  }
}

/**
 * Another node took a session this node held (its epoch in Redis moved on): this node's copy is stale and
 * stops serving it. Happens when this node did not answer a handover request in time (paused, partitioned).
 */
export class SessionFencedError extends Error {
  static override name = 'SessionFencedError'
  /** The public id (16 hex digits) of the session this node lost. */
  readonly sessionId: string

  constructor (message: string, options: ErrorOptions & { sessionId: string }) {
    super(message, options)
    this.name = 'SessionFencedError'
    this.sessionId = options.sessionId
  }
}
