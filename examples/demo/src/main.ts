#!/usr/bin/env node
import { HELP, parseCli } from './cli.js'
import { runDemo } from './demo.js'
import { formatSummary } from './format-summary.js'
import { DEFAULTS } from './options.js'
import { renderReport } from './report/render.js'
import { defaultReportPath, displayPath, writeReport } from './report-file.js'

/** Exit statuses: every guarantee held, one broke, the run failed, bad usage, interrupted (128 + SIGINT). */
const EXIT = { pass: 0, fail: 1, error: 2, usage: 64, interrupted: 130 } as const

/** Stops the run at the first Ctrl-C (summary and report follow); quits at once at the second. */
function onInterrupt (stop: AbortController): () => void {
  let count = 0
  const listener = (): void => {
    if (++count === 1) {
      process.stderr.write('\ninterrupted: stopping, then the summary so far and the report (Ctrl-C again quits at once)\n')
      stop.abort()
      return
    }
    process.stderr.write('interrupted twice: quitting without a summary or report\n')
    process.exit(EXIT.interrupted)
  }
  process.on('SIGINT', listener)
  return () => { process.off('SIGINT', listener) }
}

/**
 * `npm run demo`: runs the demo with the command-line options, prints live progress, the summary and
 * the report's path (or, with `--json`, only the summary as JSON on stdout), and sets the exit status.
 * Everything the run starts is closed before it returns, so the process ends by itself.
 */
async function main (): Promise<number> {
  let cli
  try {
    cli = parseCli(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}`)
    return EXIT.usage
  }
  if (cli.help) {
    process.stdout.write(HELP)
    return EXIT.pass
  }
  const limit = cli.options.durationLimit ?? DEFAULTS.durationLimit
  // Last resort: the run aborts itself at the limit; if closing then hangs, fail loudly instead of waiting.
  const watchdog = setTimeout(() => {
    process.stderr.write(`demo: still running ${limit / 1000 + 10} s after start; open handles: ${process.getActiveResourcesInfo().join(', ')}\n`)
    process.exit(3)
  }, limit + 10_000)
  watchdog.unref()
  // With --json, stdout carries the JSON object alone: progress and notes go to stderr.
  const live = cli.json ? process.stderr : process.stdout
  const color = live.isTTY && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb'
  const stop = new AbortController()
  const release = onInterrupt(stop)
  let summary
  try {
    summary = await runDemo({ ...cli.options, signal: stop.signal, output: { write: s => live.write(s), isTTY: live.isTTY, get columns () { return live.columns }, color } })
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).name}: ${(err as Error).message}\n`)
    return EXIT.usage
  } finally {
    release()
  }
  clearTimeout(watchdog)
  let report: string | undefined
  try {
    report = await writeReport(cli.report ?? defaultReportPath(summary.seed, new Date(summary.startedAt)), renderReport(summary))
  } catch (err) {
    process.stderr.write(`demo: could not write the report: ${(err as Error).message}; pass --report <file> to write it elsewhere\n`)
  }
  if (cli.json) {
    process.stdout.write(JSON.stringify({ ...summary, report: report ?? null }) + '\n')
    if (report !== undefined) process.stderr.write(`report: ${displayPath(report)}\n`)
  } else {
    process.stdout.write('\n' + formatSummary(summary, { color }))
    if (report !== undefined) process.stdout.write(`\nreport: ${displayPath(report)} (open it in a browser)\n`)
  }
  if (summary.interrupted) return EXIT.interrupted
  if (summary.error !== undefined || report === undefined) return EXIT.error
  return summary.ok ? EXIT.pass : EXIT.fail
}

process.exitCode = await main()
