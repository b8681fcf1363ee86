import { SessionFrameType } from './constants.js'

/**
 * The one classifier of sequenced frames, used by both directions: DATA (`0x00`) and application types
 * (`0x40`–`0xFF`) carry items and take the next sequence number; every other type is control and is never
 * numbered. Sender and receiver must count exactly the same frames, so nothing else decides this.
 */
export function isSequenced (type: number): boolean {
  return type === 0x00 || type >= 0x40
}

/**
 * The kind of an inbound frame, for the session stage's dispatch: `'item'` for a sequenced frame (see
 * `isSequenced`), `'ack'`, `'end'`, `'resume'` and `'goaway'` for those control frames, `'other'` for any
 * other type (the codec's and heartbeat's control frames, or types this version does not know).
 */
export type FrameKind = 'item' | 'ack' | 'end' | 'resume' | 'goaway' | 'other'

/** The kind of a frame of this `type` (a frame type byte, 0–255); see `FrameKind`. */
export function classify (type: number): FrameKind {
  if (isSequenced(type)) return 'item'
  switch (type) {
    case SessionFrameType.ACK: return 'ack'
    case SessionFrameType.END: return 'end'
    case SessionFrameType.RESUME: return 'resume'
    case 0x04: return 'goaway'
    default: return 'other'
  }
}
