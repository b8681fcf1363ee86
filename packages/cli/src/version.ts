import { readFileSync } from 'node:fs'

/** The version of `@proto/cli`, from the nearest `package.json` above this file (in `src/` or `dist/src/`). */
export function cliVersion (): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === '@proto/cli' && typeof pkg.version === 'string') return pkg.version
    } catch {}
  }
  return 'unknown'
}
