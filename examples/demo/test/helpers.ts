import type { ChildProcess } from 'node:child_process'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** This package's directory, and the command line that runs the demo from source (no build needed). */
export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')
export const MAIN = join(PACKAGE_DIR, 'src', 'main.ts')
export const NODE_ARGS = ['--conditions=source', '--import', 'tsx', MAIN]

/** Where the browser test leaves its report and screenshots (git-ignored). */
export const ARTIFACTS = join(PACKAGE_DIR, 'test-artifacts')

export function artifactsDir (): string {
  mkdirSync(ARTIFACTS, { recursive: true })
  return ARTIFACTS
}

/** Debian's Chromium, as `apt-get install -y chromium` puts it. */
export const CHROMIUM = '/usr/bin/chromium'

/** Throws a message that says how to install a tool a test needs, instead of skipping the test. */
export function requireTool (name: string, found: boolean): void {
  if (!found) {
    throw new Error(`${name} is not installed; this test needs it. Install it with: apt-get update && apt-get install -y ${name} (.ci/run does this in CI)`)
  }
}

export function hasCommand (command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export const hasChromium = (): boolean => existsSync(CHROMIUM)

/** A running demo process with its output gathered. */
export interface DemoProcess {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/** Starts the demo's command line from source with `args`; stdout and stderr are pipes (not a terminal). */
export function startDemo (args: string[]): DemoProcess {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => { resolve({ code, signal }) })
  })
  return { child, stdout: () => out, stderr: () => err, exited }
}

/** Polls `check` every `every` ms until it returns a value, or fails after `timeout` ms. */
export async function waitFor<T> (what: string, check: () => T | undefined | false, timeout: number, every = 100): Promise<T> {
  const until = Date.now() + timeout
  for (;;) {
    const value = check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > until) throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, every))
  }
}
