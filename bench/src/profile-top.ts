/**
 * Self time by function in a V8 CPU profile (`--cpu-prof`, or the scale server's `BENCH_WINDOW_PROFILE`),
 * grouped by function and file, largest first:
 *
 *   node bench/dist/src/profile-top.js file.cpuprofile [rows] [--by=file]
 */
import { readFileSync } from 'node:fs'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

const args = process.argv.slice(2)
const byFile = args.includes('--by=file')
const [file, rowsArg] = args.filter(a => !a.startsWith('--'))
if (file === undefined) throw new Error('usage: profile-top.js file.cpuprofile [rows] [--by=file]')
const rows = Number(rowsArg ?? 40)
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(p.nodes.map(n => [n.id, n]))
const self = new Map<number, number>()
for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0))
const groups = new Map<string, number>()
let total = 0
for (const [id, us] of self) {
  const f = byId.get(id)?.callFrame
  if (f === undefined) continue
  const short = f.url.replace(/^.*\/(packages|bench|node_modules)\//, '$1/').replace(/^file:\/\//, '')
  const key = byFile ? (short === '' ? `(${f.functionName || 'native'})` : short) : `${f.functionName || '(anonymous)'} ${short}${short === '' ? '' : `:${f.lineNumber + 1}`}`
  groups.set(key, (groups.get(key) ?? 0) + us)
  total += us
}
const sorted = [...groups].sort((a, b) => b[1] - a[1])
process.stdout.write(`total ${(total / 1000).toFixed(0)} ms sampled\n`)
for (const [key, us] of sorted.slice(0, rows)) process.stdout.write(`${(100 * us / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(1).padStart(8)} ms  ${key}\n`)
