import { projectConfig } from '../../vitest.shared.ts'

export default projectConfig('cli', { globalSetup: ['./test/global-setup.ts'] })
