import { parseArgs } from 'node:util'

/** What the example does; every field has a default. */
export interface ExampleOptions {
  /** The `'!BI'` server to talk to; `undefined` starts the example's own peer. */
  target: { host: string, port: number } | undefined
  /** Sent as one DATA frame each. */
  messages: string[]
  /** Frame type of the messages. @default 0x00 (DATA in the classic protocol) */
  dataType: number
  /** @default 0x01 */
  pingType: number
  /** @default 0x02 */
  pongType: number
  /** Ping after this many ms without sending. @default 150 */
  interval: number
  /** The peer is dead after this many ms without a frame. @default 1500 */
  timeout: number
  /** The most it waits, in ms, for a reply per message and a ping answered, then again for the peer to close. @default 3000 */
  wait: number
}

export const DEFAULTS: Omit<ExampleOptions, 'target'> = {
  messages: ['hello', 'from', '@proto'],
  dataType: 0x00,
  pingType: 0x01,
  pongType: 0x02,
  interval: 150,
  timeout: 1_500,
  wait: 3_000
}

/** The environment variables read for the target when no argument names one. */
export const ENV_HOST = 'BI_HOST'
export const ENV_PORT = 'BI_PORT'

export const HELP = `Usage: node examples/custom-framing/dist/src/main.js [HOST:PORT] [options]

Talks to a server speaking the classic '!BI' protocol (struct.pack('!BI', type, len) + body; DATA 0x00,
PING 0x01, PONG 0x02 with empty bodies): sends each --message as a DATA frame, prints every frame that
comes back, keeps the link alive with pings both ways, then half-closes. With no target it starts its own
hand-written '!BI' peer on loopback and talks to that.

Target (the first given wins): HOST:PORT, or --host and --port, or $${ENV_HOST} and $${ENV_PORT}.

Options:
  --host <host>        server host (default 127.0.0.1 when only a port is given)
  --port <port>        server port
  --message <text>     a message to send; repeat for several (default: ${DEFAULTS.messages.join(', ')})
  --data-type <byte>   frame type of the messages (default 0x00)
  --ping-type <byte>   its ping type (default 0x01)
  --pong-type <byte>   its pong type (default 0x02)
  --interval <ms>      ping after this long without sending (default ${DEFAULTS.interval})
  --timeout <ms>       the peer is dead after this long without a frame (default ${DEFAULTS.timeout})
  --wait <ms>          the most it waits for replies, and then for the server to close (default ${DEFAULTS.wait})
  -h, --help           show this help

Exit codes: 0 done, 1 the connection failed, 2 bad arguments.
`

/** A bad argument or environment variable. */
export class UsageError extends Error {
  static override name = 'UsageError'

  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'UsageError'
  }
}

function whole (name: string, text: string, min: number, max: number): number {
  const n = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text.slice(2), 16) : /^\d+$/.test(text) ? Number(text) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`expected ${name} to be a whole number from ${min} to ${max}, but got '${text}'`)
  return n
}

function target (values: { host?: string, port?: string }, positional: string | undefined, env: Record<string, string | undefined>): ExampleOptions['target'] {
  if (positional !== undefined) {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(positional)
    if (m === null) throw new UsageError(`expected HOST:PORT, but got '${positional}'`)
    return { host: m[1] ?? m[2]!, port: whole('the port', m[3]!, 1, 65535) }
  }
  const [host, port, from] = values.host !== undefined || values.port !== undefined
    ? [values.host, values.port, '--host/--port']
    : [env[ENV_HOST], env[ENV_PORT], `$${ENV_HOST}/$${ENV_PORT}`]
  if (host === undefined && port === undefined) return undefined
  if (port === undefined || port === '') throw new UsageError(`${from}: a host needs a port`)
  return { host: host === undefined || host === '' ? '127.0.0.1' : host, port: whole(from === '--host/--port' ? '--port' : `$${ENV_PORT}`, port, 1, 65535) }
}

/** Reads the command line (without `node` and the script) and the environment. Throws `UsageError`. */
export function parseExampleArgs (args: string[], env: Record<string, string | undefined>): { help: true } | { help: false, options: ExampleOptions } {
  let parsed
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        message: { type: 'string', multiple: true },
        'data-type': { type: 'string' },
        'ping-type': { type: 'string' },
        'pong-type': { type: 'string' },
        interval: { type: 'string' },
        timeout: { type: 'string' },
        wait: { type: 'string' },
        help: { type: 'boolean', short: 'h' }
      }
    })
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err })
  }
  const { values, positionals } = parsed
  if (values.help === true) return { help: true }
  if (positionals.length > 1) throw new UsageError(`expected at most one HOST:PORT, but got ${positionals.length} arguments`)
  const num = (name: string, text: string | undefined, fallback: number, max = 2_147_483_647): number => text === undefined ? fallback : whole(`--${name}`, text, 0, max)
  const options: ExampleOptions = {
    target: target(values, positionals[0], env),
    messages: values.message ?? DEFAULTS.messages,
    dataType: num('data-type', values['data-type'], DEFAULTS.dataType, 255),
    pingType: num('ping-type', values['ping-type'], DEFAULTS.pingType, 255),
    pongType: num('pong-type', values['pong-type'], DEFAULTS.pongType, 255),
    interval: num('interval', values.interval, DEFAULTS.interval),
    timeout: num('timeout', values.timeout, DEFAULTS.timeout),
    wait: num('wait', values.wait, DEFAULTS.wait)
  }
  if (options.timeout !== 0 && options.timeout <= options.interval) throw new UsageError(`expected --timeout (${options.timeout}) to be above --interval (${options.interval})`)
  if (options.pingType === options.pongType) throw new UsageError('expected --ping-type and --pong-type to differ')
  if (options.dataType === options.pingType || options.dataType === options.pongType) throw new UsageError('expected --data-type to differ from --ping-type and --pong-type, or the messages would be taken for pings')
  return { help: false, options }
}
