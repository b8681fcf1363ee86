import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { canRun, commandTool } from '@proto/stage-compliance'
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest'
import { type Consumer, createConsumer, describeRun, lastJson, registryUnreachable, ROOT, run } from '../src/packaging/index.js'

// Needs the npm registry (or npm's cache) for the third-party packages: it-pipe, it-pair, debug,
// uint8arraylist, @types/node … Without either, outside CI, the tests are skipped with a notice.

/**
 * The README's snippets listen on port 7000 of 0.0.0.0 as written: they run in network and PID namespaces
 * of their own, so the port is theirs alone, and every process in there dies with the namespace's first one,
 * which dies with `unshare` (--kill-child) if the test has to kill it.
 */
const UNSHARE = ['--net', '--pid', '--fork', '--kill-child', '--map-root-user']
const NETNS = commandTool('unshare and ip (private network namespaces)', 'unshare', [...UNSHARE, 'ip', 'link', 'set', 'lo', 'up'], 'apt-get install -y util-linux iproute2')

interface Program { code: number | null, signal: string | null, stdout: string, stderr: string, killed: boolean }
interface RequireResult { requireModule: boolean, packages: Record<string, { required?: string[], imported?: string[], error?: { code: string, message: string } }> }

function workspaceManifests (): { name: string, private?: boolean, exports?: unknown }[] {
  const dirs = ['packages', 'examples'].flatMap(group => readdirSync(join(ROOT, group)).map(name => join(ROOT, group, name))).concat([join(ROOT, 'test'), join(ROOT, 'bench')])
  return dirs.filter(dir => existsSync(join(dir, 'package.json'))).map(dir => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string, private?: boolean })
}

describe('the public packages, packed, installed with npm in a project outside the workspace', () => {
  let consumer: Consumer | undefined
  let offline = false

  beforeAll(async () => {
    consumer = await createConsumer()
    offline = registryUnreachable(consumer.install)
    if (offline && process.env.CI != null && process.env.CI !== '') throw new Error(`expected the npm registry to be reachable in CI\n${describeRun(consumer.install)}`)
    if (offline) process.stderr.write('\n⚠ npm could not reach the registry (nor find the packages in its cache): the packaging tests are skipped\n')
  }, 700_000)

  afterAll(async () => { await consumer?.remove() })

  /** The consumer project, installed; skips the test when the registry was out of reach (outside CI). */
  function installed (ctx: TestContext): Consumer {
    if (offline) ctx.skip()
    if (consumer == null) throw new Error('expected the consumer project to exist')
    expect(consumer.install.code, describeRun(consumer.install)).toBe(0)
    return consumer
  }

  it('packs every public package and no private one, built, without the workspace-only source condition', async () => {
    if (consumer == null) throw new Error('expected the consumer project to exist')
    const manifests = workspaceManifests()
    expect(consumer.packed.map(p => p.name).sort()).toEqual(manifests.filter(m => m.private !== true).map(m => m.name).sort())
    for (const packed of consumer.packed) {
      expect(packed.files, packed.name).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/src/index.js', 'dist/src/index.d.ts']))
      expect(packed.files.filter(file => /^(test|benchmark|dist\/test|dist\/benchmark)\//.test(file)), packed.name).toEqual([])
    }
    // the workspace resolves src/ through "source"; the installed packages must not (see the type check below)
    const codec = manifests.find(m => m.name === '@proto/codec')
    expect(JSON.stringify(codec?.exports)).toContain('"source"')
    const installedCodec = JSON.parse(readFileSync(join(consumer.dir, 'node_modules', '@proto', 'codec', 'package.json'), 'utf8')) as { exports: unknown }
    expect(JSON.stringify(installedCodec.exports)).not.toContain('"source"')
    // a private package refuses to be packed at all
    const out = await mkdtemp(join(tmpdir(), 'proto-private-pack-'))
    try {
      const refused = await run('npx', ['-y', 'pnpm@12.4.2', '-C', join(ROOT, 'packages', 'compliance'), 'pack', '--pack-destination', out], { cwd: ROOT, timeout: 60_000 })
      expect(refused.code, describeRun(refused)).not.toBe(0)
      expect(refused.stdout + refused.stderr).toContain('@proto/stage-compliance is private')
      expect(readdirSync(out)).toEqual([])
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  }, 90_000)

  it('installs every @proto package from its tarball, none from the registry', (ctx) => {
    const { dir, packed } = installed(ctx)
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string, version?: string }> }
    const proto = Object.entries(lock.packages).filter(([path]) => path.includes('node_modules/@proto/'))
    expect(proto.map(([path]) => path.replace(/^.*node_modules\//, '')).sort()).toEqual(packed.map(p => p.name).sort())
    for (const [path, entry] of proto) expect(entry.resolved, path).toMatch(/^file:tarballs\/proto-.*\.tgz$/)
  })

  it('type-checks the README snippets and a consumer\'s own files: strict, nodenext, noUncheckedIndexedAccess, the "source" condition on', (ctx) => {
    const { compile } = installed(ctx)
    expect(compile?.code, compile == null ? 'not compiled' : describeRun(compile)).toBe(0)
  })

  it.runIf(canRun(NETNS))('runs the README client and server as written: every message echoed in order, both exit by themselves', async (ctx) => {
    const { dir } = installed(ctx)
    const ran = await run('unshare', [...UNSHARE, 'sh', '-c', 'ip link set lo up && exec node run-snippets.mjs'], { cwd: dir, timeout: 90_000 })
    expect(ran.code, describeRun(ran)).toBe(0)
    const { client, server, session } = lastJson<Record<'client' | 'server' | 'session', Program>>(ran)
    expect(client, JSON.stringify(client)).toMatchObject({ code: 0, killed: false, stdout: '{"received":100}\n' })
    expect(server, JSON.stringify(server)).toMatchObject({ code: 0, killed: false })
    expect(session, JSON.stringify(session)).toMatchObject({ code: 0, killed: false, stdout: '{"received":100}\n' })
  }, 120_000)

  it('loads every package with require() from CommonJS, with the exports import() gives', async (ctx) => {
    const { dir, packed } = installed(ctx)
    const ran = await run(process.execPath, ['require.cjs', ...packed.map(p => p.name)], { cwd: dir, timeout: 60_000 })
    const result = lastJson<RequireResult>(ran)
    expect(result.requireModule).toBe(true)
    for (const { name } of packed) {
      const loaded = result.packages[name]
      expect(loaded?.error, name).toBeUndefined()
      expect(loaded?.required?.length, name).toBeGreaterThan(0)
      expect(loaded?.required, name).toEqual(loaded?.imported)
    }
  }, 90_000)

  it.runIf(process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module'))('without require(esm), require() says the package is ESM (ERR_REQUIRE_ESM), not that it has no exports', async (ctx) => {
    const { dir } = installed(ctx)
    const ran = await run(process.execPath, ['--no-experimental-require-module', 'require.cjs', '@proto/codec'], { cwd: dir, timeout: 60_000 })
    const result = lastJson<RequireResult>(ran)
    expect(result.requireModule).toBe(false)
    expect(result.packages['@proto/codec']?.error?.code).toBe('ERR_REQUIRE_ESM')
  }, 90_000)

  it('runs a CommonJS TypeScript file that imports the packages with import = require()', async (ctx) => {
    const { dir } = installed(ctx)
    const ran = await run(process.execPath, ['out/require-types.cjs'], { cwd: dir, timeout: 60_000 })
    expect(lastJson(ran)).toEqual({ frameType: 0, connect: 'function' })
  }, 90_000)

  it('runs the codec over it-pair\'s duplexPair<ByteChunk>(): a 100 kB frame and an application frame echoed whole', async (ctx) => {
    const { dir } = installed(ctx)
    const ran = await run(process.execPath, ['out/byte-duplex.js'], { cwd: dir, timeout: 60_000 })
    expect(lastJson(ran)).toEqual([{ type: 0, length: 100_000, same: true }, { type: 0x80, length: 3 }])
  }, 90_000)

  it('installs the proto command', async (ctx) => {
    const { dir } = installed(ctx)
    const ran = await run(join(dir, 'node_modules', '.bin', 'proto'), ['--version'], { cwd: dir, timeout: 60_000 })
    expect(ran.code, describeRun(ran)).toBe(0)
    const cli = JSON.parse(readFileSync(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as { version: string }
    expect(ran.stdout.trim()).toBe(cli.version)
  }, 90_000)
})
