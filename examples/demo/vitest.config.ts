import { projectConfig } from '../../vitest.shared.ts'

export default projectConfig('example-demo', { testTimeout: 60_000 })
