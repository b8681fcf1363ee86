/**
 * The demo's message: `[u32be seq][u32be epoch][u32be crc32(payload)][payload]`. `seq` numbers the
 * messages from 0; `epoch` is written by the client when the message is handed to a connection (which
 * connection carried it); the payload is pseudo-random bytes derived from the seed and `seq`.
 */

export const HEADER_LENGTH = 12
export const MIN_MESSAGE_SIZE = HEADER_LENGTH + 4

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC-32 (IEEE 802.3, as zlib computes it). */
export function crc32 (bytes: Uint8Array): number {
  let c = 0xFFFFFFFF
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xFF] ^ (c >>> 8)
  return (c ^ 0xFFFFFFFF) >>> 0
}

/** Builds message `seq` of `size` bytes (epoch 0 until it is handed to a connection). */
export function createMessage (seq: number, size: number, seed: number): Uint8Array {
  const body = new Uint8Array(size)
  const view = new DataView(body.buffer)
  // xorshift32 seeded from (seed, seq): cheap, and every message differs
  let x = (Math.imul(seq + 1, 0x9E3779B1) ^ seed ^ 0x5BD1E995) >>> 0
  if (x === 0) x = 1
  let i = HEADER_LENGTH
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    view.setUint32(i, x >>> 0)
  }
  for (; i < size; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    body[i] = x & 0xFF
  }
  view.setUint32(0, seq)
  view.setUint32(8, crc32(body.subarray(HEADER_LENGTH)))
  return body
}

/** Records which connection (`epoch`) carries the message. */
export function stampEpoch (body: Uint8Array, epoch: number): void {
  new DataView(body.buffer, body.byteOffset, body.byteLength).setUint32(4, epoch)
}

/** What a received message says about itself; `intact` is false for a wrong size or checksum. */
export interface ReadMessage {
  seq: number
  epoch: number
  intact: boolean
}

export function readMessage (body: Uint8Array, size: number): ReadMessage {
  if (body.byteLength < HEADER_LENGTH) return { seq: -1, epoch: -1, intact: false }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const seq = view.getUint32(0)
  const epoch = view.getUint32(4)
  const intact = body.byteLength === size && view.getUint32(8) === crc32(body.subarray(HEADER_LENGTH))
  return { seq, epoch, intact }
}
