// Checks, after `tsc -b`, that every path named by a workspace package's `exports`, `types`, `bin` and
// `publishConfig.exports` (what its tarball's manifest will say) exists.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dirs = ['packages', 'examples'].flatMap(group => {
  const base = join(root, group)
  return existsSync(base) ? readdirSync(base).map(name => join(base, name)) : []
}).concat([join(root, 'test')]).filter(dir => existsSync(join(dir, 'package.json')))

function paths (value) {
  if (typeof value === 'string') return [value]
  if (value == null || typeof value !== 'object') return []
  return Object.values(value).flatMap(paths)
}

let missing = 0
let checked = 0
for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  for (const p of [...paths(pkg.exports), ...paths(pkg.types), ...paths(pkg.bin), ...paths(pkg.publishConfig?.exports)]) {
    checked++
    if (!existsSync(join(dir, p))) {
      missing++
      console.error(`${pkg.name}: ${p} does not exist`)
    }
  }
}
console.log(`check-exports: ${checked} paths checked, ${missing} missing`)
process.exit(missing === 0 ? 0 : 1)
