/**
 * Attributes the objects of a V8 heap snapshot to the nearest retaining object of a named class, to see
 * what each part of a connection holds (promises, closures, contexts and arrays have no class of their own):
 *
 *   node bench/dist/src/heap-owners.js before.heapsnapshot after.heapsnapshot [units] [rows]
 *
 * Each node is walked up its first strong retainer (at most 6 steps) until an object whose constructor is
 * not a generic one (Object, Array, Promise, closures, contexts, system objects). Differences between the
 * two snapshots, per unit, largest first.
 */
import { readFileSync } from 'node:fs'

interface Snapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[], ...unknown[]], edge_fields: string[], edge_types: [string[], ...unknown[]] } }
  nodes: number[]
  edges: number[]
  strings: string[]
}

const GENERIC = new Set(['Object', 'Array', 'Promise', 'system / Context', 'Map', 'Set', '', 'Function', 'Generator', 'AsyncGenerator', 'ArrayBuffer', 'Uint8Array', 'Listener'])

function attribute (file: string): Map<string, number> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
  const nf = s.snapshot.meta.node_fields
  const ef = s.snapshot.meta.edge_fields
  const nw = nf.length
  const ew = ef.length
  const nTypes = s.snapshot.meta.node_types[0]
  const eTypes = s.snapshot.meta.edge_types[0]
  const typeAt = nf.indexOf('type')
  const nameAt = nf.indexOf('name')
  const sizeAt = nf.indexOf('self_size')
  const edgeCountAt = nf.indexOf('edge_count')
  const eType = ef.indexOf('type')
  const eName = ef.indexOf('name_or_index')
  const eTo = ef.indexOf('to_node')
  const count = s.nodes.length / nw
  const retainer = new Int32Array(count).fill(-1)
  const via = new Int32Array(count).fill(-1)
  let e = 0
  for (let i = 0; i < count; i++) {
    const edges = s.nodes[i * nw + edgeCountAt]
    for (let k = 0; k < edges; k++, e += ew) {
      const t = eTypes[s.edges[e + eType]]
      if (t === 'weak' || t === 'shortcut') continue
      const to = s.edges[e + eTo] / nw
      if (retainer[to] === -1) { retainer[to] = i; via[to] = t === 'element' || t === 'hidden' ? -2 : s.edges[e + eName] }
    }
  }
  const label = (i: number): string => {
    const type = nTypes[s.nodes[i * nw + typeAt]]
    const name = s.strings[s.nodes[i * nw + nameAt]]
    return type === 'object' ? name : type === 'closure' ? `closure ${name}` : type
  }
  const named = (i: number): boolean => {
    const type = nTypes[s.nodes[i * nw + typeAt]]
    return type === 'object' && !GENERIC.has(s.strings[s.nodes[i * nw + nameAt]])
  }
  const out = new Map<string, number>()
  for (let i = 0; i < count; i++) {
    let owner = i
    const path: string[] = []
    for (let d = 0; d < 6 && !named(owner); d++) {
      const r = retainer[owner]
      if (r === -1) break
      path.push(via[owner] >= 0 ? s.strings[via[owner]] : '[]')
      owner = r
    }
    const key = named(owner) ? `${label(owner)} ← ${path.reverse().join('.') || '(itself)'} : ${label(i)}` : `(unowned) ${label(i)}`
    out.set(key, (out.get(key) ?? 0) + s.nodes[i * nw + sizeAt])
  }
  return out
}

const [before, after, unitsArg, rowsArg] = process.argv.slice(2)
if (before === undefined || after === undefined) throw new Error('usage: heap-owners.js before.heapsnapshot after.heapsnapshot [units] [rows]')
const units = Number(unitsArg ?? 1)
const rows = Number(rowsArg ?? 60)
const a = attribute(before)
const b = attribute(after)
const diff: Array<[string, number]> = []
for (const [key, bytes] of b) diff.push([key, (bytes - (a.get(key) ?? 0)) / units])
diff.sort((x, y) => y[1] - x[1])
const byOwner = new Map<string, number>()
for (const [key, bytes] of diff) { const o = key.split(' ← ')[0]; byOwner.set(o, (byOwner.get(o) ?? 0) + bytes) }
process.stdout.write('by owner:\n')
for (const [o, bytes] of [...byOwner].sort((x, y) => y[1] - x[1]).slice(0, 30)) process.stdout.write(`${bytes.toFixed(0).padStart(7)} B  ${o}\n`)
process.stdout.write('\nby owner, path and kind:\n')
for (const [key, bytes] of diff.slice(0, rows)) process.stdout.write(`${bytes.toFixed(0).padStart(7)} B  ${key}\n`)
