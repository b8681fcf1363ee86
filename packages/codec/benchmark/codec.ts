/**
 * @proto/codec against it-length-prefixed and a hand-written decoder, in memory, side by side in one run.
 *
 * Like with like: on every side the producer is an async generator of frames (as users have it), the
 * decoder reads its chunks from an async generator, and the chunking is the same (as the encoder
 * produced them, or re-sliced into 1460-byte pieces, one TCP segment's payload). Rounds are interleaved
 * with the order rotated; ratios are taken within a round, then the median is reported.
 *
 * Run: `pnpm --filter @proto/codec bench` (builds, then runs `node dist/benchmark/codec.js`). Flags:
 * `--quick` (fewer rounds, less data), `--only=small,encode,large,consumers,alloc`, `--out=<file>` (also write the
 * tables there; nothing is written by default), `--before=<module>` (add columns for another build of the
 * codec, e.g. one made by `benchmark/build-before.sh`, measured in the same run).
 */
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as current from '../src/index.js'
import { allocTable } from './alloc.js'
import { decodeByHand, decodeByHandSync } from './hand-written.js'
import { consumerTable, encodeTable, largeTable, smallTable } from './tables.js'
import type { BenchContext, CodecImpl } from './workloads.js'

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => args.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const quick = args.includes('--quick')
const only = flag('only')?.split(',')
const out = flag('out')
const beforePath = flag('before')

async function main (): Promise<void> {
  const before = beforePath == null ? undefined : await import(pathToFileURL(resolve(beforePath)).href) as CodecImpl
  const ctx: BenchContext = { quick, rounds: quick ? 3 : 7, impl: current as unknown as CodecImpl, before }
  const lines: string[] = []
  const print = (line = ''): void => { console.log(line); lines.push(line) }
  print('# @proto/codec benchmark')
  print()
  print(`node ${process.version}, ${ctx.rounds} interleaved rounds, CPU time, medians (spread = half range / median)`
    + (before != null ? `; "before" = ${beforePath}` : ''))
  const run = (part: string): boolean => only == null || only.includes(part)
  if (run('small')) await smallTable(ctx, print)
  if (run('encode')) await encodeTable(ctx, print)
  if (run('large')) await largeTable(ctx, print, { async: decodeByHand, sync: decodeByHandSync })
  if (run('consumers')) await consumerTable(ctx, print)
  if (run('alloc')) await allocTable(ctx, print)
  if (out != null) writeFileSync(out, lines.join('\n') + '\n')
}

await main()
