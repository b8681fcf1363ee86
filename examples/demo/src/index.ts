/**
 * @packageDocumentation
 *
 * The @proto demo as a library: `runDemo(options)` starts an echo server, a seeded fault-injecting proxy
 * and a durable client (transport + codec + heartbeat + reconnect) on loopback, streams messages through
 * the faults, closes everything and returns a summary whose `checks` say which delivery guarantees held.
 *
 * @example
 *
 * ```ts
 * import { runDemo, formatSummary } from '@proto/example-demo'
 *
 * const summary = await runDemo({ messages: 5_000, seed: 42 })
 * process.stdout.write(formatSummary(summary))
 * process.exitCode = summary.ok ? 0 : 1
 * ```
 */

export type { CliResult } from './cli.js'
export { HELP, parseCli } from './cli.js'
export type { ClientTally } from './demo.js'
export { DeadlineError, runDemo } from './demo.js'
export type { DemoOptions, Output, Range } from './options.js'
export { DEFAULTS, InvalidParametersError } from './options.js'
export type { Check, DemoSummary } from './summary.js'
export { formatSummary, percentile } from './summary.js'
