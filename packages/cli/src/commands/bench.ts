import { formatAddress, parseTarget } from '../args/address.js'
import type { Framing } from '../args/common.js'
import { optionalDuration, resolveCloseTimeout, resolveFraming, resolveType } from '../args/common.js'
import { BENCH, DIAL, FRAMING, GENERAL, HEARTBEAT, TLS_CLIENT } from '../args/flags.js'
import { resolveHeartbeat } from '../args/heartbeat.js'
import type { CommandSpec, ParsedCommand, Values } from '../args/spec.js'
import { flagValue, stringValue } from '../args/spec.js'
import { resolveClientTls } from '../args/tls.js'
import { parseInteger, parseSize } from '../args/values.js'
import { DEFAULT_BENCH_COUNT, DEFAULT_BENCH_DRAIN_TIMEOUT, DEFAULT_BENCH_DURATION, DEFAULT_BENCH_SIZE, DEFAULT_BENCH_WARMUP, DEFAULT_BENCH_WINDOW, MAX_BENCH_COUNT } from '../constants.js'
import type { CommandContext } from '../context.js'
import { UsageError } from '../errors.js'
import { describeGoAway } from '../goaway.js'
import { closeWithin, dial, frameStack } from '../stack.js'
import type { BenchResult } from './bench-result.js'
import { formatBench, roundResult } from './bench-result.js'
import type { BenchPlan } from './bench-run.js'
import { measure } from './bench-run.js'

export const BENCH_COMMAND: CommandSpec = {
  name: 'bench',
  usage: 'proto bench HOST:PORT [options]',
  summary: 'throughput and latency against a server that echoes frames',
  description: `Sends --count messages of --size bytes, at most --window in flight, to a server that echoes
every frame in the chosen framing, checks every echo byte for byte, and reports messages and MB per
second and round-trip percentiles (a human table on stdout, or --json). Bounded by --count and by
--duration, whichever comes first. The server may be 'proto listen --echo' or your own.`,
  positionals: ['HOST:PORT'],
  groups: [BENCH, FRAMING, HEARTBEAT, TLS_CLIENT, DIAL, GENERAL],
  examples: [
    'proto bench 127.0.0.1:7000 --count 100000 --size 64',
    'proto bench 127.0.0.1:7000 --window 1 --count 2000 --json   # unloaded round trips',
    'proto bench 10.0.0.5:9000 --format int32 --size 4KiB --duration 30s'
  ]
}

/** `--count`, `--size`, `--window`, `--warmup`, `--duration`, `--drain-timeout`, `--type`. */
function resolvePlan (values: Values, framing: Framing): BenchPlan {
  const whole = (name: string, fallback: number, rule: { min?: number, max?: number }): number => {
    const text = stringValue(values, name)
    return text === undefined ? fallback : parseInteger(`--${name}`, text, rule)
  }
  const sizeText = stringValue(values, 'size')
  const plan: BenchPlan = {
    count: whole('count', DEFAULT_BENCH_COUNT, { min: 1, max: MAX_BENCH_COUNT }),
    size: sizeText === undefined ? DEFAULT_BENCH_SIZE : parseSize('--size', sizeText),
    window: whole('window', DEFAULT_BENCH_WINDOW, { min: 1, max: 65_536 }),
    warmup: whole('warmup', DEFAULT_BENCH_WARMUP, { max: MAX_BENCH_COUNT }),
    duration: optionalDuration(values, 'duration', { min: 1 }) ?? DEFAULT_BENCH_DURATION,
    drainTimeout: optionalDuration(values, 'drain-timeout', { min: 1 }) ?? DEFAULT_BENCH_DRAIN_TIMEOUT,
    type: resolveType(values, framing.format)
  }
  if (plan.size > framing.limit) throw new UsageError(`--size ${plan.size} is longer than ${framing.limitName} allows (${framing.limit})`)
  return plan
}

/** `proto bench`. */
export async function runBench (parsed: ParsedCommand, ctx: CommandContext): Promise<void> {
  const { values } = parsed
  const address = parseTarget('HOST:PORT', parsed.positionals[0]!)
  const framing = resolveFraming(values)
  const hb = resolveHeartbeat(values, framing.format)
  const tls = resolveClientTls(values)
  const closeTimeout = resolveCloseTimeout(values)
  const plan = resolvePlan(values, framing)
  if (tls !== undefined && 'path' in address) throw new UsageError('TLS over a Unix socket is not supported: leave out the TLS flags or dial HOST:PORT')
  const conn = await dial({ address, tls, connectTimeout: optionalDuration(values, 'connect-timeout', { min: 1 }), closeTimeout }, { signal: ctx.signal })
  const goaway = (g: { code: number, reason: string }): void => { ctx.report.info(`the peer is going away: ${describeGoAway(g)}`) }
  const link = frameStack(conn, { format: framing.format, maxFrameLength: framing.maxFrameLength, heartbeat: hb.init, closeTimeout }, { goaway })
  const target = formatAddress(address)
  ctx.report.info(`connected to ${target}; sending ${plan.warmup} + ${plan.count} messages of ${plan.size} B, ${plan.window} in flight`)
  let measured
  try {
    measured = await measure(link, plan, ctx.signal)
  } catch (err) {
    link.abort(err as Error)
    throw err
  }
  await closeWithin(link, closeTimeout, () => new Error(`the server did not close within ${closeTimeout} ms`))
  const result: BenchResult = {
    target: `${tls !== undefined ? 'tls://' : ''}${target}`,
    format: framing.format.name,
    heartbeat: hb.summary,
    size: plan.size,
    window: plan.window,
    warmup: plan.warmup,
    ...measured
  }
  ctx.io.stdout.write(flagValue(values, 'json') ? JSON.stringify(roundResult(result)) + '\n' : formatBench(result))
}
