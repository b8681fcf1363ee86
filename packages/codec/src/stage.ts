import type { ByteDuplex, StageDuplex } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { FrameDecoder } from './decoder.js'
import { FrameEncoder } from './encoder.js'
import { toLayout } from './format.js'
import type { Frame } from './frame.js'
import type { FrameSource } from './frame-source.js'
import { DecodingSource } from './frame-source.js'
import type { CodecInit } from './transforms.js'
import { encodeWith } from './transforms.js'

/** A duplex of frames: what every stage above the codec consumes and produces. */
export interface FrameDuplex extends StageDuplex<Frame> {}

/** The frame duplex the codec makes; its source also serves whole batches. */
export interface CodecDuplex extends FrameDuplex {
  source: FrameSource
  close(options?: { signal?: AbortSignal }): Promise<void>
  abort(err: Error): void
}

/**
 * Turns any byte duplex into a frame duplex. Decoding errors abort the byte duplex beneath (that one
 * connection only) and are thrown from `source` after every frame completed before them; frames that
 * cannot be encoded reject `sink` and abort the connection.
 */
export function codec (lower: ByteDuplex, init: CodecInit = {}): CodecDuplex {
  const layout = toLayout(init.format, init.maxFrameLength)
  const abort = (err: Error): void => { lower.abort?.(err) }
  return {
    source: new DecodingSource(lower.source[Symbol.asyncIterator](), new FrameDecoder(layout), abort),
    sink: (frames: Source<Frame>): Promise<void> => {
      try {
        return lower.sink(encodeWith(frames, new FrameEncoder(layout)))
      } catch (err) {
        return Promise.reject(err)
      }
    },
    close: async (options): Promise<void> => {
      await lower.close?.(options)
    },
    abort
  }
}
