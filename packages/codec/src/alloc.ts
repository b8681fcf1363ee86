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

/**
 * As {@link allocFilledLater}, for an encoded chunk on its way to a socket: where Node's `Buffer` exists, the
 * `Buffer` itself (a `Uint8Array`), which `socket.write()` takes as it is. A plain view would cost a second
 * object here and a third in `write()`, which wraps every `Uint8Array` that is not a `Buffer` (the codec
 * benchmark's write table: the `Buffer` costs 0.44× a view per small chunk written). Decoded bodies stay
 * plain (`allocFilledLater`): a user may `slice()` those, and `Buffer#slice` does not copy.
 */
export const allocChunk: (length: number) => Uint8Array = NodeBuffer === undefined
  ? length => new Uint8Array(length)
  : length => NodeBuffer.allocUnsafe(length)
