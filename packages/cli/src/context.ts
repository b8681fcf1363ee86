import type { Writable } from 'node:stream'
import type { ParsedCommand } from './args/spec.js'
import type { Reporter } from './report.js'

/** The process around a command: its streams and the signal that Ctrl-C/SIGTERM abort. */
export interface CliIO {
  /** Where `connect` reads frames from. */
  readonly stdin: AsyncIterable<Uint8Array>
  /** Frames received, bench results: the data. */
  readonly stdout: Writable
  /** Everything else: connections, RTTs, faults, errors. */
  readonly stderr: Writable
  /** Aborted with an `InterruptedError` when the user asks the command to stop. */
  readonly signal?: AbortSignal
}

/** What a command runs with. */
export interface CommandContext {
  readonly io: CliIO
  readonly report: Reporter
  /** Aborted (with an `InterruptedError`) on Ctrl-C or SIGTERM. */
  readonly signal: AbortSignal
}

/** A command's body: resolves when it finished well, throws what ended it otherwise (see `exitCodeOf`). */
export type CommandRun = (parsed: ParsedCommand, ctx: CommandContext) => Promise<void>
