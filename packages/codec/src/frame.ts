import type { Uint8ArrayList } from 'uint8arraylist'

/** One message on the wire: a type byte and a body. */
export interface Frame {
  /** The frame type, 0–255. See `FrameType` for the `@proto` types; formats without a type byte use `FrameType.DATA`. */
  type: number
  /**
   * The body. Decoded bodies are views into the received bytes whenever the frame arrived inside one
   * chunk (no copy), and otherwise a buffer of their own, filled once as the pieces arrived; keep or copy
   * them as you need. The bytes are never reused by the SDK.
   */
  body: Uint8Array
}

/**
 * A frame whose body may be held in several pieces: what `decode` and `codec` hand out with
 * `bodyList: true`, and what `encode` and a codec's `sink` accept (a `Frame` is one too).
 */
export interface ListFrame {
  /** The frame type, 0–255. */
  type: number
  /**
   * A `Uint8Array` when the body arrived inside one chunk (a view into it); a `Uint8ArrayList` of its
   * pieces when it spanned reads. `.subarray()` on a list of several pieces copies them into one buffer.
   */
  body: Uint8Array | Uint8ArrayList
}

const EMPTY = new Uint8Array(0)

/** Makes a frame; `body` defaults to empty. */
export function frame (type: number, body: Uint8Array = EMPTY): Frame {
  return { type, body }
}
