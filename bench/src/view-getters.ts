/**
 * What reading a typed array's `length`, `byteLength`, `byteOffset` and `buffer` costs in optimized code,
 * and what making a view costs with `buffer` and `byteOffset` read per view or once: the measurements
 * behind the hot paths' use of `length` for a byte count (bench/FINDINGS.md, "Byte counts read `length`").
 *
 *   npx tsc -b bench && node bench/dist/src/view-getters.js [--rounds=3000]
 *
 * Each row times one loop over 4 096 views of 64 bytes (Buffers cut from 8 KiB slabs, as a socket's reads
 * and the codec's bodies are), after a warm-up round; nanoseconds per view, the median of five runs.
 */
const roundsArg = process.argv.find(a => a.startsWith('--rounds='))
const ROUNDS = roundsArg === undefined ? 3000 : Number(roundsArg.slice('--rounds='.length))
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('expected --rounds=<a whole number from 1>')
const VIEWS = 4096

const views: Uint8Array[] = []
for (let i = 0; i < VIEWS; i++) views.push(Buffer.allocUnsafe(8192).subarray(64, 128))
const plain: Uint8Array[] = views.map(v => new Uint8Array(v.buffer, v.byteOffset, v.length))

type Loop = (views: Uint8Array[]) => number

const loops: Array<[string, Loop]> = [
  ['read length', (vs) => { let s = 0; for (let i = 0; i < vs.length; i++) s += vs[i].length; return s }],
  ['read byteLength', (vs) => { let s = 0; for (let i = 0; i < vs.length; i++) s += vs[i].byteLength; return s }],
  ['read byteOffset', (vs) => { let s = 0; for (let i = 0; i < vs.length; i++) s += vs[i].byteOffset; return s }],
  ['read buffer', (vs) => { let s = 0; for (let i = 0; i < vs.length; i++) s += vs[i].buffer === undefined ? 0 : 1; return s }],
  ['view of a chunk, buffer and byteOffset read per view', (vs) => {
    const c = vs[0]
    let s = 0
    for (let i = 0; i < vs.length; i++) s += new Uint8Array(c.buffer, c.byteOffset + 4, 8).length
    return s
  }],
  ['view of a chunk, buffer and byteOffset read once', (vs) => {
    const c = vs[0]
    const buffer = c.buffer
    const base = c.byteOffset
    let s = 0
    for (let i = 0; i < vs.length; i++) s += new Uint8Array(buffer, base + 4, 8).length
    return s
  }]
]

function time (loop: Loop, vs: Uint8Array[]): number {
  let sink = 0
  const start = process.hrtime.bigint()
  for (let r = 0; r < ROUNDS; r++) sink += loop(vs)
  const ns = Number(process.hrtime.bigint() - start) / (ROUNDS * vs.length)
  if (sink < 0) console.log(sink) // keeps the loop's result alive
  return ns
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}

console.log(`Node ${process.version}, V8 ${process.versions.v8}; ${ROUNDS} rounds of ${VIEWS} views of 64 bytes`)
console.log('')
console.log('| operation | Buffer (ns per view) | Uint8Array (ns per view) |')
console.log('|---|---:|---:|')
for (const [name, loop] of loops) {
  time(loop, views)
  time(loop, plain)
  const a: number[] = []
  const b: number[] = []
  for (let k = 0; k < 5; k++) {
    a.push(time(loop, views))
    b.push(time(loop, plain))
  }
  console.log(`| ${name} | ${median(a).toFixed(1)} | ${median(b).toFixed(1)} |`)
}
