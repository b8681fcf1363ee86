/**
 * The command line was wrong: an unknown flag, a missing or malformed value, a bad address or format, or
 * options that do not go together. Nothing was connected. Exit code 2.
 */
export class UsageError extends Error {
  static override name = 'UsageError'
  /** The command whose help the user should read (`'connect'`, …), or `undefined` for `proto --help`. */
  readonly command: string | undefined

  constructor (message = 'Invalid command line', options: ErrorOptions & { command?: string } = {}) {
    super(message, options)
    this.name = 'UsageError'
    this.command = options.command
  }
}

/**
 * A frame to send could not be made from the input: a line that is not valid hex or JSON, a frame longer
 * than `--max-frame-length`, a frame type the format cannot carry, an unreadable `--file`. Frames read
 * before it were sent. Exit code 3.
 */
export class InputError extends Error {
  static override name = 'InputError'
  /** Where the bad input is: `'stdin line 3'`, `'file frame.bin'`. */
  readonly where: string

  constructor (where: string, problem: string, options?: ErrorOptions) {
    super(`${where}: ${problem}`, options)
    this.name = 'InputError'
    this.where = where
  }
}

/** `bench`: a reply was not the echo of the message sent in that position. Exit code 1. */
export class EchoMismatchError extends Error {
  static override name = 'EchoMismatchError'
  /** The 0-based position of the message whose reply differed. */
  readonly index: number

  constructor (index: number, detail: string, options?: ErrorOptions) {
    super(`reply ${index} is not the echo of message ${index}: ${detail}. The server must send every frame back unchanged and in order, in the framing given by --format`, options)
    this.name = 'EchoMismatchError'
    this.index = index
  }
}

/** `bench`: the server did not answer every message in time (or closed the connection before it did). Exit code 1. */
export class MissingRepliesError extends Error {
  static override name = 'MissingRepliesError'
  /** Messages sent that got no reply. */
  readonly missing: number

  constructor (missing: number, detail: string, options?: ErrorOptions) {
    super(`${missing} message${missing === 1 ? '' : 's'} got no echo: ${detail}. Check that the server echoes every frame in the framing given by --format`, options)
    this.name = 'MissingRepliesError'
    this.missing = missing
  }
}

/** `bench`: the run ended before any message was measured (`--duration` ran out during the warm-up). Exit code 1. */
export class NothingMeasuredError extends Error {
  static override name = 'NothingMeasuredError'

  constructor (message = 'no message was measured', options?: ErrorOptions) {
    super(message, options)
    this.name = 'NothingMeasuredError'
  }
}

/** Ctrl-C or SIGTERM asked the command to stop. Not a failure: the exit code says which signal. */
export class InterruptedError extends Error {
  static override name = 'InterruptedError'
  /** `'SIGINT'` or `'SIGTERM'`. */
  readonly signal: NodeJS.Signals

  constructor (signal: NodeJS.Signals, options?: ErrorOptions) {
    super(`interrupted by ${signal}`, options)
    this.name = 'InterruptedError'
    this.signal = signal
  }
}
