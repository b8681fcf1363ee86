import { defineProject } from 'vitest/config'
import type { ViteUserConfig } from 'vitest/config'

/**
 * Vitest settings shared by every workspace package: tests run against `src/` through the `source`
 * export condition, so no build is needed first.
 */
export function projectConfig (name: string, overrides: ViteUserConfig['test'] = {}): ViteUserConfig {
  return defineProject({
    resolve: { conditions: ['source', 'import', 'module', 'node', 'default'] },
    ssr: { resolve: { conditions: ['source', 'import', 'module', 'node', 'default'], externalConditions: ['source'] } },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      ...overrides
    }
  })
}
