// The workspace's packages, as pnpm-workspace.yaml lists them: shared by the packaging scripts.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

/** The pinned pnpm, run through npx as everywhere else in this repository. */
export const PNPM = ['-y', 'pnpm@12.4.2']

/**
 * The `packages:` globs of pnpm-workspace.yaml. Only the two shapes used here are understood, a folder
 * (`test`) and a folder's children (`packages/*`); anything else is an error, not a silent miss.
 */
function workspaceGlobs () {
  const yaml = readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8')
  const block = /^packages:\n((?:[ \t]+-.*\n?)+)/m.exec(yaml)
  if (block == null) throw new Error('expected a packages: list in pnpm-workspace.yaml, but found none')
  return block[1].split('\n').map(line => line.replace(/^\s*-\s*/, '').replace(/^['"]|['"]$/g, '').trim()).filter(Boolean)
}

function expand (glob) {
  if (/[*?[\]{}!]/.test(glob.replace(/\/\*$/, ''))) {
    throw new Error(`expected workspace globs of the form "dir" or "dir/*", but got "${glob}": teach scripts/workspace.mjs this form`)
  }
  if (!glob.endsWith('/*')) return [join(ROOT, glob)]
  const base = join(ROOT, glob.slice(0, -2))
  return existsSync(base) ? readdirSync(base).sort().map(name => join(base, name)) : []
}

/**
 * @typedef {object} WorkspacePackage
 * @property {string} dir absolute path
 * @property {string} rel path from the repository root, with forward slashes
 * @property {Record<string, any>} manifest its package.json
 */

/** @returns {WorkspacePackage[]} every workspace package, in pnpm-workspace.yaml order */
export function workspacePackages () {
  return workspaceGlobs().flatMap(expand)
    .filter(dir => existsSync(join(dir, 'package.json')))
    .map(dir => ({
      dir,
      rel: relative(ROOT, dir).split('\\').join('/'),
      manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    }))
}

/** @returns {WorkspacePackage[]} the packages meant for users: every workspace package not marked `private` */
export function publicPackages () {
  return workspacePackages().filter(pkg => pkg.manifest.private !== true)
}

/** The tarball name npm and pnpm give a package: `@proto/codec@0.1.0` → `proto-codec-0.1.0.tgz`. */
export function tarballName (manifest) {
  return `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`
}
