import { GoAwayCode, isUndecodable } from '@proto/codec'
import { ProtocolViolationError } from '@proto/heartbeat'
import { ProtocolVersionError } from '@proto/interface'
import { SessionGoAwayCode } from './constants.js'
import { SessionProtocolError, SessionRefusedError } from './errors.js'
import type { SessionLoss, SessionState } from './state.js'

/** What a GOAWAY from the peer means for this connection and its session. */
export type GoAwayVerdict =
  | { kind: 'lost', loss: SessionLoss }
  | { kind: 'fail', error: Error }
  /** The connection will end; the session carries on (an outage when it does). */
  | { kind: 'note' }

/** Judges a GOAWAY (docs/PROTOCOL.md §3.2, §6.7). */
export function judgeGoAway (code: number, reason: string, state: SessionState, at: { handshaken: boolean, fenced: boolean, closing: boolean }): GoAwayVerdict {
  const client = state.role === 'client'
  switch (code) {
    case SessionGoAwayCode.SESSION_UNKNOWN:
      return client ? { kind: 'lost', loss: { reason: 'unknown', message: `the server does not know this session (${reason})` } } : { kind: 'note' }
    case SessionGoAwayCode.SESSION_EXPIRED:
      return client ? { kind: 'lost', loss: { reason: 'expired', message: `the session expired on the server (${reason})` } } : { kind: 'note' }
    case SessionGoAwayCode.SESSION_TAKEN_OVER:
      return client && !at.fenced ? { kind: 'lost', loss: { reason: 'taken-over', message: 'another connection resumed this session' } } : { kind: 'note' }
    case SessionGoAwayCode.SESSION_CLOSED:
      // in answer to our RESUME: the server completed the session before our END's acknowledgement reached us,
      // or (the session complete here, lingering) before it could tell us it had our last acknowledgement
      if (client && !at.handshaken && state.endAt !== undefined && state.inEnded) return { kind: 'lost', loss: { reason: 'closed', message: `the server completed the session (${reason})`, completed: true } }
      // benign when both directions are whole (ours acknowledged, theirs ended by END), or when we closed the
      // session ourselves and the peer answers in kind (its own direction was still open)
      if (at.closing || (state.endAcked && state.peerEndGen === state.gen && state.peerEndAt !== undefined)) return { kind: 'note' }
      return { kind: 'lost', loss: { reason: 'closed', message: `the peer closed the session (${reason})` } }
    case GoAwayCode.PROTOCOL_ERROR:
      return { kind: 'fail', error: new SessionProtocolError(`the peer says we broke the protocol: ${reason}`) }
    default:
      if (!at.handshaken || code === GoAwayCode.DO_NOT_RETRY || code === SessionGoAwayCode.SESSION_LIMIT) return { kind: 'fail', error: refused(code) }
      return { kind: 'note' }
  }
}

/** The error of a connection the peer sent GOAWAY `code` on before closing it. */
export function refused (code: number): SessionRefusedError {
  return new SessionRefusedError(`The peer sent GOAWAY ${code} and closed the connection`, { code })
}

/**
 * Whether a stage's failure refused the peer for what it sent (a HELLO of another version, a heartbeat
 * protocol violation, bytes the codec could not frame), and the GOAWAY code it sent then (if any).
 */
export function stageRefusal (err: Error): { code: number | undefined } | undefined {
  if (err instanceof ProtocolVersionError) return { code: err.version !== undefined ? GoAwayCode.DO_NOT_RETRY : GoAwayCode.PROTOCOL_ERROR }
  if (err instanceof ProtocolViolationError) return { code: GoAwayCode.PROTOCOL_ERROR }
  // bytes the codec could not frame: the heartbeat told the peer why (GOAWAY PROTOCOL_ERROR)
  if (isUndecodable(err)) return { code: GoAwayCode.PROTOCOL_ERROR }
  return undefined
}
