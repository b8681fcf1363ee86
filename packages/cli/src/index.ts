/**
 * @packageDocumentation
 *
 * The `proto` command: talk to, serve, benchmark and fault-inject framed TCP/TLS links from a shell, in
 * any framing the codec speaks (`proto`, `structBI`, `int32`, `lengthPrefixed`, a JSON layout), with
 * heartbeat, reconnect and TLS from flags. `proto connect`, `proto listen`, `proto bench` and
 * `proto proxy`; `proto --help` lists them. The package also exports `main`, which runs the command line
 * against any streams, for embedding and tests.
 *
 * @example
 *
 * ```ts
 * import { main } from '@proto/cli'
 *
 * const code = await main(['bench', '127.0.0.1:7000', '--count', '1000', '--json'], {
 *   stdin: process.stdin, stdout: process.stdout, stderr: process.stderr
 * })
 * process.exitCode = code
 * ```
 */

export type { Address } from './args/address.js'
export { formatAddress, parseListenAddress, parseTarget } from './args/address.js'
export type { ChosenFormat } from './args/format.js'
export { parseFormat } from './args/format.js'
export type { CommandSpec, FlagGroup, FlagSpec } from './args/spec.js'
export type { BenchResult } from './commands/bench-result.js'
export { ExitCode } from './constants.js'
export type { CliIO } from './context.js'
export {
  EchoMismatchError, InputError, InterruptedError, MissingRepliesError, NothingMeasuredError, UsageError
} from './errors.js'
export { COMMANDS, main } from './main.js'
