/**
 * What one small buffer costs, for the encoder's packed chunks and the decoder's small spanning bodies:
 * the ways to get `n` bytes that are about to be overwritten. Each run makes 200 000 buffers and keeps the
 * last 1 024 alive, so collecting them is counted too. A second table writes each buffer to a Node stream,
 * as the transport does with an encoded chunk: `write()` wraps every `Uint8Array` that is not a `Buffer`.
 */
import { Writable } from 'node:stream'
import { ratio, Rounds } from './stats.js'
import type { BenchContext } from './workloads.js'
import { now } from './workloads.js'

type Print = (line?: string) => void

const KEEP = 1024

let slab = new Uint8Array(0)
let slabOffset = 0

/** The carving the encoder did before: views of a process-wide 64 KiB slab. */
function fromSlab (n: number): Uint8Array {
  if (slab.byteLength - slabOffset < n) {
    slab = new Uint8Array(64 * 1024)
    slabOffset = 0
  }
  const out = slab.subarray(slabOffset, slabOffset + n)
  slabOffset += n
  return out
}

const WAYS: Array<[string, (n: number) => Uint8Array]> = [
  ['`new Uint8Array(n)`', n => new Uint8Array(n)],
  ['`Buffer.allocUnsafeSlow(n)`', n => Buffer.allocUnsafeSlow(n)],
  ['`Buffer.allocUnsafe(n)` as a plain `Uint8Array` view (Node\'s 8 KiB pool; the decoder\'s bodies)', poolView],
  ['view of a shared 64 KiB slab (the encoder before it took the pool)', fromSlab],
  ['`Buffer.allocUnsafe(n)` itself (the encoder\'s chunks)', n => Buffer.allocUnsafe(n)]
]

/** A pooled buffer as a plain `Uint8Array`: the second object a decoded body costs, so its `slice()` copies. */
function poolView (n: number): Uint8Array {
  const b = Buffer.allocUnsafe(n)
  return new Uint8Array(b.buffer, b.byteOffset, n)
}

const WRITE_WAYS: Array<[string, (n: number) => Uint8Array]> = [
  ['a plain `Uint8Array` view of the pool (the encoder\'s chunks before)', poolView],
  ['the pooled `Buffer` itself (the encoder\'s chunks)', n => Buffer.allocUnsafe(n)]
]

/** A stream that takes every write at once: what is left is the stream's own bookkeeping and wrapping. */
const discard = new Writable({ write (_chunk, _encoding, done) { done() } })

function runWrites (alloc: (n: number) => Uint8Array, n: number, count: number): number {
  const t = now()
  for (let i = 0; i < count; i++) {
    const b = alloc(n)
    b[0] = i
    discard.write(b)
  }
  return (now() - t) / count * 1e9
}

function run (alloc: (n: number) => Uint8Array, n: number, count: number): number {
  const kept: Uint8Array[] = new Array<Uint8Array>(KEEP)
  const t = now()
  for (let i = 0; i < count; i++) {
    const b = alloc(n)
    b[0] = i
    kept[i & (KEEP - 1)] = b
  }
  return (now() - t) / count * 1e9
}

/** What one table measures: its title, text, first column's name, its rows, how one row is timed, and the row the ratios are against. */
interface TableSpec {
  title: string
  text: string
  column: string
  ways: Array<[string, (n: number) => Uint8Array]>
  time: (alloc: (n: number) => Uint8Array, n: number, count: number) => number
  /** The row every ratio is taken against, and its name in the header. */
  base: number
  baseName: string
}

/** Times every way at every size, in interleaved rounds (the order rotated each round), and prints the table. */
async function table (ctx: BenchContext, print: Print, spec: TableSpec, sizes: number[], count: number): Promise<void> {
  print()
  print(`## ${spec.title} (ns each, lower is better)`)
  print()
  print(spec.text)
  print()
  print(`| ${spec.column} | ${sizes.map(n => `${n} B`).join(' | ')} | ÷ ${spec.baseName}, ${sizes[0]} B |`)
  print(`|---|${sizes.map(() => '---:|').join('')}---:|`)
  const { ways, time } = spec
  const results = new Map<number, Rounds>()
  for (const n of sizes) {
    const r = new Rounds()
    for (const [, alloc] of ways) time(alloc, n, count)
    for (let round = 0; round < ctx.rounds; round++) {
      for (let i = 0; i < ways.length; i++) {
        const [name, alloc] = ways[(i + round) % ways.length]
        r.add(name, time(alloc, n, count))
      }
    }
    results.set(n, r)
    await new Promise(resolve => setImmediate(resolve))
  }
  const base = ways[spec.base][0]
  for (const [name] of ways) {
    const cells = sizes.map((n) => { const r = results.get(n) as Rounds; return `${r.median(name).toFixed(0)} ${r.spread(name)}` })
    print(`| ${name} | ${cells.join(' | ')} | ${ratio((results.get(sizes[0]) as Rounds).ratio(name, base))} |`)
  }
}

export async function allocTable (ctx: BenchContext, print: Print): Promise<void> {
  const sizes = [69, 261, 1029]
  const count = ctx.quick ? 50_000 : 200_000
  await table(ctx, print, {
    title: 'One small buffer',
    text: 'What a single-frame chunk (5-byte header + 64, 256 or 1024 B) or a small body that spanned reads costs to allocate.',
    column: 'way',
    ways: WAYS,
    time: run,
    base: 2,
    baseName: 'pool'
  }, sizes, count)
  await table(ctx, print, {
    title: 'One small chunk written to a Node stream',
    text: 'The same buffers, each handed to a `Writable` that takes it at once, as the transport hands an encoded chunk to its socket: `write()` wraps every `Uint8Array` that is not a `Buffer` in a `Buffer` of its own.',
    column: 'chunk',
    ways: WRITE_WAYS,
    time: runWrites,
    base: 0,
    baseName: 'plain view'
  }, sizes, count)
}
