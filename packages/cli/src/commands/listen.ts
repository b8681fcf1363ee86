import type { Frame } from '@proto/codec'
import { DONE, formatAddress as formatConnectionAddress, isBatchIterator } from '@proto/interface'
import type { Connection, ListenInit, Server } from '@proto/transport'
import { listen } from '@proto/transport'
import { parseListenAddress } from '../args/address.js'
import { optionalDuration, resolveCloseTimeout, resolveFraming, resolveOutput } from '../args/common.js'
import { FRAMING, GENERAL, HEARTBEAT, OUTPUT, SERVER, TLS_SERVER } from '../args/flags.js'
import { resolveHeartbeat } from '../args/heartbeat.js'
import type { CommandSpec, ParsedCommand } from '../args/spec.js'
import { flagValue, stringValue } from '../args/spec.js'
import { resolveServerTls } from '../args/tls.js'
import { parseInteger } from '../args/values.js'
import type { CommandContext } from '../context.js'
import { UsageError } from '../errors.js'
import { watchServer } from '../events.js'
import type { Printer } from '../frames/output.js'
import { createPrinter } from '../frames/output.js'
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
    'proto listen 7443 --cert server.pem --key server.key --echo --output none'
  ]
}

/** `proto listen`. */
export async function runListen (parsed: ParsedCommand, ctx: CommandContext): Promise<void> {
  const { values } = parsed
  const address = parseListenAddress('[HOST:]PORT', parsed.positionals[0]!)
  const framing = resolveFraming(values)
  const hb = resolveHeartbeat(values, framing.format)
  const tls = resolveServerTls(values)
  if (tls !== undefined && 'path' in address) throw new UsageError('TLS over a Unix socket is not supported: leave out the TLS flags or listen on a port')
  const maxText = stringValue(values, 'max-connections')
  const idleTimeout = optionalDuration(values, 'idle-timeout')
  const closeTimeout = resolveCloseTimeout(values)
  const echo = flagValue(values, 'echo')
  const once = flagValue(values, 'once')
  const output = resolveOutput(values)
  const stack: StackInit = { format: framing.format, maxFrameLength: framing.maxFrameLength, heartbeat: hb.init, closeTimeout }
  const printer = createPrinter(output, ctx.io.stdout, framing.format.hasType)
  const closing = new AbortController()
  let servedOne = (): void => {}
  const served = new Promise<void>((resolve) => { servedOne = resolve })
  const init: ListenInit = {
    ...address,
    closeTimeout,
    ...(tls !== undefined ? { tls } : {}),
    ...(maxText !== undefined ? { maxConnections: parseInteger('--max-connections', maxText, { min: 1 }) } : {}),
    ...(idleTimeout !== undefined ? { idleTimeout } : {})
  }
  const server = await listen(init, async (conn) => {
    ctx.report.info(`[${conn.id}] connected from ${formatConnectionAddress(conn.remoteAddress)}`)
    await serve(conn, frameStack(conn, stack), { echo, print: output !== 'none' ? printer : undefined, closing: closing.signal })
    if (once) servedOne()
  })
  watchServer(server, {
    disconnect: (c, info) => { ctx.report.info(`[${c.id}] closed (${info.reason})${info.error !== undefined ? `: ${describeError(info.error, ctx.report.debug)}` : ''}`) },
    drop: (e) => { ctx.report.info(`refused a connection from ${formatConnectionAddress(e.remoteAddress)} (${e.reason}): ${describeError(e.error, ctx.report.debug)}`) },
    error: (error, c) => { ctx.report.error(error, c !== undefined ? `[${c.id}]` : 'server') }
  })
  ctx.report.info(`listening on ${formatConnectionAddress(server.address)} (${[tls !== undefined ? 'TLS' : '', framing.format.name, hb.summary, echo ? 'echo' : ''].filter(s => s !== '').join(', ')})`)
  await stopOn(server, ctx, served, () => { closing.abort() }, closeTimeout)
}

/**
 * Serves one connection: prints what arrives and, with `echo`, sends it back. When `closing` aborts
 * (Ctrl-C) it stops reading and ends its writing, so the client gets a FIN and the server's close can
 * finish gracefully. A connection that fails (reset, bad frame, heartbeat timeout) is aborted with its
 * error, which the `disconnect` line reports; the others carry on.
 */
async function serve (conn: Connection, link: FrameLink, options: { echo: boolean, print: Printer | undefined, closing: AbortSignal }): Promise<void> {
  let index = 0
  const { print, closing } = options
  const label = conn.id
  const inbound = untilAborted(link.source, closing)
  async function * printed (): AsyncGenerator<Frame> {
    for await (const frame of inbound) {
      await print?.print(frame, { index: ++index, conn: label }, conn.signal)
      yield frame
    }
  }
  try {
    if (options.echo) {
      await link.sink(print === undefined ? inbound : printed())
    } else {
      const readDone = new AbortController()
      const writing = link.sink(nothingUntil(AbortSignal.any([closing, readDone.signal])))
      try {
        for await (const _ of printed()) { /* printed on the way */ }
      } finally {
        readDone.abort()
      }
      await writing
    }
    await link.close()
  } catch (err) {
    link.abort(err as Error)
  }
}

/** A source with nothing in it that ends once `signal` aborts: the sink it feeds then sends FIN. */
function nothingUntil (signal: AbortSignal): AsyncIterable<never> {
  const ended = new Promise<IteratorResult<never>>((resolve) => {
    if (signal.aborted) resolve(DONE)
    signal.addEventListener('abort', () => { resolve(DONE) }, { once: true })
  })
  return { [Symbol.asyncIterator]: () => ({ next: async () => await ended }) }
}

/**
 * `source`, ending as soon as `signal` aborts (a pending read is abandoned, not awaited). Keeps
 * `nextBatch()` when the source offers it, so an echo passes batches straight through; the race costs
 * one `Promise.race` per read, the abort promise is made once.
 */
function untilAborted<T> (source: AsyncIterable<T>, signal: AbortSignal): AsyncIterable<T> {
  const it = source[Symbol.asyncIterator]()
  const aborted = new Promise<undefined>((resolve) => {
    if (signal.aborted) resolve(undefined)
    signal.addEventListener('abort', () => { resolve(undefined) }, { once: true })
  })
  const out: AsyncIterableIterator<T> & { nextBatch?: () => Promise<T[] | undefined> } = {
    [Symbol.asyncIterator]: () => out,
    next: async () => signal.aborted ? DONE : (await Promise.race([it.next(), aborted])) ?? DONE
  }
  if (isBatchIterator<T>(it)) out.nextBatch = async () => signal.aborted ? undefined : await Promise.race([it.nextBatch(), aborted])
  return out
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
