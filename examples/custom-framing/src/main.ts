#!/usr/bin/env node
import { HELP, parseExampleArgs } from './options.js'
import { runExample } from './run.js'

/**
 * Talks to a '!BI' server given as HOST:PORT, --host/--port or $BI_HOST/$BI_PORT, or to its own peer.
 * Exit codes: 0 done, 1 the connection failed, 2 bad arguments.
 */
async function main (): Promise<number> {
  let cli
  try {
    cli = parseExampleArgs(process.argv.slice(2), process.env)
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}`)
    return 2
  }
  if (cli.help) {
    process.stdout.write(HELP)
    return 0
  }
  try {
    await runExample(cli.options, (line) => { console.log(line) })
    return 0
  } catch (err) {
    process.stderr.write(`custom-framing: ${(err as Error).name}: ${(err as Error).message}\n`)
    return 1
  }
}

process.exitCode = await main()
