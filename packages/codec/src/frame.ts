/** One message on the wire: a type byte and a body. */
export interface Frame {
  /** The frame type, 0–255. See `FrameType` for the @proto types; formats without a type byte use `FrameType.DATA`. */
  type: number
  /**
   * The body. Decoded bodies are views into the received bytes whenever the frame arrived inside one
   * chunk (no copy); keep or copy them as you need. The bytes are never reused by the SDK.
   */
  body: Uint8Array
}

const EMPTY = new Uint8Array(0)

/** Makes a frame; `body` defaults to empty. */
export function frame (type: number, body: Uint8Array = EMPTY): Frame {
  return { type, body }
}
