/**
 * @packageDocumentation
 *
 * The @proto demo as a library: `runDemo(options)` starts an echo server, a seeded fault-injecting proxy
 * and a durable client (transport + codec + heartbeat + reconnect, under `@proto/session` unless
 * `session: false`) on loopback, streams messages through the faults, closes everything and returns a
 * summary whose `checks` say which delivery guarantees held: with sessions, every message and echo
 * exactly once and in order; without, at most once with every loss counted. `renderReport(summary)`
 * turns it into a self-contained HTML page with charts.
 *
 * @example
 *
 * ```ts
 * import { formatSummary, renderReport, runDemo } from '@proto/example-demo'
 * import { writeFile } from 'node:fs/promises'
 *
 * const summary = await runDemo({ messages: 5_000, seed: 42 })
 * process.stdout.write(formatSummary(summary))
 * await writeFile('demo-report.html', renderReport(summary))
 * process.exitCode = summary.ok ? 0 : 1
 * ```
 */

export type { CliResult } from './cli.js'
export { HELP, parseCli } from './cli.js'
export type { ConnectionRecord, ConnectionSession, Outage } from './connections.js'
export type { CounterRow } from './counters.js'
export { counterRows } from './counters.js'
export { runDemo } from './demo.js'
export type { Distribution } from './distribution.js'
export type { FormatOptions } from './format-summary.js'
export { formatSummary, outcomeLine } from './format-summary.js'
export type { DemoOptions, Output, Range } from './options.js'
export { DEFAULTS } from './options.js'
export { renderReport } from './report/render.js'
export { defaultReportPath, writeReport } from './report-file.js'
export { DeadlineError } from './run-control.js'
export { RunOverError } from './session-server.js'
export type { ServerSessionReport, SessionLedger, SessionSide, SessionSummary } from './session-summary.js'
export type { Check, DemoSummary, Outcome, RunSettings } from './summary.js'
export { percentile } from './summary.js'
export type { LinkMode, Timeline, TimelineEvent, TimelineSeries } from './timeline.js'
export type { ClientTally } from './traffic.js'
export { InvalidParametersError } from '@proto/interface'
