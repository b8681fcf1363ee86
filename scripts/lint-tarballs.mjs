// Lints the tarballs named as arguments with publint and attw's core, in one process (loading attw's
// TypeScript once, not once per package). Run by scripts/lint-packages.mjs under
// `npx -p publint@… -p @arethetypeswrong/core@…`, which puts both in a node_modules whose .bin is on PATH.
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, delimiter, dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [ignoredRules, ...tarballs] = process.argv.slice(2)
const ignored = new Set(ignoredRules.split(',').filter(Boolean))

const bin = (process.env.PATH ?? '').split(delimiter)
  .find(dir => ['publint', '@arethetypeswrong/core'].every(name => existsSync(join(dirname(dir), name, 'package.json'))))
if (bin == null) throw new Error('expected publint and @arethetypeswrong/core on PATH (run through scripts/lint-packages.mjs), but found neither')
const require = createRequire(join(dirname(bin), 'lint-tarballs.cjs'))
const load = async name => await import(pathToFileURL(require.resolve(name)).href)
const { publint } = await load('publint')
const { formatMessage } = await load('publint/utils')
const { checkPackage, createPackageFromTarballData } = await load('@arethetypeswrong/core')
const { problemKindInfo } = await load('@arethetypeswrong/core/problems')

async function lintPublint (data) {
  const { messages, pkg } = await publint({ pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) }, strict: true, level: 'suggestion' })
  return messages.map(message => `publint ${message.type}: ${formatMessage(message, pkg, { color: false }) ?? message.code}`)
}

async function lintTypes (data) {
  const result = await checkPackage(createPackageFromTarballData(data))
  if (result.types === false) return ['attw: the package ships no types']
  return result.problems.filter(problem => !ignored.has(problem.kind))
    .map(problem => `attw ${problem.kind}: ${problemKindInfo[problem.kind].description} (${[problem.entrypoint, problem.resolutionKind].filter(Boolean).join(', ')}; ${problemKindInfo[problem.kind].docsUrl})`)
}

let failed = 0
for (const tarball of tarballs) {
  const data = new Uint8Array(readFileSync(tarball))
  const found = [...await lintPublint(data), ...await lintTypes(data)]
  if (found.length > 0) failed++
  console.log(`lint:packages: ${basename(tarball)} ${found.length === 0 ? 'clean (publint, attw)' : 'has problems:'}`)
  for (const line of found) console.log(`  ${line}`)
}
console.log(`lint:packages: ${tarballs.length - failed} of ${tarballs.length} tarballs clean`)
process.exit(failed === 0 ? 0 : 1)
