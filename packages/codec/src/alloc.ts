const NodeBuffer = (globalThis as { Buffer?: { allocUnsafe(size: number): Uint8Array } }).Buffer

/**
 * Allocates `length` bytes that are about to be overwritten in full, as a plain `Uint8Array`, without
 * zero-filling them first. Where Node's `Buffer` exists, sizes under 4 KiB come from Node's shared pool
 * (`Buffer.allocUnsafe`: one off-heap allocation per 8 KiB rather than per buffer, 1.5–2× cheaper in the
 * benchmark's allocation table): a small encoded chunk or decoded body kept alive pins at most that 8 KiB
 * pool (a view into a received chunk pins the whole chunk); larger sizes get memory of their own.
 */
export const allocFilledLater: (length: number) => Uint8Array = NodeBuffer === undefined
  ? length => new Uint8Array(length)
  : (length) => {
      const b = NodeBuffer.allocUnsafe(length)
      return new Uint8Array(b.buffer, b.byteOffset, length)
    }
