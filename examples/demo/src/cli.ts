import { parseArgs } from 'node:util'
import { InvalidParametersError } from '@proto/interface'
import type { DemoOptions, KillMode, Range } from './options.js'
import { DEFAULTS } from './options.js'
import { DEFAULT_REPORT_DIR } from './report-file.js'

export const HELP = `Usage: npm run demo -- [options]
       node examples/demo/dist/src/main.js [options]

Streams messages from a durable @proto client (transport + codec + heartbeat + reconnect + session)
through a fault-injecting proxy to an echo server, all on loopback, and checks every delivery guarantee:
with sessions, nothing lost, nothing duplicated, in order, both ways. Writes a
self-contained HTML report (charts of throughput, RTT, faults and reconnects) at the end of every run.
Exits 0 when all held, 1 when one was broken, 2 when the run failed or hit --duration-limit, 64 on bad
usage, 130 when interrupted (Ctrl-C: the summary so far is printed and the report written).

Options:
  --messages <n>          messages to send (default ${DEFAULTS.messages})
  --size <bytes>          bytes per message, header included, ≥ 16 (default ${DEFAULTS.size})
  --rate <n>              messages per second offered; 0 = as fast as possible (default ${DEFAULTS.rate})
  --seed <n>              seed of the fault schedule, to replay a run (default random, printed)
  --cut-every <ms|a-b>    cut the link (FIN or RST) every a…b ms; 0 = never (default ${DEFAULTS.cutEvery.join('-')})
  --blackhole-every <ms|a-b>  black-hole the link every a…b ms; 0 = never (default ${DEFAULTS.blackHoleEvery.join('-')})
  --blackhole-for <ms|a-b>    each black hole lasts a…b ms (default ${DEFAULTS.blackHoleFor.join('-')})
  --no-faults             a clean link: no cuts, black holes, fragmentation or coalescing
  --no-session            without @proto/session: at-most-once delivery (losses counted), for comparison
  --servers <n>           run n session servers, each its own process, sharing sessions through a
                          redis-server the run starts (needs redis-server installed); the proxy sends
                          each new connection to the next server in turn (default: one, in-process)
  --kill <term|kill|none> with --servers: halfway, stop the client's server: term = SIGTERM (it hands
                          its session over: exactly once), kill = SIGKILL (the next server recovers
                          what was persisted: duplicates allowed, counted), none (default term)
  --duration-limit <s>    abort and fail after this many seconds (default ${DEFAULTS.durationLimit / 1000})
  --report <file>         where to write the HTML report (default ${DEFAULT_REPORT_DIR}/demo-<time>-seed<seed>.html)
  --json                  print the summary as one JSON object on stdout (progress goes to stderr)
  -h, --help              show this help
`

/** What the command line asks for. `report`: the report's path, when given. */
export type CliResult = { help: true } | { help: false, options: DemoOptions, report?: string, json: boolean }

function whole (name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text)) throw new InvalidParametersError(`--${name} expects a whole number; got '${text}'`)
  return Number(text)
}

function msRange (name: string, text: string | undefined): Range | null | undefined {
  if (text === undefined) return undefined
  const m = /^(\d+)(?:-(\d+))?$/.exec(text)
  if (m === null) throw new InvalidParametersError(`--${name} expects milliseconds as 'ms' or 'min-max'; got '${text}'`)
  const min = Number(m[1])
  const max = m[2] === undefined ? min : Number(m[2])
  if (min === 0 && max === 0) return null
  return [min, max]
}

/** Reads the command line (without `node` and the script). Throws `InvalidParametersError` on bad input. */
export function parseCli (args: string[]): CliResult {
  let values
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        messages: { type: 'string' },
        size: { type: 'string' },
        rate: { type: 'string' },
        seed: { type: 'string' },
        'cut-every': { type: 'string' },
        'blackhole-every': { type: 'string' },
        'blackhole-for': { type: 'string' },
        'no-faults': { type: 'boolean' },
        'no-session': { type: 'boolean' },
        'duration-limit': { type: 'string' },
        servers: { type: 'string' },
        kill: { type: 'string' },
        report: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' }
      }
    }))
  } catch (err) {
    throw new InvalidParametersError((err as Error).message, { cause: err })
  }
  if (values.help === true) return { help: true }
  const options: DemoOptions = {}
  const set = <K extends keyof DemoOptions>(key: K, value: DemoOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value
  }
  set('messages', whole('messages', values.messages))
  set('size', whole('size', values.size))
  set('rate', whole('rate', values.rate))
  set('seed', whole('seed', values.seed))
  const cut = msRange('cut-every', values['cut-every'])
  if (cut !== undefined) options.cutEvery = cut ?? undefined
  const hole = msRange('blackhole-every', values['blackhole-every'])
  if (hole !== undefined) options.blackHoleEvery = hole ?? undefined
  const holeFor = msRange('blackhole-for', values['blackhole-for'])
  if (holeFor != null) options.blackHoleFor = holeFor
  if (values['no-faults'] === true) options.faults = false
  if (values['no-session'] === true) options.session = false
  set('servers', whole('servers', values.servers))
  if (values.kill !== undefined) {
    if (!['term', 'kill', 'none'].includes(values.kill)) throw new InvalidParametersError(`--kill expects term, kill or none; got '${values.kill}'`)
    if (values.servers === undefined) throw new InvalidParametersError('--kill stops one of the servers of --servers <n>: give --servers too')
    options.kill = values.kill as KillMode
  }
  const limit = whole('duration-limit', values['duration-limit'])
  if (limit !== undefined) options.durationLimit = limit * 1000
  const report = values.report
  if (report !== undefined && report.trim() === '') throw new InvalidParametersError('--report expects a file path; got an empty string')
  return { help: false, options, ...(report !== undefined ? { report } : {}), json: values.json === true }
}
