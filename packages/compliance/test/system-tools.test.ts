import { afterEach, describe, expect, it, vi } from 'vitest'
import { canRun, commandTool, pathTool } from '../src/index.js'

describe('tests that need a system program', () => {
  afterEach(() => { vi.unstubAllEnvs(); vi.restoreAllMocks() })

  it('finds programs by command or by path', () => {
    expect(commandTool('node', process.execPath, ['--version'], 'n/a').found).toBe(true)
    expect(commandTool('nothing', '/nonexistent/tool', [], 'n/a').found).toBe(false)
    expect(pathTool('node', process.execPath, 'n/a').found).toBe(true)
  })

  it('outside CI, skips visibly: false, and one notice that says how to install it', () => {
    vi.stubEnv('CI', '')
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const tool = pathTool('frobnicator', '/nonexistent/frobnicator', 'apt-get install -y frobnicator')
    expect(canRun(tool)).toBe(false)
    expect(canRun(tool)).toBe(false)
    expect(write).toHaveBeenCalledTimes(1)
    expect(String(write.mock.calls[0][0])).toContain('frobnicator is not installed; the tests that need it are skipped. Install it with: apt-get install -y frobnicator')
  })

  it('in CI, a missing program fails with the install instructions', () => {
    vi.stubEnv('CI', 'true')
    expect(() => canRun(pathTool('frobnicator', '/nonexistent/frobnicator', 'apt-get install -y frobnicator'))).toThrow(/cannot run\. Install it with: apt-get install -y frobnicator/)
    expect(canRun(pathTool('node', process.execPath, 'n/a'))).toBe(true)
  })
})
