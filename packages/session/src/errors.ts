export { InvalidParametersError, ProtocolVersionError } from '@proto/interface'

/**
 * The peer broke the session protocol: a malformed RESUME, ACK or END, a position beyond 2^53 − 1, an
 * ACK above what was sent, a resume point above what was received, data after END. The connection is
 * closed with GOAWAY `PROTOCOL_ERROR`; on a client the session cannot be trusted and the link fails.
 */
export class SessionProtocolError extends Error {
  static override name = 'SessionProtocolError'

  constructor (message = 'The peer broke the session protocol', options?: ErrorOptions) {
    super(message, options)
    this.name = 'SessionProtocolError'
  }
}

/** Why a session can no longer be resumed. */
export type SessionLostReason = 'unknown' | 'expired' | 'taken-over' | 'closed' | 'evicted'

/**
 * The session cannot be resumed: the server does not know it (a restart lost it, or it was swept), it
 * expired, another connection took it over, or the peer closed it. `unconfirmed` is the exact number of
 * items we sent that the peer may not have received (none of them was acknowledged).
 */
export class SessionLostError extends Error {
  static override name = 'SessionLostError'
  /** Why the session can no longer be resumed. */
  readonly reason: SessionLostReason
  /** Items we sent that were never acknowledged: the peer may not have received them. */
  readonly unconfirmed: number
  /** The public id of the lost session, if it had one. */
  readonly sessionId: string | undefined

  constructor (message: string, options: ErrorOptions & { reason: SessionLostReason, unconfirmed: number, sessionId?: string }) {
    super(message, options)
    this.name = 'SessionLostError'
    this.reason = options.reason
    this.unconfirmed = options.unconfirmed
    this.sessionId = options.sessionId
  }
}

/** The server refused to open or resume a session now (GOAWAY `SESSION_LIMIT`, `SHUTTING_DOWN` …); retried with backoff. */
export class SessionRefusedError extends Error {
  static override name = 'SessionRefusedError'
  /** The GOAWAY code the server sent. */
  readonly code: number

  constructor (message: string, options: ErrorOptions & { code: number }) {
    super(message, options)
    this.name = 'SessionRefusedError'
    this.code = options.code
  }
}

/** The connection ended without the session ending: the peer closed it without END, or it failed. An outage. */
export class ConnectionLostError extends Error {
  static override name = 'ConnectionLostError'

  constructor (message = 'The connection ended before the session did', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ConnectionLostError'
  }
}

/** What reconnect drops a session's connection with when a newer connection resumed the session. */
export class SessionTakenOverError extends Error {
  static override name = 'SessionTakenOverError'

  constructor (message = 'A newer connection resumed this session; this one was fenced off', options?: ErrorOptions) {
    super(message, options)
    this.name = 'SessionTakenOverError'
  }
}

/**
 * The session left this node: it was handed over through the session store to another node, where its
 * client resumed it (or this node drained it on shutdown). What the application wrote here and the peer
 * had not acknowledged went with it (`handedOver`); the application here stops serving it.
 */
export class SessionMovedError extends Error {
  static override name = 'SessionMovedError'
  /** Items written on this node that went to the store with the session, to be sent from the next node. */
  readonly handedOver: number

  constructor (message = 'The session moved to another node', options: ErrorOptions & { handedOver?: number } = {}) {
    super(message, options)
    this.name = 'SessionMovedError'
    this.handedOver = options.handedOver ?? 0
  }
}

/**
 * What a server session's link waits for its client with once the server closes: none may resume it any
 * more, so a close() riding out the lost connection ends at once (kept in the link's `lastError`).
 */
export class ServerShutDownError extends Error {
  static override name = 'ServerShutDownError'

  constructor (message = 'The server is closing: no connection may resume the session any more', options?: ErrorOptions) {
    super(message, options)
    this.name = 'ServerShutDownError'
  }
}
