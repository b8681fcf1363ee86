/**
 * Encode + decode in memory, @proto/codec against it-length-prefixed, side by side in one run.
 *
 * For each frame size the same frames are encoded, re-sliced (as produced, or into 1460-byte pieces, a
 * TCP segment's payload) and decoded through an async source, as a socket would deliver them. Encode and
 * decode are timed; slicing is not. A plain `Buffer.copy` of the same payload is the bandwidth baseline.
 *
 * Run: `pnpm --filter @proto/codec bench` (builds, then runs `node dist/benchmark/codec.js`).
 * `--quick` runs fewer rounds.
 */
import type { ByteChunk } from '@proto/interface'
import * as lp from 'it-length-prefixed'
import type { Frame } from '../src/index.js'
import { decode, encode } from '../src/index.js'

const SIZES = [16, 256, 4096, 65536, 1 << 20]
const ROUNDS = process.argv.includes('--quick') ? 3 : 7
const TARGET_BYTES = 48 << 20

interface Result { msgs: number, bytes: number, seconds: number }

function concat (chunks: ByteChunk[]): Uint8Array {
  const parts = chunks.map(c => c instanceof Uint8Array ? c : c.subarray())
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.byteLength }
  return out
}

function slice (chunks: ByteChunk[], piece: number | null): ByteChunk[] {
  if (piece == null) return chunks
  const wire = concat(chunks)
  const out: Uint8Array[] = []
  for (let off = 0; off < wire.byteLength; off += piece) out.push(wire.subarray(off, off + piece))
  return out
}

async function * deliver (pieces: ByteChunk[]): AsyncGenerator<ByteChunk> {
  for (const p of pieces) yield p
}

function now (): number { return performance.now() / 1000 }

/**
 * Encodes, slices, then decodes through an async source, consuming frame by frame with `for await`, or in
 * whole batches with `nextBatch()` (how stages pass frames to each other).
 */
async function runProto (frames: Frame[], piece: number | null, batches = false): Promise<Result> {
  let t = now()
  const chunks = [...encode(frames)]
  let seconds = now() - t
  const pieces = slice(chunks, piece)
  t = now()
  let msgs = 0
  let bytes = 0
  const source = decode(deliver(pieces))
  if (batches) {
    for (let batch = await source.nextBatch(); batch != null; batch = await source.nextBatch()) {
      for (const f of batch) { msgs++; bytes += f.body.byteLength }
    }
  } else {
    for await (const f of source) { msgs++; bytes += f.body.byteLength }
  }
  seconds += now() - t
  return { msgs, bytes, seconds }
}

async function runLp (frames: Frame[], piece: number | null): Promise<Result> {
  let t = now()
  const chunks = [...lp.encode(frames.map(f => f.body))]
  let seconds = now() - t
  const pieces = slice(chunks, piece)
  t = now()
  let msgs = 0
  let bytes = 0
  for await (const list of lp.decode(deliver(pieces))) { msgs++; bytes += list.byteLength }
  seconds += now() - t
  return { msgs, bytes, seconds }
}

function runCopy (size: number, count: number): Result {
  const src = Buffer.alloc(size, 1)
  const dst = Buffer.allocUnsafe(size)
  const t = now()
  for (let i = 0; i < count; i++) src.copy(dst)
  return { msgs: count, bytes: size * count, seconds: now() - t }
}

function median (values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

function spread (values: number[]): string {
  const m = median(values)
  return `±${Math.round(100 * (Math.max(...values) - Math.min(...values)) / 2 / m)}%`
}

function fmt (n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`
  return n.toFixed(0)
}

async function main (): Promise<void> {
  console.log('# @proto/codec vs it-length-prefixed — encode + decode in memory')
  console.log(`node ${process.version}, ${ROUNDS} interleaved rounds, medians (spread = half range / median)\n`)
  console.log('| frame | chunking | @proto msg/s | @proto MB/s | it-lp msg/s | it-lp MB/s | ratio | @proto batches msg/s | batches ratio | Buffer.copy MB/s | @proto / copy |')
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const size of SIZES) {
    const count = Math.max(64, Math.min(400_000, Math.floor(TARGET_BYTES / size)))
    const frames: Frame[] = Array.from({ length: count }, (_, i) => ({ type: 0, body: new Uint8Array(size).fill(i & 0xff) }))
    for (const piece of [null, 1460]) {
      const proto: number[] = []
      const batched: number[] = []
      const base: number[] = []
      const copy: number[] = []
      for (let r = 0; r < ROUNDS; r++) {
        const a = await runProto(frames, piece)
        const b = await runLp(frames, piece)
        const c = runCopy(size, count)
        const d = await runProto(frames, piece, true)
        batched.push(d.msgs / d.seconds)
        if (a.msgs !== count || b.msgs !== count || d.msgs !== count) throw new Error(`lost frames: ${a.msgs}/${b.msgs} of ${count}`)
        proto.push(a.msgs / a.seconds)
        base.push(b.msgs / b.seconds)
        copy.push(c.bytes / c.seconds)
      }
      const p = median(proto)
      const b = median(base)
      const c = median(copy)
      const d = median(batched)
      const mb = (rate: number): string => (rate * size / 1e6).toFixed(0)
      console.log(`| ${size} B | ${piece == null ? 'as produced' : '1460 B'} | ${fmt(p)} ${spread(proto)} | ${mb(p)} | ${fmt(b)} ${spread(base)} | ${mb(b)} | **${(p / b).toFixed(1)}×** | ${fmt(d)} | ${(d / b).toFixed(1)}× | ${(c / 1e6).toFixed(0)} | ${(p * size / c).toFixed(2)}× |`)
    }
  }
}

await main()
