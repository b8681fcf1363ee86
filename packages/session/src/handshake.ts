import { toError } from '@proto/interface'
import { SESSION_ID_LENGTH, TOKEN_LENGTH } from './constants.js'
import { SessionProtocolError } from './errors.js'
import type { SessionState } from './state.js'
import type { SessionFrames } from './types.js'
import type { Resume } from './wire.js'

/**
 * Our RESUME: a client's names its session (or asks for a new one), a server's answers with `token`.
 * `inbound`: what we queue for our application at most (the inbound extension).
 */
export function ourResume (state: SessionState, token: Uint8Array | undefined, inbound: { maxMessages: number, maxBytes: number }): Resume {
  const fresh = state.role === 'client' && state.token === undefined
  return {
    fresh,
    token: fresh ? new Uint8Array(TOKEN_LENGTH) : token ?? state.token as Uint8Array,
    id: state.role === 'server' && state.id !== undefined ? Buffer.from(state.id, 'hex') : new Uint8Array(SESSION_ID_LENGTH),
    next: state.received + 1,
    maxAckDelay: state.params.maxAckDelay,
    windowMessages: state.params.windowMessages,
    windowBytes: state.params.windowBytes,
    ttl: state.params.ttl,
    inboundMessages: inbound.maxMessages,
    inboundBytes: inbound.maxBytes,
    ...(state.recovered ? { recovered: true } : {})
  }
}

/**
 * A client takes the server's RESUME: a new session's token, id and ttl are adopted; a resumed one must
 * carry our own token. Returns whether the session was resumed.
 */
export function adoptServerResume (state: SessionState, peer: Resume): boolean {
  if (peer.fresh) throw new SessionProtocolError('expected the server\'s RESUME to name a session, but it asked for a new one')
  state.ttl = peer.ttl
  if (state.token === undefined) {
    state.token = peer.token
    state.id = Buffer.from(peer.id).toString('hex')
    return false
  }
  if (!Buffer.from(state.token).equals(peer.token)) throw new SessionProtocolError('expected the server\'s RESUME to carry our session\'s token, but it carried another')
  state.counters.resumes++
  return true
}

/**
 * Why a connection's stage ended before the peer's HELLO was accepted: its own failure when it refused the
 * HELLO (it sent the peer its GOAWAY), or `undefined` when the connection just ended. A stage that ended
 * fails or ends its source at once; one still running (a stack that asks for no HELLO) is given one turn.
 */
export async function stageFailure (lower: SessionFrames): Promise<Error | undefined> {
  const next = lower.source.next().then(() => undefined, (err: unknown) => toError(err))
  return await Promise.race([next, new Promise<undefined>((resolve) => { setImmediate(() => { resolve(undefined) }) })])
}
