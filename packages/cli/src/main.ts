import { createLogger } from '@proto/interface'
import type { CommandSpec } from './args/spec.js'
import { flagValue, parseCommand } from './args/spec.js'
import { BENCH_COMMAND, runBench } from './commands/bench.js'
import { CONNECT, runConnect } from './commands/connect.js'
import { LISTEN, runListen } from './commands/listen.js'
import { PROXY_COMMAND, runProxy } from './commands/proxy.js'
import { ExitCode } from './constants.js'
import type { CliIO, CommandRun } from './context.js'
import type { InterruptedError } from './errors.js'
import { UsageError } from './errors.js'
import { commandHelp, mainHelp } from './help.js'
import { createReporter, exitCodeOf } from './report.js'
import { cliVersion } from './version.js'

/** Each command's spec with the body that runs it, in the order `proto --help` lists them. */
const ENTRIES: ReadonlyArray<{ spec: CommandSpec, run: CommandRun }> = [
  { spec: CONNECT, run: runConnect },
  { spec: LISTEN, run: runListen },
  { spec: BENCH_COMMAND, run: runBench },
  { spec: PROXY_COMMAND, run: runProxy }
]

/**
 * The commands, in the order `proto --help` lists them: each one's name, usage, arguments, flags and
 * examples, as its `--help` shows them (for completion scripts or generated docs). Run them with `main`.
 */
export const COMMANDS: readonly CommandSpec[] = ENTRIES.map(e => e.spec)

/**
 * Runs `proto` with `argv` (without `node` and the script) and resolves with the exit code. Never
 * throws: every failure is one line on `io.stderr` (a stack trace with `--debug` or `DEBUG=proto:*`).
 * `--debug` also switches on the SDK's logging (`PROTO_DEBUG=*`) for this process.
 */
export async function main (argv: readonly string[], io: CliIO): Promise<ExitCode> {
  const envDebug = createLogger('cli').enabled
  let report = createReporter(io.stderr, { quiet: false, debug: envDebug || argv.includes('--debug') })
  const [name, ...args] = argv
  const specs = COMMANDS
  if (name === undefined) {
    io.stderr.write(mainHelp(specs, cliVersion()))
    return ExitCode.USAGE
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = ENTRIES.find(c => c.spec.name === args[0])
    io.stdout.write(topic !== undefined ? commandHelp(topic.spec) : mainHelp(specs, cliVersion()))
    return ExitCode.OK
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`${cliVersion()}\n`)
    return ExitCode.OK
  }
  const command = ENTRIES.find(c => c.spec.name === name)
  try {
    if (command === undefined) {
      throw new UsageError(name.startsWith('-')
        ? `expected a command before options, but got '${name}'`
        : `unknown command '${name}'; the commands are ${specs.map(s => s.name).join(', ')}`)
    }
    const parsed = parseCommand(command.spec, args)
    if (flagValue(parsed.values, 'help')) {
      io.stdout.write(commandHelp(command.spec))
      return ExitCode.OK
    }
    const debug = flagValue(parsed.values, 'debug')
    if (debug) process.env.PROTO_DEBUG = [process.env.PROTO_DEBUG, '*'].filter(s => s !== undefined && s !== '').join(',')
    report = createReporter(io.stderr, { quiet: flagValue(parsed.values, 'quiet'), debug: debug || envDebug })
    await command.run(parsed, { io, report, signal: io.signal ?? new AbortController().signal })
    return ExitCode.OK
  } catch (err) {
    if ((io.signal?.reason as InterruptedError | undefined)?.signal === 'SIGPIPE') return ExitCode.OK // stdout's reader left
    const code = exitCodeOf(err)
    if (code === ExitCode.INTERRUPTED || code === ExitCode.TERMINATED) {
      report.info((err as Error).message)
    } else if (code === ExitCode.USAGE) {
      report.usage(err as Error, command?.spec.name)
    } else {
      report.error(err)
    }
    return code
  }
}
