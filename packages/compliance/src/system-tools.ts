import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** A program from the operating system's packages that some tests need (Chromium, tmux, redis-server …). */
export interface SystemTool {
  /** Its name, as shown to people. */
  name: string
  /** Whether it is installed here. */
  found: boolean
  /** How to install it, e.g. `apt-get install -y chromium`. */
  install: string
}

/** A tool found by running `command args` successfully (e.g. `tmux -V`). */
export function commandTool (name: string, command: string, args: string[], install: string): SystemTool {
  let found = false
  try {
    execFileSync(command, args, { stdio: 'ignore' })
    found = true
  } catch {}
  return { name, found, install }
}

/** A tool found by the path of its executable (e.g. `/usr/bin/chromium`). */
export function pathTool (name: string, path: string, install: string): SystemTool {
  return { name, found: existsSync(path), install }
}

const noticed = new Set<string>()

/**
 * Whether the tests that need `tool` can run. In CI (`CI` set) the tool is required: a missing one fails
 * the test file at once with instructions (`.ci/run` installs them). Elsewhere, so that `npm test` works on a
 * fresh clone with only Node and npm, those tests are skipped — visibly: the skip shows in the test summary and
 * a notice on stderr names the tool and how to install it. Use as `it.runIf(canRun(tool))(…)`.
 */
export function canRun (tool: SystemTool): boolean {
  if (tool.found) return true
  const message = `${tool.name} is not installed; the tests that need it ${process.env.CI != null && process.env.CI !== '' ? 'cannot run' : 'are skipped'}. Install it with: ${tool.install} (.ci/run does this in CI)`
  if (process.env.CI != null && process.env.CI !== '') throw new Error(message)
  if (!noticed.has(tool.name)) {
    noticed.add(tool.name)
    process.stderr.write(`\n⚠ ${message}\n`)
  }
  return false
}
