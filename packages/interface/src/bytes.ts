import type { ByteChunk } from './duplex.js'

/** Returns the bytes of a chunk as one `Uint8Array`, copying only when a list spans several buffers. */
export function toUint8Array (chunk: ByteChunk): Uint8Array {
  return chunk instanceof Uint8Array ? chunk : chunk.subarray()
}
