import { projectConfig } from '../../vitest.shared.ts'

export default projectConfig('example-custom-framing', { globalSetup: ['./test/global-setup.ts'] })
