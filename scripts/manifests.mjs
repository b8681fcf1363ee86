// The packaging fields every workspace package must have, derived from one scheme (docs/packaging.md).
//   node scripts/manifests.mjs         check: list what differs, exit 1 if anything does
//   node scripts/manifests.mjs --fix   write the fields into each package.json (e.g. for a new package)
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

import { ROOT, workspacePackages } from './workspace.mjs'

const KEY_ORDER = ['name', 'version', 'private', 'description', 'keywords', 'license', 'homepage', 'bugs', 'repository',
  'type', 'sideEffects', 'bin', 'files', 'exports', 'types', 'publishConfig', 'scripts', 'dependencies',
  'devDependencies', 'peerDependencies', 'peerDependenciesMeta', 'optionalDependencies', 'engines']

/** The workspace-only condition that points tests and tools at `src/`; never shipped. */
export const SOURCE_CONDITION = 'source'

/** Builds before packing, so a tarball always holds a fresh `dist/`. */
export const BUILD_BEFORE_PACK = 'tsc -b'

function ordered (obj, order) {
  const keys = [...order.filter(key => key in obj), ...Object.keys(obj).filter(key => !order.includes(key))]
  return Object.fromEntries(keys.map(key => [key, obj[key]]))
}

/** `{ source, types, import }` → `{ source, types, module-sync, import, default }`, all three JS keys on one file. */
function exportEntry (entry, where) {
  if (typeof entry === 'string' || entry == null) throw new Error(`${where}: expected a conditions object with types and import, but got ${JSON.stringify(entry)}`)
  const target = entry.import ?? entry.default ?? entry['module-sync']
  if (typeof entry.types !== 'string' || typeof target !== 'string') {
    throw new Error(`${where}: expected "types" and "import" conditions, but got ${JSON.stringify(entry)}; add them by hand, then run --fix`)
  }
  const { [SOURCE_CONDITION]: source, types, 'module-sync': _sync, import: _import, default: _default, ...rest } = entry
  return { ...(source === undefined ? {} : { [SOURCE_CONDITION]: source }), types, ...rest, 'module-sync': target, import: target, default: target }
}

/** A copy of an `exports` map with the `source` condition removed everywhere. */
export function withoutSource (value) {
  if (value == null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== SOURCE_CONDITION).map(([key, v]) => [key, withoutSource(v)]))
}

function repositoryUrls (root) {
  const url = root.repository?.url
  if (typeof url !== 'string') throw new Error('expected repository.url in the root package.json, but found none')
  return { url, web: url.replace(/^git\+/, '').replace(/\.git$/, '') }
}

/** The manifest `pkg` should have: its own fields, with the packaging fields set by the scheme. */
export function expectedManifest ({ manifest, rel }, root) {
  const name = manifest.name
  const scripts = { ...manifest.scripts }
  if (manifest.private === true) {
    scripts.prepack = `node -e "console.error('${name} is private to this workspace: it is never packed or published (npm run pack packs the public packages)'); process.exit(1)"`
    return ordered({ ...manifest, scripts: ordered(scripts, ['build', 'prepack']) }, KEY_ORDER)
  }
  const { url, web } = repositoryUrls(root)
  const exports = Object.fromEntries(Object.entries(manifest.exports ?? {}).map(([path, entry]) => [path, exportEntry(entry, `${name} exports["${path}"]`)]))
  if (exports['.'] === undefined) throw new Error(`${name}: expected an exports["."] entry, but found none`)
  if (!Array.isArray(manifest.files) || !manifest.files.includes('dist/src')) throw new Error(`${name}: expected "files" to list "dist/src", but got ${JSON.stringify(manifest.files)}`)
  if (typeof manifest.engines?.node !== 'string') throw new Error(`${name}: expected engines.node, but found none`)
  scripts.prepack = BUILD_BEFORE_PACK
  return ordered({
    ...manifest,
    homepage: `${web}/tree/main/${rel}#readme`,
    bugs: { url: `${web}/issues` },
    repository: { type: 'git', url, directory: rel },
    type: 'module',
    exports,
    types: exports['.'].types,
    publishConfig: { ...manifest.publishConfig, exports: withoutSource(exports) },
    scripts: ordered(scripts, ['build', 'prepack'])
  }, KEY_ORDER)
}

function differences (actual, expected, path = '') {
  if (JSON.stringify(actual) === JSON.stringify(expected)) return []
  if (actual == null || expected == null || typeof actual !== 'object' || typeof expected !== 'object' || Array.isArray(expected)) {
    return [`${path || '(root)'}: expected ${JSON.stringify(expected)}, but got ${JSON.stringify(actual)}`]
  }
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])]
  const inner = keys.flatMap(key => differences(actual[key], expected[key], `${path}${/^[a-z][\w-]*$/i.test(key) ? (path === '' ? key : `.${key}`) : `[${JSON.stringify(key)}]`}`))
  return inner.length > 0 ? inner : [`${path || '(root)'}: expected the keys in the order ${Object.keys(expected).join(', ')}`]
}

/** The package and every workspace package it depends on, directly or not: what a user installs with it. */
function closure (pkg, byName, seen = new Set()) {
  if (seen.has(pkg.manifest.name)) return seen
  seen.add(pkg.manifest.name)
  for (const dep of Object.keys(pkg.manifest.dependencies ?? {})) if (byName.has(dep)) closure(byName.get(dep), byName, seen)
  return seen
}

/** The tarballs the `## Install` section of a package's README (its text) tells users to install, as `proto-codec`. */
function readmeInstalls (readme) {
  const section = /^## Install[^\n]*\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1]
  if (section == null) return undefined
  return new Set([...section.matchAll(/packs\/([\w.-]+?)-\*\.tgz/g)].map(match => match[1]))
}

/** The @proto packages a README's opening example imports (its code before `## Install`). */
function exampleImports (readme) {
  const opening = readme.split(/^## Install/m)[0]
  const code = [...opening.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map(match => match[1]).join('\n')
  return new Set([...code.matchAll(/from '(@proto\/[\w.-]+)'/g)].map(match => match[1]))
}

/** What the scheme cannot fill in by itself: keywords, and the README's install command. */
export function problems (pkg, byName = new Map()) {
  const { manifest, dir } = pkg
  if (manifest.private === true) return []
  const found = []
  if (!Array.isArray(manifest.keywords) || manifest.keywords.length === 0) found.push('keywords: expected a non-empty list, for the registry\'s search; add them by hand')
  // the package and the @proto packages it depends on, and those its opening example imports (with theirs)
  const readme = existsSync(join(dir, 'README.md')) ? readFileSync(join(dir, 'README.md'), 'utf8') : ''
  const names = closure(pkg, byName)
  for (const name of exampleImports(readme)) if (byName.has(name)) closure(byName.get(name), byName, names)
  const expected = [...names].map(name => name.replace(/^@/, '').replace('/', '-')).sort()
  const installs = readmeInstalls(readme)
  if (installs == null) found.push(`README.md: expected an "## Install" section that installs ${expected.map(t => `packs/${t}-*.tgz`).join(' ')}, but found none`)
  else if ([...installs].sort().join() !== expected.join()) {
    found.push(`README.md: expected "## Install" to install ${expected.map(t => `packs/${t}-*.tgz`).join(' ')} (the package, the @proto packages it depends on and those its opening example imports), but it names ${[...installs].map(t => `packs/${t}-*.tgz`).join(' ') || 'none'}`)
  }
  return found
}

/** Every way a package.json departs from the scheme, as `name: field: what`; empty when all follow it. */
export function manifestProblems () {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  const packages = workspacePackages()
  const byName = new Map(packages.map(pkg => [pkg.manifest.name, pkg]))
  return packages.flatMap(pkg => [...differences(pkg.manifest, expectedManifest(pkg, root)), ...problems(pkg, byName)]
    .map(line => `${pkg.manifest.name}: ${line}`))
}

function fixManifests () {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  for (const pkg of workspacePackages()) {
    const expected = expectedManifest(pkg, root)
    if (differences(pkg.manifest, expected).length === 0) continue
    writeFileSync(join(pkg.dir, 'package.json'), JSON.stringify(expected, null, 2) + '\n')
    console.log(`manifests: ${pkg.rel}/package.json updated`)
  }
}

function main () {
  if (process.argv.includes('--fix')) fixManifests()
  const wrong = manifestProblems()
  for (const line of wrong) console.error(line)
  if (wrong.length > 0) console.error('manifests: the package.json files above depart from the packaging scheme; run node scripts/manifests.mjs --fix, then add by hand what it cannot fill in (docs/packaging.md)')
  else console.log('manifests: every package.json follows the packaging scheme')
  process.exit(wrong.length === 0 ? 0 : 1)
}

if (process.argv[1] != null && import.meta.url === pathToFileURL(process.argv[1]).href) main()
