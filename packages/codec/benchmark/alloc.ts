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

export async function allocTable (ctx: BenchContext, print: Print): Promise<void> {
  const sizes = [69, 261, 1029]
  const count = ctx.quick ? 50_000 : 200_000
  print()
  print('## One small buffer (ns each, lower is better)')
  print()
  print('What a single-frame chunk (5-byte header + 64, 256 or 1024 B) or a small body that spanned reads costs to allocate.')
  print()
  print(`| way | ${sizes.map(n => `${n} B`).join(' | ')} | ÷ pool, ${sizes[0]} B |`)
  print(`|---|${sizes.map(() => '---:|').join('')}---:|`)
  const results = new Map<string, Rounds>()
  for (const n of sizes) {
    const r = new Rounds()
    for (const [, alloc] of WAYS) run(alloc, n, count)
    for (let round = 0; round < ctx.rounds; round++) {
      for (let i = 0; i < WAYS.length; i++) {
        const [name, alloc] = WAYS[(i + round) % WAYS.length]
        r.add(name, run(alloc, n, count))
      }
    }
    results.set(String(n), r)
    await new Promise(resolve => setImmediate(resolve))
  }
  const pool = WAYS[2][0]
  for (const [name] of WAYS) {
    const cells = sizes.map((n) => { const r = results.get(String(n)) as Rounds; return `${r.median(name).toFixed(0)} ${r.spread(name)}` })
    print(`| ${name} | ${cells.join(' | ')} | ${ratio((results.get(String(sizes[0])) as Rounds).ratio(name, pool))} |`)
  }
  await writeTable(ctx, print, sizes, count)
}

async function writeTable (ctx: BenchContext, print: Print, sizes: number[], count: number): Promise<void> {
  print()
  print('## One small chunk written to a Node stream (ns each, lower is better)')
  print()
  print('The same buffers, each handed to a `Writable` that takes it at once, as the transport hands an encoded chunk to its socket: `write()` wraps every `Uint8Array` that is not a `Buffer` in a `Buffer` of its own.')
  print()
  print(`| chunk | ${sizes.map(n => `${n} B`).join(' | ')} | ÷ plain view, ${sizes[0]} B |`)
  print(`|---|${sizes.map(() => '---:|').join('')}---:|`)
  const results = new Map<string, Rounds>()
  for (const n of sizes) {
    const r = new Rounds()
    for (const [, alloc] of WRITE_WAYS) runWrites(alloc, n, count)
    for (let round = 0; round < ctx.rounds; round++) {
      for (let i = 0; i < WRITE_WAYS.length; i++) {
        const [name, alloc] = WRITE_WAYS[(i + round) % WRITE_WAYS.length]
        r.add(name, runWrites(alloc, n, count))
      }
    }
    results.set(String(n), r)
    await new Promise(resolve => setImmediate(resolve))
  }
  const plain = WRITE_WAYS[0][0]
  for (const [name] of WRITE_WAYS) {
    const cells = sizes.map((n) => { const r = results.get(String(n)) as Rounds; return `${r.median(name).toFixed(0)} ${r.spread(name)}` })
    print(`| ${name} | ${cells.join(' | ')} | ${ratio((results.get(String(sizes[0])) as Rounds).ratio(name, plain))} |`)
  }
}
