import type { AbortOptions, ByteDuplex, StageDuplex } from '@proto/interface'
import { FrameDecoder } from './decoder.js'
import { FrameEncoder } from './encoder.js'
import type { Frame, ListFrame } from './frame.js'
import type { FrameSource } from './frame-source.js'
import { DecodingSource } from './frame-source.js'
import type { CodecInit, CopyCodecInit, ListCodecInit } from './options.js'
import { toOptions } from './options.js'
import { encodeWith } from './transforms.js'

/** A duplex of frames: what every stage above the codec consumes and produces. */
export interface FrameDuplex extends StageDuplex<Frame> {}

/**
 * The frame duplex the codec makes. Its source also serves whole batches; its sink takes `Frame`s and
 * `ListFrame`s alike. `F` is `ListFrame` when it was made with `bodyList: true`.
 */
export interface CodecDuplex<F extends ListFrame = Frame> extends StageDuplex<F, ListFrame> {
  source: FrameSource<F>
  close(options?: AbortOptions): Promise<void>
  abort(err: Error): void
  /** The lower duplex's `goingAway`, as it is (the codec has no protocol of its own to end). */
  readonly goingAway?: AbortSignal
}

/**
 * Turns any byte duplex into a frame duplex. Decoding errors abort the byte duplex beneath (that one
 * connection only) and are thrown from `source` after every frame completed before them; frames that
 * cannot be encoded reject `sink` and abort the connection.
 */
export function codec (lower: ByteDuplex, init?: CopyCodecInit): CodecDuplex
export function codec (lower: ByteDuplex, init: ListCodecInit | CodecInit): CodecDuplex<ListFrame>
export function codec (lower: ByteDuplex, init?: CodecInit): CodecDuplex<ListFrame> {
  const { layout, bodyList } = toOptions(init)
  const abort = (err: Error): void => { lower.abort?.(err) }
  return {
    source: new DecodingSource(lower.source[Symbol.asyncIterator](), new FrameDecoder<ListFrame>(layout, bodyList), abort),
    sink: (frames) => {
      try {
        return lower.sink(encodeWith(frames, new FrameEncoder(layout)))
      } catch (err) {
        return Promise.reject(err)
      }
    },
    close: async (options?: AbortOptions): Promise<void> => {
      await lower.close?.(options)
    },
    abort,
    // read through, so a lower duplex whose signal comes later (or changes) is followed; `undefined` when it has none
    get goingAway (): AbortSignal {
      return lower.goingAway as AbortSignal
    }
  }
}
