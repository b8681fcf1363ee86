import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/** Some tests run the example as a program (`dist/src/main.js`), so they build it first, as `npx tsc -b examples/custom-framing` would. */
export default function setup (): void {
  const root = fileURLToPath(new URL('../../..', import.meta.url))
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-b', 'examples/custom-framing'], { cwd: root, stdio: 'inherit' })
}
