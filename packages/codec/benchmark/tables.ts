/** The four tables of the codec benchmark; each runs its variants interleaved, round by round. */
import type { ByteChunk } from '@proto/interface'
import { rate, ratio, Rounds } from './stats.js'
import type { BenchContext, CodecImpl, Consumer, Run } from './workloads.js'
import { copyRun, cut, decodeProto, decodeProtoSync, encodeLp, encodeProto, join, pipeFloor, pipeFloorResliced, pipeLp, pipeProto } from './workloads.js'

type Print = (line?: string) => void
type Variant = [name: string, run: () => Promise<number>]

/** One warm-up round, then `rounds` rounds with the order of the variants rotated each round. */
async function measure (ctx: BenchContext, variants: Variant[]): Promise<Rounds> {
  const rounds = new Rounds()
  for (const [, run] of variants) await run()
  for (let r = 0; r < ctx.rounds; r++) {
    for (let i = 0; i < variants.length; i++) {
      const [name, run] = variants[(i + r) % variants.length]
      rounds.add(name, await run())
    }
  }
  return rounds
}

/** A few distinct bodies of `size` bytes that the producers cycle through. */
function poolOf (size: number): Uint8Array[] {
  return Array.from({ length: 16 }, (_, i) => new Uint8Array(size).fill(i))
}

function expectCount (run: Run, count: number, what: string): Run {
  if (run.msgs !== count) throw new Error(`${what}: ${run.msgs} frames decoded of ${count}`)
  return run
}

const chunkingName = (piece: number | null): string => piece == null ? 'as produced' : `${piece} B`

export async function smallTable (ctx: BenchContext, print: Print): Promise<void> {
  const { impl, before } = ctx
  print()
  print('## Small frames: encode + decode, streaming, ÷ it-length-prefixed (msg/s)')
  print()
  print('async producer → encode → (re-sliced into new 1460-byte buffers, as TCP delivers segments) → decode → consumer, one pipeline per run; "per frame" consumes with `for await`, "batches" with `nextBatch()` (it-length-prefixed has only the former). "ceiling": the floor ÷ it-length-prefixed, where the floor is the same producer and a `for await` consumer with only a view made per frame in between (no encoding, no decoding), plus, for re-sliced rows, the re-slicing of the same bytes (this format\'s) into 1460-byte buffers taken one `for await` step each: the most any codec with a per-frame edge can reach here (in this format, for re-sliced rows).')
  print()
  print('| frame | chunking | it-lp | @proto per frame | ÷ it-lp | @proto batches | ÷ it-lp | ceiling |' + (before != null ? ' before per frame ÷ it-lp | before batches ÷ it-lp | per frame after ÷ before |' : ''))
  print('|---:|---|---:|---:|---:|---:|---:|---:|' + (before != null ? '---:|---:|---:|' : ''))
  for (const size of [16, 64, 256, 4096]) {
    const count = Math.min(ctx.quick ? 50_000 : 200_000, Math.floor((ctx.quick ? 4 : 16) * 2 ** 20 / size))
    const pool = poolOf(size)
    for (const piece of [null, 1460]) {
      const rateOf = (run: Run, what: string): number => expectCount(run, count, what).msgs / run.seconds
      const variants: Variant[] = [
        ['lp', async () => rateOf(await pipeLp(count, pool, piece), 'it-lp')],
        ['frame', async () => rateOf(await pipeProto(impl, count, pool, piece, 'frame'), 'proto')],
        ['batch', async () => rateOf(await pipeProto(impl, count, pool, piece, 'batch'), 'proto')]
      ]
      variants.push(['floor', async () => rateOf(piece == null ? await pipeFloor(count, pool) : await pipeFloorResliced(impl, count, pool, piece), 'floor')])
      if (before != null) {
        variants.push(['before-frame', async () => rateOf(await pipeProto(before, count, pool, piece, 'frame'), 'before')])
        variants.push(['before-batch', async () => rateOf(await pipeProto(before, count, pool, piece, 'batch'), 'before')])
      }
      const r = await measure(ctx, variants)
      let row = `| ${size} B | ${chunkingName(piece)} | ${rate(r.median('lp'))} ${r.spread('lp')} | ${rate(r.median('frame'))} ${r.spread('frame')} | **${ratio(r.ratio('frame', 'lp'))}** | ${rate(r.median('batch'))} ${r.spread('batch')} | **${ratio(r.ratio('batch', 'lp'))}** | ${ratio(r.ratio('floor', 'lp'))} |`
      if (before != null) row += ` ${ratio(r.ratio('before-frame', 'lp'))} | ${ratio(r.ratio('before-batch', 'lp'))} | ${ratio(r.ratio('frame', 'before-frame'))} |`
      print(row)
    }
  }
}

export async function encodeTable (ctx: BenchContext, print: Print): Promise<void> {
  const { impl, before } = ctx
  print()
  print('## Encode alone, from an async producer into a `for await` sink (msg/s)')
  print()
  print('| frame | it-lp | @proto | ÷ it-lp | @proto frames per chunk |' + (before != null ? ' before | before frames per chunk | after ÷ before |' : ''))
  print('|---:|---:|---:|---:|---:|' + (before != null ? '---:|---:|---:|' : ''))
  for (const size of [16, 256, 4096, 65536]) {
    const count = Math.min(ctx.quick ? 50_000 : 200_000, Math.floor((ctx.quick ? 8 : 32) * 2 ** 20 / size))
    const pool = poolOf(size)
    const chunks = new Map<string, number>()
    const encodeWith = (name: string, encode: () => Promise<{ chunks: number, seconds: number }>): Variant => [name, async () => {
      const e = await encode()
      chunks.set(name, e.chunks)
      return count / e.seconds
    }]
    const variants: Variant[] = [encodeWith('lp', async () => encodeLp(count, pool)), encodeWith('proto', async () => encodeProto(impl, count, pool))]
    if (before != null) variants.push(encodeWith('before', async () => encodeProto(before, count, pool)))
    const r = await measure(ctx, variants)
    const perChunk = (name: string): string => (count / (chunks.get(name) ?? 1)).toFixed(1)
    let row = `| ${size} B | ${rate(r.median('lp'))} ${r.spread('lp')} | ${rate(r.median('proto'))} ${r.spread('proto')} | **${ratio(r.ratio('proto', 'lp'))}** | ${perChunk('proto')} |`
    if (before != null) row += ` ${rate(r.median('before'))} | ${perChunk('before')} | ${ratio(r.ratio('proto', 'before'))} |`
    print(row)
  }
}

/** `count` frames of `size`-byte bodies in the default format, as one buffer. */
function wireOf (size: number, count: number): Uint8Array {
  const frame = new Uint8Array(5 + size)
  new DataView(frame.buffer).setUint32(0, size)
  frame.fill(7, 5)
  return join(Array.from({ length: count }, () => frame))
}

/** The baselines for large bodies: the hand-written decoder driven by an async generator, and by a plain loop. */
export interface ByHand {
  async(pieces: ByteChunk[]): Promise<Run>
  sync(pieces: ByteChunk[]): Run
}

export async function largeTable (ctx: BenchContext, print: Print, byHand: ByHand): Promise<void> {
  const { impl, before } = ctx
  print()
  print('## Large bodies: decode alone, ÷ a hand-written decoder (MB/s of body)')
  print()
  print('"async": chunks come from an async generator, one `for await` step each, each in a buffer of its own just written, as a socket delivers reads; "loop": the decoders are fed the prepared array of chunks in a plain loop (@proto then returns a synchronous generator), which shows the decoding work alone. Every decoder gets the same input.')
  print()
  print('| body | pieces | delivery | hand-written | @proto | ÷ hand-written | @proto `bodyList` | ÷ hand-written |' + (before != null ? ' before | before ÷ hand-written | after ÷ before |' : ''))
  print('|---:|---:|---|---:|---:|---:|---:|---:|' + (before != null ? '---:|---:|---:|' : ''))
  const copies: string[] = []
  for (const size of [65536, 1 << 20]) {
    const count = Math.max(8, Math.floor((ctx.quick ? 16 : 48) * 2 ** 20 / size))
    const wire = wireOf(size, count)
    const c = copyRun(size, count)
    copies.push(`${size >> 10} KiB: ${(c.bytes / c.seconds / 1e6).toFixed(0)} MB/s`)
    for (const piece of [1460, 65536]) {
      const pieces = cut(wire, piece)
      const mbps = (run: Run, what: string): number => expectCount(run, count, what).bytes / run.seconds / 1e6
      for (const delivery of ['async', 'loop'] as const) {
        const variants: Variant[] = delivery === 'async'
          ? [
              ['hand', async () => mbps(await byHand.async(pieces), 'hand-written')],
              ['proto', async () => mbps(await decodeProto(impl, pieces, 'frame', false, true), 'proto')],
              ['list', async () => mbps(await decodeProto(impl, pieces, 'frame', true, true), 'proto bodyList')]
            ]
          : [
              ['hand', async () => mbps(byHand.sync(pieces), 'hand-written')],
              ['proto', async () => mbps(decodeProtoSync(impl, pieces), 'proto')],
              ['list', async () => mbps(decodeProtoSync(impl, pieces, true), 'proto bodyList')]
            ]
        if (before != null) {
          variants.push(['before', delivery === 'async'
            ? async () => mbps(await decodeProto(before, pieces, 'frame', false, true), 'before')
            : async () => mbps(decodeProtoSync(before, pieces), 'before')])
        }
        const r = await measure(ctx, variants)
        const mb = (name: string): string => `${r.median(name).toFixed(0)} ${r.spread(name)}`
        print(`| ${size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`} | ${piece} B | ${delivery} | ${mb('hand')} | ${mb('proto')} | **${ratio(r.ratio('proto', 'hand'))}** | ${mb('list')} | ${ratio(r.ratio('list', 'hand'))} |`
          + (before != null ? ` ${mb('before')} | ${ratio(r.ratio('before', 'hand'))} | ${ratio(r.ratio('proto', 'before'))} |` : ''))
      }
    }
  }
  print()
  print(`memcpy (\`Buffer.copy\`) on this machine, same run: ${copies.join(', ')}.`)
}

export async function consumerTable (ctx: BenchContext, print: Print): Promise<void> {
  const { impl, before } = ctx
  print()
  print('## Consumers: 64 B frames, decode alone (msg/s)')
  print()
  print('"plain transform": an `async function *` passing each frame on (the shape of `it-map`) between the decoder and a `for await` consumer.')
  print()
  print('| chunking | per frame (`for await`) | `nextBatch()` | batch ÷ per frame | through a plain transform | transform cost per frame |' + (before != null ? ' before per frame | before `nextBatch()` | before batch ÷ per frame |' : ''))
  print('|---|---:|---:|---:|---:|---:|' + (before != null ? '---:|---:|---:|' : ''))
  const count = ctx.quick ? 50_000 : 200_000
  const one = wireOf(64, count)
  const byFrame: ByteChunk[] = Array.from({ length: count }, (_, i) => one.subarray(i * 69, (i + 1) * 69))
  for (const [name, pieces] of [['one frame per chunk', byFrame], ['1460 B', cut(one, 1460)], ['65536 B', cut(one, 65536)]] as const) {
    const decodeRate = (codec: CodecImpl, consumer: Consumer) => async () => count / expectCount(await decodeProto(codec, pieces, consumer), count, name).seconds
    const variants: Variant[] = [['frame', decodeRate(impl, 'frame')], ['batch', decodeRate(impl, 'batch')], ['transform', decodeRate(impl, 'transform')]]
    if (before != null) variants.push(['before-frame', decodeRate(before, 'frame')], ['before-batch', decodeRate(before, 'batch')])
    const r = await measure(ctx, variants)
    const cost = 1e9 / r.median('transform') - 1e9 / r.median('frame')
    print(`| ${name} | ${rate(r.median('frame'))} ${r.spread('frame')} | ${rate(r.median('batch'))} ${r.spread('batch')} | ${ratio(r.ratio('batch', 'frame'))} | ${rate(r.median('transform'))} ${r.spread('transform')} | ${cost.toFixed(0)} ns |`
      + (before != null ? ` ${rate(r.median('before-frame'))} | ${rate(r.median('before-batch'))} | ${ratio(r.ratio('before-batch', 'before-frame'))} |` : ''))
  }
}
