import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeRun, type Ran, run } from './run.js'
import { catalogRange, readmeSnippets, ROOT } from './workspace.js'

/** One tarball `scripts/pack.mjs` made. */
export interface Packed {
  name: string
  version: string
  /** Absolute path. */
  tarball: string
  /** Its files, as paths inside the package. */
  files: string[]
}

/** A project outside the workspace that installed the packed packages with npm and compiled against them. */
export interface Consumer {
  /** Its directory, in the system's temporary directory. */
  dir: string
  packed: Packed[]
  install: Ran
  /** `tsc -p` of the project (it also emits out/); absent when the install failed. */
  compile?: Ran
  /** Removes the project. */
  remove(): Promise<void>
}

const FIXTURE = join(ROOT, 'test', 'fixtures', 'consumer')
const README = join(ROOT, 'README.md')
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

/** The README's programs, verbatim: the composition's client and server, and the session example. */
export function snippets (): Record<string, string> {
  const [client, server] = readmeSnippets(README, 'Composition', 2)
  const [session] = readmeSnippets(README, 'Delivery guarantees', 1)
  return { 'client.ts': client ?? '', 'server.ts': server ?? '', 'session.ts': session ?? '' }
}

/**
 * Packs every public package (building first), then makes a project in a temporary directory that
 * depends on the tarballs (`file:`) plus the third-party packages the README's snippets use, runs a plain
 * `npm install` (third-party packages come from the npm registry, or npm's cache) and compiles it with the
 * workspace's TypeScript. Each step is bounded in time; their results are returned for the tests to judge.
 */
export async function createConsumer (): Promise<Consumer> {
  const dir = await mkdtemp(join(tmpdir(), 'proto-consumer-'))
  const remove = async (): Promise<void> => { await rm(dir, { recursive: true, force: true }) }
  try {
    const pack = await run(process.execPath, [join(ROOT, 'scripts', 'pack.mjs'), '--out', join(dir, 'tarballs'), '--json'], { cwd: ROOT, timeout: 240_000 })
    if (pack.code !== 0) throw new Error(`expected scripts/pack.mjs to pack the public packages, but it failed\n${describeRun(pack)}`)
    const packed = JSON.parse(pack.stdout) as Packed[]
    const dependencies = Object.fromEntries(packed.map(p => [p.name, `file:tarballs/${p.tarball.split('/').pop() ?? ''}`]))
    const manifest = {
      name: 'proto-consumer',
      private: true,
      type: 'module',
      dependencies: { ...dependencies, 'it-pair': catalogRange('it-pair'), 'it-pipe': catalogRange('it-pipe') },
      devDependencies: { '@types/node': catalogRange('@types/node') }
    }
    await writeFile(join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
    await cp(FIXTURE, dir, { recursive: true })
    for (const [file, code] of Object.entries(snippets())) await writeFile(join(dir, file), code)
    const npmInstall = async (): Promise<Ran> => await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, timeout: 120_000 })
    let install = await npmInstall()
    if (registryUnreachable(install)) install = await npmInstall() // once more: a registry hiccup is not a verdict
    if (install.code !== 0) return { dir, packed, install, remove }
    const compile = await run(process.execPath, [TSC, '-p', dir], { cwd: dir, timeout: 150_000 })
    return { dir, packed, install, compile, remove }
  } catch (err) {
    await remove()
    throw err
  }
}

/** Whether a failed install failed for want of the npm registry (no network, no cached copy). */
export function registryUnreachable (install: Ran): boolean {
  return install.code !== 0 && /E(NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET|TIMEDOUT|NETUNREACH)|network|offline/i.test(install.stderr + install.stdout)
}
