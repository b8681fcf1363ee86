import { existsSync, readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where reports go by default, relative to the repository root (git-ignored). */
export const DEFAULT_REPORT_DIR = 'examples/demo/reports'

/** This package's directory, found from this file whether it runs from `src/` or `dist/src/`. */
function packageDir (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@proto/example-demo') return dir
    dir = dirname(dir)
  }
  return process.cwd()
}

/** The default report path: `<package>/reports/demo-<local time>-seed<seed>.html`. */
export function defaultReportPath (seed: number, at: Date = new Date()): string {
  const pad = (v: number): string => String(v).padStart(2, '0')
  const stamp = `${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`
  return join(packageDir(), 'reports', `demo-${stamp}-seed${seed}.html`)
}

/** Writes `html` to `path` (creating its directory); returns the absolute path. */
export async function writeReport (path: string, html: string): Promise<string> {
  const absolute = resolve(path)
  await mkdir(dirname(absolute), { recursive: true })
  await writeFile(absolute, html)
  return absolute
}

/** A path as short as it can be said from the current directory. */
export function displayPath (absolute: string): string {
  const rel = relative(process.cwd(), absolute)
  return rel.startsWith('..') || rel === '' ? absolute : rel
}
