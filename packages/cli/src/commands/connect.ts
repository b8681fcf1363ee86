import type { Frame } from '@proto/codec'
import type { DurableDuplex, ReconnectInit } from '@proto/reconnect'
import { reconnect } from '@proto/reconnect'
import type { ClientTLSInit } from '@proto/transport'
import type { Address } from '../args/address.js'
import { formatAddress, parseTarget } from '../args/address.js'
import type { Framing } from '../args/common.js'
import { optionalDuration, resolveCloseTimeout, resolveFraming, resolveOutput, resolveType } from '../args/common.js'
import { DIAL, FRAMING, GENERAL, HEARTBEAT, INPUT, OUTPUT, RECONNECT, TLS_CLIENT } from '../args/flags.js'
import type { HeartbeatChoice } from '../args/heartbeat.js'
import { resolveHeartbeat } from '../args/heartbeat.js'
import { resolveReconnect } from '../args/reconnect.js'
import type { CommandSpec, ParsedCommand, Values } from '../args/spec.js'
import { listValue, stringValue } from '../args/spec.js'
import { resolveClientTls } from '../args/tls.js'
import { badValue, parseInteger } from '../args/values.js'
import { DEFAULT_INPUT } from '../constants.js'
import type { CommandContext } from '../context.js'
import { UsageError } from '../errors.js'
import type { HeartbeatWatch } from '../events.js'
import { watchReconnect } from '../events.js'
import type { InputMode } from '../frames/input.js'
import { checkFiles, INPUT_MODES, openInput } from '../frames/input.js'
import type { OutputMode } from '../frames/output.js'
import { createPrinter } from '../frames/output.js'
import { describeGoAway, isFinalGoAwayError } from '../goaway.js'
import { describeError } from '../report.js'
import type { StackInit } from '../stack.js'
import { dial, frameStack } from '../stack.js'
import type { ExchangeInit } from './exchange.js'
import { exchange } from './exchange.js'

export const CONNECT: CommandSpec = {
  name: 'connect',
  usage: 'proto connect HOST:PORT [options]',
  summary: 'send frames from stdin (or files), print the frames that arrive',
  description: `Connects to a server (TCP, TLS or unix:PATH) and speaks its framing. Each stdin line (or each
--file) goes out as one frame; every frame that arrives is printed on stdout. Connection events,
heartbeat round trips and errors go to stderr, so stdout can be piped. When the input ends the
connection is half-closed and the command waits for the peer to finish.`,
  positionals: ['HOST:PORT'],
  groups: [INPUT, OUTPUT, FRAMING, HEARTBEAT, RECONNECT, TLS_CLIENT, DIAL, GENERAL],
  examples: [
    'echo hello | proto connect 127.0.0.1:7000',
    "printf '11:68656c6c6f\\n' | proto connect device.local:9000 --format structBI --input hex --output hex",
    'proto connect 127.0.0.1:7000 --reconnect --max-delay 5s --interval 2s --timeout 6s',
    'proto connect device.local:9000 --format structBI --strict --allow-types 0x00,0x11   # close on anything else',
    'proto connect 10.0.0.5:9000 --format int32 --keepalive empty --interval 20s          # through idle-closing NATs',
    'proto connect example.com:7443 --tls --ca ca.pem --file request.bin --count 1 --output json'
  ]
}

/** Everything `connect` needs, read and checked before anything connects. */
export interface ConnectOptions {
  readonly address: Address
  readonly framing: Framing
  readonly heartbeat: HeartbeatChoice
  readonly reconnect: ReconnectInit<Frame> | undefined
  readonly tls: ClientTLSInit | undefined
  readonly connectTimeout: number | undefined
  readonly closeTimeout: number
  readonly input: { readonly mode: InputMode, readonly type: number, readonly files: string[] }
  readonly output: OutputMode
  readonly count: number | undefined
  readonly linger: number
}

export function resolveConnect (values: Values, target: string): ConnectOptions {
  const address = parseTarget('HOST:PORT', target)
  const framing = resolveFraming(values)
  const mode = stringValue(values, 'input') ?? DEFAULT_INPUT
  if (!(INPUT_MODES as readonly string[]).includes(mode)) badValue('--input', INPUT_MODES.join(', '), mode)
  const files = listValue(values, 'file')
  if (files.length > 0 && values.input !== undefined) throw new UsageError('--file sends files, not stdin: leave out --input')
  const countText = stringValue(values, 'count')
  const tls = resolveClientTls(values)
  if (tls !== undefined && 'path' in address) throw new UsageError('TLS over a Unix socket is not supported: leave out the TLS flags or dial HOST:PORT')
  return {
    address,
    framing,
    heartbeat: resolveHeartbeat(values, framing.format),
    reconnect: resolveReconnect(values),
    tls,
    connectTimeout: optionalDuration(values, 'connect-timeout', { min: 1 }),
    closeTimeout: resolveCloseTimeout(values),
    input: { mode: mode as InputMode, type: resolveType(values, framing.format), files },
    output: resolveOutput(values),
    count: countText === undefined ? undefined : parseInteger('--count', countText, { min: 1 }),
    linger: optionalDuration(values, 'linger', { infinity: true }) ?? Infinity
  }
}

/** `proto connect`. */
export async function runConnect (parsed: ParsedCommand, ctx: CommandContext): Promise<void> {
  const o = resolveConnect(parsed.values, parsed.positionals[0]!)
  await checkFiles(o.input.files, o.framing.limit, o.framing.limitName)
  const input = openInput({ ...o.input, hasType: o.framing.format.hasType, maxFrameLength: o.framing.limit, limitName: o.framing.limitName, stdin: ctx.io.stdin })
  const printer = createPrinter(o.output, ctx.io.stdout, o.framing.format.hasType)
  if (o.reconnect === undefined) {
    const link = frameStack(await dial(o, { signal: ctx.signal }), stackInit(o), heartbeatLines(ctx))
    ctx.report.info(`connected to ${describeTarget(o)}`)
    await exchange(link, input, printer, exchangeInit(o), ctx)
    return
  }
  const durable = openDurable(o, o.reconnect, ctx)
  try {
    await exchange(durable, input, printer, exchangeInit(o), ctx)
  } finally {
    reportLosses(durable, ctx)
  }
}

function stackInit (o: ConnectOptions): StackInit {
  return { format: o.framing.format, maxFrameLength: o.framing.maxFrameLength, heartbeat: o.heartbeat.init, closeTimeout: o.closeTimeout }
}

/** `127.0.0.1:7000 (TLS, structBI, heartbeat 15s/45s)`. */
function describeTarget (o: ConnectOptions): string {
  return `${formatAddress(o.address)} (${[o.tls !== undefined ? 'TLS' : '', o.framing.format.name, o.heartbeat.summary].filter(s => s !== '').join(', ')})`
}

/** RTTs and the peer's GOAWAY on stderr. */
function heartbeatLines (ctx: CommandContext): HeartbeatWatch {
  return {
    rtt: (rtt) => { ctx.report.info(`rtt ${rtt.toFixed(2)} ms`) },
    goaway: (goAway) => { ctx.report.info(`the peer is going away: ${describeGoAway(goAway)}`) }
  }
}

/** Errors after which redialling cannot help, so `--reconnect` gives up at once (exit 1). */
const FATAL = new Set(['InvalidParametersError', 'ProtocolViolationError', 'ProtocolVersionError'])

/** Redial after anything but bad options, a peer that breaks the protocol, and a GOAWAY `DO_NOT_RETRY`. */
function shouldRetry (err: Error): boolean {
  return !FATAL.has(err.name) && !isFinalGoAwayError(err)
}

/** A durable link that redials `o.address`, each connection's events reported on stderr. */
function openDurable (o: ConnectOptions, init: ReconnectInit<Frame>, ctx: CommandContext): DurableDuplex<Frame> {
  const stack = stackInit(o)
  const durable = reconnect<Frame>(async ({ signal }) => frameStack(await dial(o, { signal }), stack, heartbeatLines(ctx)), {
    closeTimeout: o.closeTimeout,
    shouldRetry,
    ...init
  })
  const where = describeTarget(o)
  let reported: Error | undefined // the error of a lost connection, already on the 'connection lost' line
  watchReconnect(durable, {
    connected: ({ attempt }) => { ctx.report.info(`connected to ${where}${attempt > 1 ? `, attempt ${attempt}` : ''}`) },
    disconnected: ({ reason, error, handed }) => {
      reported = error
      const sent = handed > 0 ? ` after sending ${frames(handed)} on it` : ''
      ctx.report.info(`connection lost (${reason})${sent}${error !== undefined ? `: ${describeError(error, ctx.report.debug)}` : ''}`)
    },
    reconnecting: ({ attempt, delay, error }) => {
      const why = error !== undefined && error !== reported ? `: ${describeError(error, ctx.report.debug)}` : ''
      ctx.report.info(`reconnecting in ${delay} ms, attempt ${attempt}${why}`)
    }
  })
  return durable
}

function exchangeInit (o: ConnectOptions): ExchangeInit {
  return { count: o.count, linger: o.linger, closeTimeout: o.closeTimeout, isProto: o.framing.format.isProto }
}

const frames = (n: number): string => `${n} frame${n === 1 ? '' : 's'}`

/** Reconnect delivers at most once: says how many frames may not have arrived, and how many were never sent. */
function reportLosses (durable: DurableDuplex<Frame>, ctx: CommandContext): void {
  const { unconfirmed, unsent, dropped } = durable.stats()
  if (unconfirmed > 0) ctx.report.warn(`${frames(unconfirmed)} went out on connections that were lost before they finished: they may not have arrived (reconnect never sends a frame twice)`)
  if (dropped > 0) ctx.report.warn(`${frames(dropped)} dropped while disconnected`)
  if (unsent > 0) ctx.report.warn(`${frames(unsent)} never sent: still waiting for a connection when the command ended`)
}
