import { readUint32, readUint64, writeUint32, writeUint64 } from '@proto/interface'
import { ACK_END, ACK_LENGTH, END_LENGTH, MAX_POSITION, RESUME_INBOUND_LENGTH, RESUME_LENGTH, RESUME_NEW, RESUME_RECOVERED, SESSION_ID_LENGTH, TOKEN_LENGTH } from './constants.js'
import { SessionProtocolError } from './errors.js'

/** What a RESUME frame carries (docs/PROTOCOL.md §6.3). */
export interface Resume {
  /** The sender asks for a new session; `token` and `id` are then all zero. */
  fresh: boolean
  /** The session's secret: 16 bytes. */
  token: Uint8Array
  /** The session's public id: 8 bytes (zero from a client). */
  id: Uint8Array
  /** The next sequence number the sender expects to receive (1 in a new session). */
  next: number
  /** The longest the sender delays an ACK (ms). */
  maxAckDelay: number
  /** Unacknowledged items the sender keeps for replay at most. */
  windowMessages: number
  /** Unacknowledged bytes the sender keeps for replay at most. */
  windowBytes: number
  /** How long the server keeps the session after a disconnection (ms); 0 from a client. */
  ttl: number
  /**
   * The inbound extension: the most the sender queues for its application (items, bytes) before it stops
   * reading the connection. The receiver of the RESUME keeps no more than that unacknowledged, so a
   * compliant peer never makes the sender stop reading (the acknowledgements it waits for travel behind
   * the data). Both or neither; absent from a peer that does not know the extension.
   */
  inboundMessages?: number
  /** The inbound extension's bytes: see `inboundMessages`. */
  inboundBytes?: number
  /**
   * Server: this node restored the session from a store copy that the node holding it before did not hand
   * over (it died): what the client sent past `next` may have reached that node's application already.
   */
  recovered?: boolean
}

/** What an ACK frame carries. */
export interface Ack {
  /** Every item up to and including this sequence number was handed to the application. */
  position: number
  /** The sender's END was received too. */
  end: boolean
}

const HI_MAX = Math.floor(MAX_POSITION / 2 ** 32)

function position (name: string, body: Uint8Array, offset: number, min: number): number {
  if (readUint32(body, offset) > HI_MAX) throw new SessionProtocolError(`${name} is above 2^53 − 1, the highest position this implementation accepts`)
  const value = readUint64(body, offset)
  if (value > MAX_POSITION || value < min) throw new SessionProtocolError(`expected ${name} to be from ${min} to 2^53 − 1, but got ${value}`)
  return value
}

function checkPosition (name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be a whole number from ${min} to 2^53 − 1; got ${value}`)
}

function checkU32 (name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xFFFF_FFFF) throw new RangeError(`${name} must be a whole number from 0 to 4294967295; got ${value}`)
}

function isZero (bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0) return false
  return true
}

/**
 * Encodes a RESUME body (49 bytes, 57 with the inbound extension); throws `RangeError` when a field is out of
 * range, when only one of the inbound fields is given, or when `token`/`id` has the wrong length.
 */
export function encodeResume (r: Resume): Uint8Array {
  if (r.token.byteLength !== TOKEN_LENGTH || r.id.byteLength !== SESSION_ID_LENGTH) throw new RangeError('a RESUME token is 16 bytes and an id 8')
  checkPosition('RESUME next', r.next, 1)
  for (const [name, v] of [['maxAckDelay', r.maxAckDelay], ['windowMessages', r.windowMessages], ['windowBytes', r.windowBytes], ['ttl', r.ttl]] as const) checkU32(name, v)
  const inbound = r.inboundMessages !== undefined || r.inboundBytes !== undefined
  if (inbound) {
    if (r.inboundMessages === undefined || r.inboundBytes === undefined) throw new RangeError('a RESUME carries both inbound fields or neither')
    checkU32('inboundMessages', r.inboundMessages)
    checkU32('inboundBytes', r.inboundBytes)
  }
  const out = new Uint8Array(inbound ? RESUME_INBOUND_LENGTH : RESUME_LENGTH)
  out[0] = (r.fresh ? RESUME_NEW : 0) | (r.recovered === true ? RESUME_RECOVERED : 0)
  out.set(r.token, 1)
  out.set(r.id, 17)
  writeUint64(out, 25, r.next)
  writeUint32(out, 33, r.maxAckDelay)
  writeUint32(out, 37, r.windowMessages)
  writeUint32(out, 41, r.windowBytes)
  writeUint32(out, 45, r.ttl)
  if (inbound) {
    writeUint32(out, 49, r.inboundMessages as number)
    writeUint32(out, 53, r.inboundBytes as number)
  }
  return out
}

/** Decodes a RESUME body; throws `SessionProtocolError` when it is short or inconsistent. */
export function decodeResume (body: Uint8Array): Resume {
  if (body.byteLength < RESUME_LENGTH) throw new SessionProtocolError(`expected a RESUME body of at least ${RESUME_LENGTH} bytes, but got ${body.byteLength}`)
  const flags = body[0]
  const fresh = (flags & RESUME_NEW) !== 0
  // copies, never views: a body may be a Buffer (whose slice() does not copy) over a received chunk
  const token = Uint8Array.from(body.subarray(1, 17))
  const id = Uint8Array.from(body.subarray(17, 25))
  if (fresh && !isZero(token)) throw new SessionProtocolError('a RESUME asking for a new session must carry a zero token')
  return {
    fresh,
    token,
    id,
    next: position('RESUME next', body, 25, 1),
    maxAckDelay: readUint32(body, 33),
    windowMessages: readUint32(body, 37),
    windowBytes: readUint32(body, 41),
    ttl: readUint32(body, 45),
    ...(body.byteLength >= RESUME_INBOUND_LENGTH ? { inboundMessages: readUint32(body, 49), inboundBytes: readUint32(body, 53) } : {}),
    ...((flags & RESUME_RECOVERED) !== 0 ? { recovered: true } : {})
  }
}

/** Encodes an ACK body (9 bytes); throws `RangeError` when `position` is not a whole number from 0 to 2^53 − 1. */
export function encodeAck (ack: Ack): Uint8Array {
  checkPosition('ACK position', ack.position, 0)
  const out = new Uint8Array(ACK_LENGTH)
  writeUint64(out, 0, ack.position)
  out[8] = ack.end ? ACK_END : 0
  return out
}

/** Decodes an ACK body; throws `SessionProtocolError` when it is short or its position is out of range. */
export function decodeAck (body: Uint8Array): Ack {
  if (body.byteLength < ACK_LENGTH) throw new SessionProtocolError(`expected an ACK body of at least ${ACK_LENGTH} bytes, but got ${body.byteLength}`)
  return { position: position('ACK position', body, 0, 0), end: (body[8] & ACK_END) !== 0 }
}

/** An END body: the sequence number of the sender's last item in this session (0 when it sent none). */
export function encodeEnd (last: number): Uint8Array {
  checkPosition('END position', last, 0)
  const out = new Uint8Array(END_LENGTH)
  writeUint64(out, 0, last)
  return out
}

/** Decodes an END body; throws `SessionProtocolError` when it is short or its position is out of range. */
export function decodeEnd (body: Uint8Array): number {
  if (body.byteLength < END_LENGTH) throw new SessionProtocolError(`expected an END body of at least ${END_LENGTH} bytes, but got ${body.byteLength}`)
  return position('END position', body, 0, 0)
}
