import type { ByteChunk } from '@proto/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { BATCH_BYTES, ZERO_COPY_THRESHOLD } from './constants.js'
import { FrameDecoder } from './decoder.js'
import { FrameEncoder } from './encoder.js'
import type { FrameFormat } from './format.js'
import { toLayout } from './format.js'
import type { Frame } from './frame.js'
import type { FrameSource } from './frame-source.js'
import { DecodingSource } from './frame-source.js'

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
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

function isSync<T> (source: AsyncIterable<T> | Iterable<T>): source is Iterable<T> {
  return (source as Iterable<T>)[Symbol.iterator] != null && (source as AsyncIterable<T>)[Symbol.asyncIterator] == null
}

/** Packs frames from a synchronous source into chunks of about `BATCH_BYTES`; large bodies go uncopied. */
function * encodeSync (frames: Iterable<Frame>, encoder: FrameEncoder): Generator<Uint8Array | Uint8ArrayList> {
  let batch: Frame[] = []
  let size = 0
  for (const f of frames) {
    if (f.body.byteLength >= ZERO_COPY_THRESHOLD) {
      if (batch.length > 0) yield encoder.encodeBatch(batch, size)
      batch = []
      size = 0
      yield encoder.encode(f)
      continue
    }
    size += encoder.check(f)
    batch.push(f)
    if (size >= BATCH_BYTES) {
      yield encoder.encodeBatch(batch, size)
      batch = []
      size = 0
    }
  }
  if (batch.length > 0) yield encoder.encodeBatch(batch, size)
}

/** An iterator that can also hand out everything it has ready at once (see `FrameSource.nextBatch`). */
interface BatchingIterator<T> extends AsyncIterator<T> {
  nextBatch?: () => Promise<T[] | undefined>
}

/**
 * Maps an async source of frames to chunks without an async generator per item. When the source can
 * hand out batches (`nextBatch()`, as the heartbeat and reconnect stages do), each batch becomes one chunk;
 * otherwise each frame does.
 */
function encodeAsync (frames: AsyncIterable<Frame>, encoder: FrameEncoder): AsyncIterableIterator<Uint8Array | Uint8ArrayList> {
  const it: BatchingIterator<Frame> = frames[Symbol.asyncIterator]()
  const nextBatch = it.nextBatch
  // made once per stream, so a pending read costs a promise and nothing else
  const onItem = (r: IteratorResult<Frame>): IteratorResult<Uint8Array | Uint8ArrayList> =>
    r.done === true ? DONE : { done: false, value: encoder.encode(r.value) }
  const onBatch = (batch: Frame[] | undefined): IteratorResult<Uint8Array | Uint8ArrayList> =>
    batch == null ? DONE : { done: false, value: encoder.encodeMany(batch) }
  const out: AsyncIterableIterator<Uint8Array | Uint8ArrayList> = {
    [Symbol.asyncIterator]: () => out,
    next: typeof nextBatch === 'function'
      ? () => nextBatch.call(it).then(onBatch)
      : () => it.next().then(onItem),
    return: async () => {
      await it.return?.()
      return DONE
    }
  }
  return out
}

/**
 * Encodes frames into bytes, as an `it-pipe` transform. A synchronous source gives a synchronous
 * generator that packs many frames into each chunk; an async source gives one chunk per frame, or per batch
 * when it offers `nextBatch()`. Header and body of a frame always travel in the same chunk.
 */
export function encode (source: Iterable<Frame>, init?: CodecInit): Generator<Uint8Array | Uint8ArrayList>
export function encode (source: AsyncIterable<Frame> | Iterable<Frame>, init?: CodecInit): AsyncIterableIterator<Uint8Array | Uint8ArrayList>
export function encode (source: AsyncIterable<Frame> | Iterable<Frame>, init: CodecInit = {}): Generator<Uint8Array | Uint8ArrayList> | AsyncIterableIterator<Uint8Array | Uint8ArrayList> {
  return encodeWith(source, new FrameEncoder(toLayout(init.format, init.maxFrameLength)))
}

/** `encode` with an encoder already made (and its options already checked). */
export function encodeWith (source: AsyncIterable<Frame> | Iterable<Frame>, encoder: FrameEncoder): Generator<Uint8Array | Uint8ArrayList> | AsyncIterableIterator<Uint8Array | Uint8ArrayList> {
  return isSync(source) ? encodeSync(source, encoder) : encodeAsync(source, encoder)
}

function * decodeSync (chunks: Iterable<ByteChunk>, decoder: FrameDecoder): Generator<Frame> {
  const out: Frame[] = []
  for (const chunk of chunks) {
    try {
      decoder.push(chunk, out)
    } finally {
      // frames completed before a bad header are delivered before the error
      yield * out
      out.length = 0
    }
  }
  decoder.end()
}

/**
 * Decodes bytes into frames, as an `it-pipe` transform. Chunks may split or coalesce frames in any way.
 * A synchronous source gives a synchronous generator; an async source gives a {@link FrameSource}.
 * Bad input fails with a typed error (`FrameTooLongError`, `InvalidHeaderError`, `TruncatedFrameError`)
 * after every frame completed before it has been delivered.
 */
export function decode (source: Iterable<ByteChunk>, init?: CodecInit): Generator<Frame>
export function decode (source: AsyncIterable<ByteChunk> | Iterable<ByteChunk>, init?: CodecInit): FrameSource
export function decode (source: AsyncIterable<ByteChunk> | Iterable<ByteChunk>, init: CodecInit = {}): Generator<Frame> | FrameSource {
  const decoder = new FrameDecoder(toLayout(init.format, init.maxFrameLength))
  if (isSync(source)) return decodeSync(source, decoder)
  return new DecodingSource(source[Symbol.asyncIterator](), decoder)
}
