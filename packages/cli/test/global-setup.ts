import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/**
 * The tests run the real `proto` executable as a subprocess, so they build it first (and the packages it
 * imports), exactly as `npx tsc -b packages/cli` would; on an up-to-date tree this takes a moment.
 */
export default function setup (): void {
  const root = fileURLToPath(new URL('../../..', import.meta.url))
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-b', 'packages/cli'], { cwd: root, stdio: 'inherit' })
}
