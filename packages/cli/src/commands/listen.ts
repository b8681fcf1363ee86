import type { Frame } from '@proto/codec'
import type { ConnectionAddress } from '@proto/interface'
import { formatAddress } from '@proto/interface'
import type { Connection, ListenInit, Server } from '@proto/transport'
import { listen } from '@proto/transport'
import { parseListenAddress } from '../args/address.js'
import { optionalDuration, resolveCloseTimeout, resolveFraming, resolveOutput } from '../args/common.js'
import { FRAMING, GENERAL, HEARTBEAT, OUTPUT, SERVER, TLS_SERVER } from '../args/flags.js'
import { resolveHeartbeat } from '../args/heartbeat.js'
import type { CommandSpec, ParsedCommand, Values } from '../args/spec.js'
import { flagValue, stringValue } from '../args/spec.js'
import { resolveServerTls } from '../args/tls.js'
import { parseInteger } from '../args/values.js'
import type { CommandContext } from '../context.js'
import { UsageError } from '../errors.js'
import { watchServer } from '../events.js'
import type { OutputMode, Printer } from '../frames/output.js'
import { createPrinter } from '../frames/output.js'
import { describeGoAway, isOrderlyGoAway } from '../goaway.js'
import { emptyUntil, endOn, until, watchAbort } from '../iterables.js'
import { describeError } from '../report.js'
import type { FrameLink, StackInit } from '../stack.js'
import { frameStack } from '../stack.js'

export const LISTEN: CommandSpec = {
  name: 'listen',
  usage: 'proto listen [HOST:]PORT [options]',
  summary: 'a server that prints (or echoes) the frames it receives',
  description: `Accepts connections (TCP, TLS or unix:PATH) and prints every frame received on stdout; with
--echo it also sends each frame back to its sender. A bare PORT listens on 127.0.0.1; give 0.0.0.0:PORT
to accept other hosts, and PORT 0 for a free port (the "listening on" line says which). Each connection
has a label (s1, s2 …) used on stderr and in --output hex/json. Runs until Ctrl-C (or, with --once,
until its first connection ends).`,
  positionals: ['[HOST:]PORT'],
  groups: [SERVER, OUTPUT, FRAMING, HEARTBEAT, TLS_SERVER, GENERAL],
  examples: [
    'proto listen 7000 --echo',
    'proto listen 0.0.0.0:9000 --format structBI --output hex',
    'proto listen 7000 --format structBI --strict --echo   # close clients that send other types or ping with a body',
    'proto listen 7443 --cert server.pem --key server.key --echo --output none'
  ]
}

/** An address as the user would type it for this command: `127.0.0.1:7000`, `unix:/tmp/s.sock`. */
function describeAddress (address: ConnectionAddress | undefined): string {
  return address?.family === 'unix' ? `unix:${address.path}` : formatAddress(address)
}

/** Everything `listen` needs, read and checked before anything listens. */
interface ListenOptions {
  readonly init: ListenInit
  readonly stack: StackInit
  readonly echo: boolean
  readonly once: boolean
  readonly output: OutputMode
  readonly closeTimeout: number
  /** For the "listening on" line: `TLS, structBI, heartbeat 15s/45s, echo`. */
  readonly summary: string
}

function resolveListen (values: Values, where: string): ListenOptions {
  const address = parseListenAddress('[HOST:]PORT', where)
  const framing = resolveFraming(values)
  const hb = resolveHeartbeat(values, framing.format)
  const tls = resolveServerTls(values)
  if (tls !== undefined && 'path' in address) throw new UsageError('TLS over a Unix socket is not supported: leave out the TLS flags or listen on a port')
  const maxText = stringValue(values, 'max-connections')
  const idleTimeout = optionalDuration(values, 'idle-timeout')
  const closeTimeout = resolveCloseTimeout(values)
  const echo = flagValue(values, 'echo')
  return {
    init: {
      ...address,
      closeTimeout,
      ...(tls !== undefined ? { tls } : {}),
      ...(maxText !== undefined ? { maxConnections: parseInteger('--max-connections', maxText, { min: 1 }) } : {}),
      ...(idleTimeout !== undefined ? { idleTimeout } : {})
    },
    stack: { format: framing.format, maxFrameLength: framing.maxFrameLength, heartbeat: hb.init, closeTimeout },
    echo,
    once: flagValue(values, 'once'),
    output: resolveOutput(values),
    closeTimeout,
    summary: [tls !== undefined ? 'TLS' : '', framing.format.name, hb.summary, echo ? 'echo' : ''].filter(s => s !== '').join(', ')
  }
}

/** `proto listen`. */
export async function runListen (parsed: ParsedCommand, ctx: CommandContext): Promise<void> {
  const o = resolveListen(parsed.values, parsed.positionals[0]!)
  const print = o.output !== 'none' ? createPrinter(o.output, ctx.io.stdout, o.stack.format.hasType) : undefined
  const closing = new AbortController()
  let servedOne = (): void => {}
  const served = new Promise<void>((resolve) => { servedOne = resolve })
  const server = await listen(o.init, async (conn) => {
    ctx.report.info(`[${conn.id}] connected from ${describeAddress(conn.remoteAddress)}`)
    const goaway = (g: { code: number, reason: string }): void => { ctx.report.info(`[${conn.id}] the peer is going away: ${describeGoAway(g)}`) }
    await serve(conn, frameStack(conn, o.stack, { goaway }), { echo: o.echo, print, closing: closing.signal })
    if (o.once) servedOne()
  })
  const debug = ctx.report.debug
  watchServer(server, {
    disconnect: (c, info) => { ctx.report.info(`[${c.id}] closed (${info.reason})${info.error !== undefined ? `: ${describeError(info.error, debug)}` : ''}`) },
    drop: (e) => { ctx.report.info(`refused a connection from ${describeAddress(e.remoteAddress)} (${e.reason}): ${describeError(e.error, debug)}`) },
    error: (error, c) => { ctx.report.error(error, c !== undefined ? `[${c.id}]` : 'server') }
  })
  ctx.report.info(`listening on ${describeAddress(server.address)} (${o.summary})`)
  await stopOn(server, ctx, served, () => { closing.abort() }, o.closeTimeout)
}

/**
 * Serves one connection: prints what arrives and, with `echo`, sends it back. When `closing` aborts
 * (Ctrl-C) it stops reading and ends its writing, so the client gets a FIN and the server's close can
 * finish gracefully. A client that ends after an orderly GOAWAY ends as one that simply closes. A
 * connection that fails (reset, bad frame, a protocol violation under `--strict`, heartbeat timeout) is
 * aborted with its error, which the `disconnect` line reports; the others carry on. Its listener on `closing` goes with it.
 */
async function serve (conn: Connection, link: FrameLink, options: { echo: boolean, print: Printer | undefined, closing: AbortSignal }): Promise<void> {
  let index = 0
  const { print } = options
  const closing = watchAbort(options.closing)
  const inbound = until(endOn(link.source, isOrderlyGoAway), closing.promise)
  async function * printed (): AsyncGenerator<Frame> {
    for await (const frame of inbound) {
      await print?.print(frame, { index: ++index, conn: conn.id }, conn.signal)
      yield frame
    }
  }
  try {
    if (options.echo) {
      await link.sink(print === undefined ? inbound : printed())
    } else {
      // Nothing to send: the sink only carries our FIN once reading is over (or on Ctrl-C). Both are
      // awaited together, so whichever fails first is the connection's error, and the other, which fails
      // too once the link is aborted with it, is observed rather than left to crash the process.
      let readDone = (): void => {}
      const writing = link.sink(emptyUntil(Promise.race([closing.promise, new Promise<void>((resolve) => { readDone = resolve })])))
      const reading = (async (): Promise<void> => {
        try {
          for await (const _ of printed()) { /* printed on the way */ }
        } finally {
          readDone()
        }
      })()
      await Promise.all([reading, writing])
    }
    await link.close()
  } catch (err) {
    link.abort(err as Error)
  } finally {
    closing.dispose()
  }
}

/**
 * Waits for Ctrl-C/SIGTERM (or `done`), asks every connection to finish (`beginClose`), then closes the
 * server and every connection within `closeTimeout`.
 */
async function stopOn (server: Server, ctx: CommandContext, done: Promise<void>, beginClose: () => void, closeTimeout: number): Promise<void> {
  const interrupted = new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve()
    ctx.signal.addEventListener('abort', () => { resolve() }, { once: true })
  })
  await Promise.race([interrupted, done])
  beginClose()
  await server.close({ deadline: closeTimeout })
  if (ctx.signal.aborted) throw ctx.signal.reason
}
