import type { Writable } from 'node:stream'
import { ExitCode } from './constants.js'
import { InterruptedError } from './errors.js'

/** Errors that mean "the command line was wrong", whichever package threw them. */
const USAGE_ERRORS = new Set(['UsageError', 'InvalidParametersError'])

/** The exit code an error ends the command with (see `ExitCode`). */
export function exitCodeOf (err: unknown): ExitCode {
  if (err instanceof InterruptedError) return err.signal === 'SIGTERM' ? ExitCode.TERMINATED : ExitCode.INTERRUPTED
  const name = (err as Error | undefined)?.name ?? ''
  if (USAGE_ERRORS.has(name)) return ExitCode.USAGE
  if (name === 'InputError') return ExitCode.INPUT
  return ExitCode.FAILURE
}

function asError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

/** Node's own error classes: their messages are what a typed error's message already explains. */
const BUILT_IN = new Set(['Error', 'TypeError', 'RangeError', 'SystemError', 'AbortError'])

/**
 * An error as one line: `Name: message`, with its first cause when that is a typed error whose message
 * the error's own does not already contain.
 * With `debug`, the stack of the error and of every cause, one after the other.
 */
export function describeError (err: unknown, debug = false): string {
  const e = asError(err)
  if (debug) {
    let out = e.stack ?? `${e.name}: ${e.message}`
    let cause = e.cause
    for (let depth = 0; cause != null && depth < 8; depth++) {
      const c = asError(cause)
      out += `\ncaused by: ${c.stack ?? `${c.name}: ${c.message}`}`
      cause = c.cause
    }
    return out
  }
  let line = `${e.name}: ${e.message}`
  const cause = e.cause
  if (cause instanceof Error && !BUILT_IN.has(cause.name) && !e.message.includes(cause.message)) line += ` (caused by ${cause.name}: ${cause.message})`
  return line.replace(/\s*\n\s*/g, ' ')
}

/** Lines on stderr: what happens to connections, RTTs, faults and errors, so stdout stays clean for pipes. */
export interface Reporter {
  /** Whether stack traces are shown (`--debug` or `DEBUG=proto:*`). */
  readonly debug: boolean
  /** Progress and facts (`connected to …`, `rtt …`); suppressed by `--quiet`. */
  info(message: string): void
  /** Always shown. */
  warn(message: string): void
  /** An error, as one line `error: Name: message` (or a full stack with `debug`). */
  error(err: unknown, context?: string): void
  /** A usage error: its message alone, then where to read the usage. */
  usage(err: Error, command: string | undefined): void
}

export function createReporter (stderr: Writable, options: { quiet: boolean, debug: boolean }): Reporter {
  const line = (text: string): void => { stderr.write(`proto: ${text}\n`) }
  return {
    debug: options.debug,
    info: (message) => { if (!options.quiet) line(message) },
    warn: line,
    error: (err, context) => { line(`${context !== undefined ? `${context}: ` : ''}error: ${describeError(err, options.debug)}`) },
    usage: (err, command) => {
      line(options.debug ? describeError(err, true) : err.message)
      stderr.write(`Run 'proto ${command !== undefined ? `${command} ` : ''}--help' for usage.\n`)
    }
  }
}
