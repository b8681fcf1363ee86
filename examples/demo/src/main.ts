#!/usr/bin/env node
import { HELP, parseCli } from './cli.js'
import { runDemo } from './demo.js'
import { DEFAULTS } from './options.js'
import { formatSummary } from './summary.js'

/**
 * `npm run demo`: runs the demo with the command-line options, prints live progress and the summary,
 * and sets the exit code (0 every guarantee held, 1 one was broken, 2 the run failed, 64 bad usage).
 * Everything the run starts is closed before it returns, so the process ends by itself.
 */
async function main (): Promise<number> {
  let cli
  try {
    cli = parseCli(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}`)
    return 64
  }
  if (cli.help) {
    process.stdout.write(HELP)
    return 0
  }
  const limit = cli.options.durationLimit ?? DEFAULTS.durationLimit
  // Last resort: the run aborts itself at the limit; if closing then hangs, fail loudly instead of waiting.
  const watchdog = setTimeout(() => {
    process.stderr.write(`demo: still running ${limit / 1000 + 10} s after start; open handles: ${process.getActiveResourcesInfo().join(', ')}\n`)
    process.exit(3)
  }, limit + 10_000)
  watchdog.unref()
  const out = process.stdout
  let summary
  try {
    summary = await runDemo({ ...cli.options, output: { write: s => out.write(s), isTTY: out.isTTY } })
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).name}: ${(err as Error).message}\n`)
    return 64
  }
  out.write('\n' + formatSummary(summary))
  clearTimeout(watchdog)
  if (summary.error !== undefined) return 2
  return summary.ok ? 0 : 1
}

process.exitCode = await main()
