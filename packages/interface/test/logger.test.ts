import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createLogger, DEBUG_ENV, protoDebugNamespaces, setLoggerFactory } from '../src/index.js'

// Node 20 cannot load TypeScript, so the module under test is transpiled next to the package (where
// `debug` resolves) and loaded by a fresh process, whose environment is read at start like any user's.
const cache = fileURLToPath(new URL('../node_modules/.cache/', import.meta.url))
const loggerModule = `${cache}logger-${process.pid}.mjs`

beforeAll(() => {
  const source = readFileSync(fileURLToPath(new URL('../src/logger.ts', import.meta.url)), 'utf8')
  mkdirSync(cache, { recursive: true })
  writeFileSync(loggerModule, ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText)
})

/** Runs a fresh Node process that logs through the real module with `env`, and returns its stderr. */
function logIn (env: Record<string, string>): string {
  const script = `
    import { createLogger } from ${JSON.stringify(loggerModule)}
    createLogger('transport').debug('connected %d', 1)
    createLogger('codec').debug('decoded %s', 'frame')
    createLogger('heartbeat').error('boom')
  `
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8'
  })
  return run.stderr
}

describe('logging', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
    setLoggerFactory(undefined)
  })

  it('is silent unless DEBUG or PROTO_DEBUG asks', () => {
    expect(logIn({})).toBe('')
  })

  it('follows DEBUG namespaces and wildcards: DEBUG=proto:* prints every component, timestamped', () => {
    const out = logIn({ DEBUG: 'proto:*' })
    const lines = out.trim().split('\n')
    expect(lines).toHaveLength(3)
    // not a TTY: each line starts with an ISO timestamp, then the namespace
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z proto:transport connected 1$/)
    expect(lines[1]).toMatch(/Z proto:codec decoded frame$/)
    expect(lines[2]).toMatch(/Z proto:heartbeat ERROR boom$/)
  })

  it('honours exclusions and single components', () => {
    const out = logIn({ DEBUG: 'proto:*,-proto:codec' })
    expect(out).toContain('proto:transport connected 1')
    expect(out).not.toContain('proto:codec')
    const only = logIn({ DEBUG: 'proto:transport' })
    expect(only).toContain('proto:transport connected 1')
    expect(only).not.toContain('heartbeat')
  })

  it('takes PROTO_DEBUG as an alias scoped to @proto: `*`, bare component names, exclusions', () => {
    expect(logIn({ PROTO_DEBUG: '*' }).trim().split('\n')).toHaveLength(3)
    const some = logIn({ PROTO_DEBUG: 'transport, heartbeat' })
    expect(some).toContain('proto:transport connected 1')
    expect(some).toContain('proto:heartbeat ERROR boom')
    expect(some).not.toContain('proto:codec')
    expect(protoDebugNamespaces('*,-codec proto:transport')).toBe('proto:*,-proto:codec,proto:transport')
  })

  it('sees a PROTO_DEBUG change at the next createLogger()', () => {
    vi.stubEnv(DEBUG_ENV, 'reconnect')
    expect(createLogger('reconnect').enabled).toBe(true)
    expect(createLogger('codec').enabled).toBe(false)
    vi.stubEnv(DEBUG_ENV, '')
    expect(createLogger('reconnect').enabled).toBe(false)
  })

  it('hands out one shared logger per component (nothing allocated per connection)', () => {
    expect(createLogger('transport')).toBe(createLogger('transport'))
  })

  it('can be replaced by the user\'s logger factory', () => {
    const seen: string[] = []
    setLoggerFactory(component => ({ enabled: true, debug: (m) => { seen.push(`${component}: ${m}`) }, error: () => {} }))
    createLogger('reconnect').debug('dialling')
    expect(seen).toEqual(['reconnect: dialling'])
    setLoggerFactory(undefined)
    expect(createLogger('reconnect').enabled).toBe(false)
  })
})
