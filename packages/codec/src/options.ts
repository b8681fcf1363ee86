import { validate } from '@proto/interface'
import type { FrameFormat, Layout } from './format.js'
import { toLayout } from './format.js'

/** Options of `encode`, `decode` and `codec`. */
export interface CodecInit {
  /**
   * The header layout. See `formats` for ready-made ones.
   * @default formats.proto — `[u32be body length][u8 type][body]`
   */
  format?: FrameFormat
  /**
   * The longest frame body accepted or sent, in bytes. A header announcing more fails as soon as it is
   * read, before any of the body is buffered; both peers should agree on it.
   * @default 16 MiB (16777216)
   */
  maxFrameLength?: number
  /**
   * Decoding only: hand out a body that spanned several reads as a `Uint8ArrayList` of its pieces instead
   * of copying it into one buffer (bodies inside one read are `Uint8Array` views either way). For
   * consumers that forward bytes (a proxy, a file writer): no copy at all, and `encode` writes the pieces
   * as they are. Short pieces are still copied into blocks, so memory stays bounded by what has arrived.
   * @default false
   */
  bodyList?: boolean
}

/** Options that make decoded bodies `Uint8Array`s only (the default). */
export type CopyCodecInit = CodecInit & {
  /** Absent or `false`: a body that spanned several reads is copied into one `Uint8Array`. */
  bodyList?: false
}

/** Options that make decoded bodies `Uint8Array | Uint8ArrayList` (`ListFrame`). */
export type ListCodecInit = CodecInit & {
  /** `true`: a body that spanned several reads is handed out as a `Uint8ArrayList` of its pieces, uncopied. */
  bodyList: true
}

/** Checks options once, at the factory; throws `InvalidParametersError` on anything invalid. */
export function toOptions (init: CodecInit | undefined): { layout: Layout, bodyList: boolean } {
  validate.options('init', init)
  return {
    layout: toLayout(init?.format, init?.maxFrameLength),
    bodyList: validate.flag('bodyList', init?.bodyList, false)
  }
}
