#!/usr/bin/env node
import { ExitCode } from './constants.js'
import { InterruptedError } from './errors.js'
import { main } from './main.js'
import { describeError } from './report.js'

// The `proto` executable: wires the process (argv, stdio, signals) to `main`. The first Ctrl-C (or
// SIGTERM) asks the command to close everything and exit 130 (143); a second one exits at once.
const interrupt = new AbortController()
const onSignal = (signal: NodeJS.Signals): void => {
  if (interrupt.signal.aborted) {
    process.stderr.write(`proto: ${signal} again, exiting without closing\n`)
    process.exit(signal === 'SIGTERM' ? ExitCode.TERMINATED : ExitCode.INTERRUPTED)
  }
  interrupt.abort(new InterruptedError(signal))
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)

const debug = process.argv.includes('--debug')
const fatal = (err: unknown): void => {
  process.stderr.write(`proto: internal error: ${describeError(err, debug)}\n`)
  process.exit(ExitCode.FAILURE)
}
process.on('uncaughtException', fatal)
process.on('unhandledRejection', fatal)
// a reader of stdout that went away (`proto connect … | head -1`) is the end of the output, not a crash
process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') interrupt.abort(new InterruptedError('SIGPIPE')) })

// The SDK's timers are unref()ed (a library must not hold a process open); the command decides when it is
// done, so this keeps the process alive until `main` returns, through backoff waits and idle links.
const alive = setInterval(() => {}, 2 ** 30)
process.exitCode = await main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, signal: interrupt.signal })
clearInterval(alive)
process.off('SIGINT', onSignal)
process.off('SIGTERM', onSignal)
process.stdin.destroy()
