import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs')

/** Runs the suite in `fixtures/<name>` (a stage that breaks the contract) in a process of its own; its output. */
function runFixture (name: string): { status: number | null, output: string } {
  const root = join(here, 'fixtures', name)
  const run = spawnSync(process.execPath, [vitest, 'run', '--root', root, '--config', join(root, 'vitest.config.mjs'), '--reporter', 'verbose'], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }
  })
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

describe('the suite fails a stage that breaks the batch contract', () => {
  it('nextBatch() that holds what has arrived back, waiting for more: that check fails, and only that one', () => {
    const { status, output } = runFixture('held-back')
    expect(status, output).toBe(1)
    expect(output).toMatch(/× .*nextBatch\(\) answers with what has arrived/)
    expect(output).toMatch(/Tests\s+1 failed/)
  })
})
