import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { commandTool, pathTool } from '@proto/stage-compliance'

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

/** The system programs the browser and terminal tests need (required in CI, skipped visibly elsewhere). */
export const chromiumTool = pathTool('chromium', CHROMIUM, 'apt-get update && apt-get install -y chromium')
export const tmuxTool = commandTool('tmux', 'tmux', ['-V'], 'apt-get update && apt-get install -y tmux')

/** A running demo process with its output gathered. */
export interface DemoProcess {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/** Starts the demo's command line from source with `args` (and `env` over this process's); stdout and stderr are pipes (not a terminal). */
export function startDemo (args: string[], env: Record<string, string> = {}): DemoProcess {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } })
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
