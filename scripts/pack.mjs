// Packs every public package into tarballs that install outside this repository (docs/packaging.md).
//   npm run pack                        → packs/<name>-<version>.tgz, one per public package
//   node scripts/pack.mjs --out DIR     → into DIR instead
//   node scripts/pack.mjs --json        → also prints [{ name, version, tarball, files }] on stdout
// Checks the manifests first, builds (tsc -b), removes build outputs whose source is gone, packs with pnpm
// (which turns workspace:/catalog: ranges into versions and applies publishConfig), then checks each tarball.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

import { manifestProblems } from './manifests.mjs'
import { checkTarball } from './tarball.mjs'
import { PNPM, publicPackages, ROOT, tarballName } from './workspace.mjs'

/** Where `npm run pack` puts the tarballs (ignored by git). */
export const DEFAULT_OUT = join(ROOT, 'packs')

const OUTPUTS = /(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$/

/** Deletes what `tsc -b` left in `dist/src` for sources that no longer exist: it never removes outputs itself. */
function removeStaleOutputs (pkg, log) {
  const walk = dir => readdirSync(dir, { withFileTypes: true }).flatMap(entry => entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)])
  const dist = join(pkg.dir, 'dist', 'src')
  if (!existsSync(dist)) return
  for (const file of walk(dist)) {
    const match = OUTPUTS.exec(file)
    if (match == null) continue
    const source = join(pkg.dir, 'src', relative(dist, file).slice(0, -match[1].length) + '.ts')
    if (existsSync(source)) continue
    rmSync(file)
    log(`pack: removed ${relative(ROOT, file)} (its source is gone)`)
  }
}

/**
 * @param {{ out?: string, log?: (line: string) => void }} [options]
 * @returns {{ name: string, version: string, tarball: string, files: string[] }[]}
 */
export function pack ({ out = DEFAULT_OUT, log = line => console.error(line) } = {}) {
  const wrong = manifestProblems()
  if (wrong.length > 0) throw new Error(`expected every package.json to follow the packaging scheme, but:\n${wrong.join('\n')}\nrun node scripts/manifests.mjs --fix (docs/packaging.md)`)
  const packages = publicPackages()
  log(`pack: building ${packages.map(pkg => pkg.rel).join(', ')}`)
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', ...packages.map(pkg => pkg.dir)], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] })
  for (const pkg of packages) removeStaleOutputs(pkg, log)
  mkdirSync(out, { recursive: true })
  // packs/ is ours: no tarball of an older version stays there to match an install command's proto-codec-*.tgz
  const stale = out === DEFAULT_OUT ? readdirSync(out).filter(file => file.endsWith('.tgz')) : packages.map(pkg => tarballName(pkg.manifest))
  for (const file of stale) rmSync(join(out, file), { force: true })
  const filters = packages.flatMap(pkg => ['--filter', `./${pkg.rel}`])
  // prepack (tsc -b) runs again in each package: a no-op after the build above, kept so that a lone
  // `pnpm pack` in a package directory builds too
  execFileSync('npx', [...PNPM, '-r', ...filters, 'pack', '--pack-destination', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  return packages.map(pkg => {
    const tarball = join(out, tarballName(pkg.manifest))
    const files = checkTarball(tarball, pkg.manifest)
    log(`pack: ${relative(process.cwd(), tarball)} (${files.length} files)`)
    return { name: pkg.manifest.name, version: pkg.manifest.version, tarball, files }
  })
}

function main () {
  const args = process.argv.slice(2)
  const at = args.indexOf('--out')
  const out = at >= 0 ? args[at + 1] : undefined
  if (at >= 0 && (out == null || out.startsWith('--'))) throw new Error('expected a directory after --out, but got none')
  const packed = pack(out == null ? {} : { out: isAbsolute(out) ? out : resolve(out) })
  if (args.includes('--json')) console.log(JSON.stringify(packed, null, 2))
}

if (process.argv[1] != null && import.meta.url === pathToFileURL(process.argv[1]).href) main()
