/**
 * The measured runs of the codec benchmark. Every producer is an async generator (as users have it), and
 * every decoder reads its chunks from the same kind of async generator, for @proto and the baselines alike.
 */
import type { ByteChunk } from '@proto/interface'
import * as lp from 'it-length-prefixed'

/** What the benchmark needs of a frame. */
export interface BenchFrame { type: number, body: Uint8Array | { byteLength: number } }

/** A decoder's output: frames one by one, and batches when it offers them. */
export type BenchSource = AsyncIterable<BenchFrame> & { nextBatch?: () => Promise<BenchFrame[] | undefined> }

/** The part of a codec module the benchmark drives: this build of @proto/codec, or an older one. */
export interface CodecImpl {
  encode(source: AsyncIterable<BenchFrame>): AsyncIterable<ByteChunk>
  decode(source: AsyncIterable<ByteChunk>, init?: { bodyList?: boolean }): BenchSource
}

/** What every table gets: the build under test, an optional older build, and how long to run. */
export interface BenchContext {
  quick: boolean
  rounds: number
  impl: CodecImpl
  before: CodecImpl | undefined
}

/** One timed run: frames seen, body bytes seen, seconds spent. */
export interface Run { msgs: number, bytes: number, seconds: number }

/**
 * CPU seconds used by this process (user + system, all threads). Every run is CPU-bound in memory, so on
 * an idle machine this equals wall time; on a busy shared one it leaves out the time other processes took.
 */
export function now (): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}

/** The producer: an async generator over prepared items. */
export async function * produce<T> (items: T[]): AsyncGenerator<T> {
  for (let i = 0; i < items.length; i++) yield items[i]
}

/**
 * Delivers prepared chunks as a socket does: each in a buffer of its own, just written (so it is in the
 * cache when the decoder reads it, and a decoder that keeps it keeps that buffer). Every decoder gets the same.
 */
export async function * deliverFresh (pieces: ByteChunk[]): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] as Uint8Array
    const fresh = Buffer.allocUnsafe(piece.byteLength)
    fresh.set(piece)
    yield fresh
  }
}

/** Joins chunks into one buffer (preparation, not timed). */
export function join (chunks: ByteChunk[]): Uint8Array {
  const parts = chunks.map(c => c instanceof Uint8Array ? c : c.subarray())
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.byteLength }
  return out
}

/** Cuts a buffer into pieces of `piece` bytes (preparation, not timed). */
export function cut (wire: Uint8Array, piece: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let off = 0; off < wire.byteLength; off += piece) out.push(wire.subarray(off, off + piece))
  return out
}

/**
 * The producer as users have it: an async generator making a frame object per message, with bodies taken
 * from a small pool (so the run does not hold every message in memory at once).
 */
export async function * produceFrames (count: number, pool: Uint8Array[]): AsyncGenerator<BenchFrame> {
  for (let i = 0; i < count; i++) yield { type: 0, body: pool[i % pool.length] }
}

export async function * produceBodies (count: number, pool: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) yield pool[i % pool.length]
}

/**
 * Re-slices a byte stream into pieces of `piece` bytes, each a new buffer, as a TCP stack delivers
 * segments: every byte is copied once, whatever the chunks it came in, so both codecs pay the same.
 */
export async function * reslice (source: AsyncIterable<ByteChunk>, piece: number): AsyncGenerator<Uint8Array> {
  let out = Buffer.allocUnsafe(piece)
  let fill = 0
  const single: Uint8Array[] = []
  for await (const chunk of source) {
    if (chunk instanceof Uint8Array) single[0] = chunk
    for (const buf of chunk instanceof Uint8Array ? single : chunk) {
      let off = 0
      while (off < buf.byteLength) {
        const take = Math.min(piece - fill, buf.byteLength - off)
        out.set(take === buf.byteLength ? buf : buf.subarray(off, off + take), fill)
        fill += take
        off += take
        if (fill === piece) {
          yield out
          out = Buffer.allocUnsafe(piece)
          fill = 0
        }
      }
    }
  }
  if (fill > 0) yield out.subarray(0, fill)
}

/** Encodes `count` frames from an async producer into a counting sink; returns the chunks seen and the time. */
export async function encodeProto (impl: CodecImpl, count: number, pool: Uint8Array[]): Promise<{ chunks: number, seconds: number }> {
  const t = now()
  let chunks = 0
  for await (const c of impl.encode(produceFrames(count, pool))) chunks += c.byteLength > 0 ? 1 : 0
  return { chunks, seconds: now() - t }
}

/** Encodes the same bodies with it-length-prefixed. */
export async function encodeLp (count: number, pool: Uint8Array[]): Promise<{ chunks: number, seconds: number }> {
  const t = now()
  let chunks = 0
  for await (const c of lp.encode(produceBodies(count, pool))) chunks += c.byteLength > 0 ? 1 : 0
  return { chunks, seconds: now() - t }
}

/** How the decoded frames are consumed. */
export type Consumer = 'frame' | 'batch' | 'transform'

/** An identity transform written as users write one (`it-map` is the same shape): it hides `nextBatch()`. */
async function * passThrough<T> (source: AsyncIterable<T>): AsyncGenerator<T> {
  for await (const item of source) yield item
}

/** Consumes a decoder per frame (`for await`), per batch (`nextBatch()`), or through a plain transform. */
async function consume (source: BenchSource, consumer: Consumer): Promise<{ msgs: number, bytes: number }> {
  let msgs = 0
  let bytes = 0
  if (consumer === 'batch' && source.nextBatch != null) {
    const it = source as Required<BenchSource>
    for (let batch = await it.nextBatch(); batch !== undefined; batch = await it.nextBatch()) {
      for (let i = 0; i < batch.length; i++) { msgs++; bytes += batch[i].body.byteLength }
    }
  } else {
    for await (const f of consumer === 'transform' ? passThrough(source) : source) { msgs++; bytes += f.body.byteLength }
  }
  return { msgs, bytes }
}

/** Decodes `pieces` delivered by an async generator, as they are or (`fresh`) each in a new buffer. */
export async function decodeProto (impl: CodecImpl, pieces: ByteChunk[], consumer: Consumer, bodyList = false, fresh = false): Promise<Run> {
  const t = now()
  const { msgs, bytes } = await consume(impl.decode(fresh ? deliverFresh(pieces) : produce(pieces), bodyList ? { bodyList } : undefined), consumer)
  return { msgs, bytes, seconds: now() - t }
}

/** The whole pipeline, streaming: async producer → encode → (re-slicer) → decode → consumer. */
export async function pipeProto (impl: CodecImpl, count: number, pool: Uint8Array[], piece: number | null, consumer: Consumer): Promise<Run> {
  const t = now()
  const encoded = impl.encode(produceFrames(count, pool))
  const { msgs, bytes } = await consume(impl.decode(piece == null ? encoded : reslice(encoded, piece)), consumer)
  return { msgs, bytes, seconds: now() - t }
}

/**
 * The least any codec with a per-frame async edge pays here, with no encoding or decoding at all: the async
 * producer pulled frame by frame, one view made per frame, and one `for await` step per frame.
 */
export async function pipeFloor (count: number, pool: Uint8Array[]): Promise<Run> {
  const t = now()
  let msgs = 0
  let bytes = 0
  const producer = produceFrames(count, pool)
  const view = (r: IteratorResult<BenchFrame>): IteratorResult<BenchFrame> => {
    if (r.done === true) return r
    const body = r.value.body as Uint8Array
    return { done: false, value: { type: r.value.type, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) } }
  }
  const edge: AsyncIterable<BenchFrame> = { [Symbol.asyncIterator]: () => ({ next: () => producer.next().then(view) }) }
  for await (const f of edge) { msgs++; bytes += f.body.byteLength }
  return { msgs, bytes, seconds: now() - t }
}

/**
 * The floor of the re-sliced pipeline: the floor above, plus re-slicing the same byte stream into `piece`-byte
 * buffers and taking each piece with one `for await` step, as any decoder fed by the re-slicer must. The
 * bytes are this codec's encoding of the same frames, made beforehand (untimed); only the two parts that no
 * codec can avoid are timed. Encoding and decoding are left out, so no codec with a per-frame edge, fed
 * re-sliced reads of this format, can be faster than this.
 */
export async function pipeFloorResliced (impl: CodecImpl, count: number, pool: Uint8Array[], piece: number): Promise<Run> {
  const floor = await pipeFloor(count, pool)
  const encoded: ByteChunk[] = []
  for await (const chunk of impl.encode(produceFrames(count, pool))) encoded.push(chunk)
  const t = now()
  let bytes = 0
  for await (const p of reslice(produce(encoded), piece)) bytes += p.byteLength
  const seconds = now() - t
  if (bytes !== encoded.reduce((n, c) => n + c.byteLength, 0)) throw new Error('re-slicing lost bytes')
  return { msgs: floor.msgs, bytes: floor.bytes, seconds: floor.seconds + seconds }
}

/** The same pipeline with it-length-prefixed, one `for await` step per message at the end. */
export async function pipeLp (count: number, pool: Uint8Array[], piece: number | null): Promise<Run> {
  const t = now()
  let msgs = 0
  let bytes = 0
  const encoded = lp.encode(produceBodies(count, pool))
  for await (const list of lp.decode(piece == null ? encoded : reslice(encoded, piece))) { msgs++; bytes += list.byteLength }
  return { msgs, bytes, seconds: now() - t }
}

/** Decodes `pieces` from a plain array: `decode` then returns a synchronous generator (the decoding work alone). */
export function decodeProtoSync (impl: CodecImpl, pieces: ByteChunk[], bodyList = false): Run {
  const t = now()
  let msgs = 0
  let bytes = 0
  const decodeSync = impl.decode as unknown as (source: Iterable<ByteChunk>, init?: { bodyList?: boolean }) => Iterable<BenchFrame>
  for (const f of decodeSync(pieces, bodyList ? { bodyList } : undefined)) { msgs++; bytes += f.body.byteLength }
  return { msgs, bytes, seconds: now() - t }
}

/** `Buffer.copy` of `total` bytes in pieces of `size`: the memcpy bandwidth of this machine. */
export function copyRun (size: number, count: number): Run {
  const src = Buffer.alloc(size, 1)
  const dst = Buffer.allocUnsafe(size)
  const t = now()
  for (let i = 0; i < count; i++) src.copy(dst)
  return { msgs: count, bytes: size * count, seconds: now() - t }
}
