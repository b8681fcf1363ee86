import type { ByteChunk } from '@proto/interface'
import { asyncIteratorOf } from '@proto/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { BATCH_BYTES, ZERO_COPY_THRESHOLD } from './constants.js'
import { FrameDecoder } from './decoder.js'
import { EncodingSource } from './encode-async.js'
import { FrameEncoder } from './encoder.js'
import type { Frame, ListFrame } from './frame.js'
import type { FrameSource } from './frame-source.js'
import { DecodingSource } from './frame-source.js'
import type { CodecInit, CopyCodecInit, ListCodecInit } from './options.js'
import { toOptions } from './options.js'

function isSync<T> (source: AsyncIterable<T> | Iterable<T>): source is Iterable<T> {
  return (source as Iterable<T>)[Symbol.iterator] != null && (source as AsyncIterable<T>)[Symbol.asyncIterator] == null
}

/**
 * Packs frames from a synchronous source into chunks of about `BATCH_BYTES`. An invalid frame fails the
 * generator after the chunk of frames accepted before it.
 */
function * encodeSync (frames: Iterable<ListFrame>, encoder: FrameEncoder): Generator<Uint8Array | Uint8ArrayList> {
  let batch: ListFrame[] = []
  let size = 0
  let large = false
  for (const f of frames) {
    let n: number
    try {
      n = encoder.check(f)
    } catch (err) {
      if (batch.length > 0) yield encoder.pack(batch, size, large)
      throw err
    }
    batch.push(f)
    size += n
    if (f.body.length >= ZERO_COPY_THRESHOLD) large = true
    if (size >= BATCH_BYTES) {
      yield encoder.pack(batch, size, large)
      batch = []
      size = 0
      large = false
    }
  }
  if (batch.length > 0) yield encoder.pack(batch, size, large)
}

/**
 * Encodes frames into bytes, as an `it-pipe` transform. Header and body of a frame always travel in the
 * same chunk. A synchronous source gives a synchronous generator; an async source gives an async iterator
 * that packs every frame the producer has ready into one chunk (reading ahead at most ~64 KiB, through
 * `nextBatch()` when the source offers it). Bodies may be `Uint8ArrayList`s; large ones are not copied.
 */
export function encode (source: Iterable<ListFrame>, init?: CodecInit): Generator<Uint8Array | Uint8ArrayList>
export function encode (source: AsyncIterable<ListFrame> | Iterable<ListFrame>, init?: CodecInit): AsyncIterableIterator<Uint8Array | Uint8ArrayList>
export function encode (source: AsyncIterable<ListFrame> | Iterable<ListFrame>, init?: CodecInit): Generator<Uint8Array | Uint8ArrayList> | AsyncIterableIterator<ByteChunk> {
  return encodeWith(source, new FrameEncoder(toOptions(init).layout))
}

/** `encode` with an encoder already made (and its options already checked). */
export function encodeWith (source: AsyncIterable<ListFrame> | Iterable<ListFrame>, encoder: FrameEncoder): Generator<Uint8Array | Uint8ArrayList> | AsyncIterableIterator<ByteChunk> {
  return isSync(source) ? encodeSync(source, encoder) : new EncodingSource(asyncIteratorOf(source), encoder)
}

/** Frames completed by each chunk are yielded before an error found later in that chunk is thrown. */
function * decodeSync<F extends ListFrame> (chunks: Iterable<ByteChunk>, decoder: FrameDecoder<F>): Generator<F> {
  const out: F[] = []
  for (const chunk of chunks) {
    let failure: { error: unknown } | undefined
    try {
      decoder.push(chunk, out)
    } catch (error) {
      failure = { error }
    }
    if (out.length > 0) {
      for (let i = 0; i < out.length; i++) yield out[i]
      out.length = 0
    }
    if (failure !== undefined) throw failure.error
  }
  decoder.end()
}

/**
 * Decodes bytes into frames, as an `it-pipe` transform. Chunks may split or coalesce frames in any way.
 * A synchronous source gives a synchronous generator; an async source gives a {@link FrameSource}.
 * Bad input fails with a typed error (`FrameTooLongError`, `InvalidHeaderError`, `TruncatedFrameError`)
 * after every frame completed before it has been delivered. With `bodyList: true`, bodies that spanned
 * chunks come as `Uint8ArrayList`s (`ListFrame`).
 */
export function decode (source: Iterable<ByteChunk>, init?: CopyCodecInit): Generator<Frame>
export function decode (source: AsyncIterable<ByteChunk> | Iterable<ByteChunk>, init?: CopyCodecInit): FrameSource
export function decode (source: Iterable<ByteChunk>, init: ListCodecInit | CodecInit): Generator<ListFrame>
export function decode (source: AsyncIterable<ByteChunk> | Iterable<ByteChunk>, init: ListCodecInit | CodecInit): FrameSource<ListFrame>
export function decode (source: AsyncIterable<ByteChunk> | Iterable<ByteChunk>, init?: CodecInit): Generator<ListFrame> | FrameSource<ListFrame> {
  const { layout, bodyList } = toOptions(init)
  const decoder = new FrameDecoder<ListFrame>(layout, bodyList)
  if (isSync(source)) return decodeSync(source, decoder)
  return new DecodingSource(source[Symbol.asyncIterator](), decoder)
}
