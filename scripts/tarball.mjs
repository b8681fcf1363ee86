// Checks one packed tarball: what a user would install from it, not what the workspace holds.
import { execFileSync } from 'node:child_process'
import { basename } from 'node:path'

import { SOURCE_CONDITION } from './manifests.mjs'

const REQUIRED = ['package.json', 'README.md', 'LICENSE']
const NEVER = [/^test\//, /^benchmark\//, /^dist\/(test|benchmark)\//, /\.tsbuildinfo$/, /(^|\/)node_modules\//]
const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']

function targets (value) {
  if (typeof value === 'string') return [value]
  if (value == null || typeof value !== 'object') return []
  return Object.values(value).flatMap(targets)
}

function conditionNames (value) {
  if (value == null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, inner]) => [key, ...conditionNames(inner)])
}

/**
 * Reads the tarball with `tar` and checks it against what the workspace package promised. Throws an error
 * listing every problem; returns the tarball's files (paths inside `package/`).
 */
export function checkTarball (tarball, workspaceManifest) {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean).map(path => path.replace(/^package\//, ''))
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }))
  const has = new Set(files)
  const wrong = []
  if (manifest.name !== workspaceManifest.name || manifest.version !== workspaceManifest.version) wrong.push(`expected ${workspaceManifest.name}@${workspaceManifest.version}, but the manifest says ${manifest.name}@${manifest.version}`)
  if (manifest.private === true) wrong.push('expected a public package, but it is marked private')
  if (conditionNames(manifest.exports).includes(SOURCE_CONDITION)) wrong.push(`expected no "${SOURCE_CONDITION}" export condition (it is for the workspace only), but it is there: is publishConfig.exports missing?`)
  for (const field of DEPENDENCY_FIELDS) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (/^(workspace|catalog|link|file):/.test(String(range))) wrong.push(`expected ${field}.${name} to be a version range, but got "${range}"`)
    }
  }
  for (const path of [...targets(manifest.exports), ...targets(manifest.types), ...targets(manifest.bin)]) {
    if (!has.has(path.replace(/^\.\//, ''))) wrong.push(`expected ${path} (named by its manifest) in the tarball, but it is not there: was it built?`)
  }
  for (const path of REQUIRED) if (!has.has(path)) wrong.push(`expected ${path} in the tarball, but it is not there`)
  for (const path of files) if (NEVER.some(pattern => pattern.test(path))) wrong.push(`expected no ${path} in the tarball (tests, benchmarks and build state stay home): check "files"`)
  if (wrong.length > 0) throw new Error(`${basename(tarball)}:\n  ${wrong.join('\n  ')}`)
  return files
}
