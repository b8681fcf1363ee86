/**
 * Compares two V8 heap snapshots by constructor: what the second holds beyond the first, per unit (e.g.
 * per connection). Used on the scale server's snapshots (`BENCH_HEAP_SNAPSHOT`, see scale-server.ts):
 *
 *   node bench/dist/src/heap-diff.js before.heapsnapshot after.heapsnapshot [units] [rows]
 */
import { readFileSync } from 'node:fs'

interface Snapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[], ...unknown[]] } }
  nodes: number[]
  strings: string[]
}

interface Group { count: number, bytes: number }

function groups (file: string): Map<string, Group> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
  const fields = s.snapshot.meta.node_fields
  const width = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const types = s.snapshot.meta.node_types[0]
  const out = new Map<string, Group>()
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]]
    const name = type === 'object' || type === 'closure' || type === 'native' ? s.strings[s.nodes[i + nameAt]] : ''
    const key = `${type}${name === '' ? '' : ` ${name.slice(0, 60)}`}`
    const g = out.get(key) ?? { count: 0, bytes: 0 }
    g.count++
    g.bytes += s.nodes[i + sizeAt]
    out.set(key, g)
  }
  return out
}

const [before, after, unitsArg, rowsArg] = process.argv.slice(2)
if (before === undefined || after === undefined) throw new Error('usage: heap-diff.js before.heapsnapshot after.heapsnapshot [units] [rows]')
const units = Number(unitsArg ?? 1)
const rows = Number(rowsArg ?? 40)
const a = groups(before)
const b = groups(after)
const diff: Array<[string, number, number]> = []
let total = 0
for (const [key, g] of b) {
  const o = a.get(key) ?? { count: 0, bytes: 0 }
  const bytes = g.bytes - o.bytes
  total += bytes
  diff.push([key, (g.count - o.count) / units, bytes / units])
}
diff.sort((x, y) => y[2] - x[2])
process.stdout.write(`total ${(total / units).toFixed(0)} B per unit\n| what | count per unit | bytes per unit |\n|---|---:|---:|\n`)
for (const [key, count, bytes] of diff.slice(0, rows)) process.stdout.write(`| ${key} | ${count.toFixed(2)} | ${bytes.toFixed(0)} |\n`)
