// Packs every public package (scripts/pack.mjs), then lints each tarball as the registry would serve it
// (scripts/lint-tarballs.mjs): publint in strict mode (the manifest, exports and files; every warning is an
// error) and Are the Types Wrong? (types as TypeScript resolves them: node10, node16 from CJS and from ESM,
// bundler). `npm run lint:packages`. Both tools come through npx at pinned versions, outside the lockfile: as
// workspace dependencies they would pull supports-color into the graph and change how `debug` resolves for
// every package.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

import { pack } from './pack.mjs'
import { ROOT } from './workspace.mjs'

export const PUBLINT = 'publint@0.3.25'
export const ATTW = '@arethetypeswrong/core@0.18.5'

/**
 * attw's one problem left out: `CJSResolvesToESM` (the CLI's `cjs-resolves-to-esm`). The packages are ESM
 * only; `require()` of them works through Node's require(esm) (20.19+, 22.12+; the `module-sync` condition)
 * and TypeScript ≥ 5.8 types it under `module: nodenext`, but attw resolves with TypeScript 5.6, which
 * predates both. The packaging test checks that case for real: a CJS script and a `.cts` file in a project
 * outside the workspace.
 */
export const ATTW_IGNORED = ['CJSResolvesToESM']

const packed = pack()
try {
  execFileSync('npx', ['-y', '-p', PUBLINT, '-p', ATTW, '--', 'node', join(ROOT, 'scripts', 'lint-tarballs.mjs'), ATTW_IGNORED.join(','), ...packed.map(p => p.tarball)], {
    stdio: 'inherit', env: { ...process.env, npm_config_prefer_offline: 'true' }
  })
} catch {
  process.exit(1)
}
