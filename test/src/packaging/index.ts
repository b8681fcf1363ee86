/**
 * Helpers of the packaging test: a consumer project outside the workspace that installs the packed public
 * packages with npm, the README snippets it compiles and runs, and a bounded command runner.
 */
export type { Consumer, Packed } from './consumer.js'
export { createConsumer, registryUnreachable, snippets } from './consumer.js'
export type { Ran } from './run.js'
export { cleanEnv, describeRun, lastJson, run } from './run.js'
export { catalogRange, readmeSnippets, ROOT } from './workspace.js'
