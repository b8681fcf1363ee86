/**
 * The @proto stack as the suite runs it.
 *
 * Full client stack: `reconnect(dial)` where `dial` = transport `connect` → `codec` → `heartbeat`.
 * Server: transport `listen` → `codec` → `heartbeat`. Heartbeat and reconnect run with their defaults.
 *
 * For the cost breakdown the client stack is also run one layer at a time against the same kind of server:
 * `proto-transport` (transport only, each message pre-framed in the @proto wire format, one chunk per
 * message), `proto-codec` (transport + codec), `proto-hb` (transport + codec + heartbeat).
 */
import type { Frame, FrameDuplex } from '@proto/codec'
import { codec } from '@proto/codec'
import type { HeartbeatInit } from '@proto/heartbeat'
import { DEFAULT_MAX_QUEUED_BYTES, DEFAULT_MAX_QUEUED_FRAMES, heartbeat } from '@proto/heartbeat'
import type { StageDuplex } from '@proto/interface'
import { reconnect } from '@proto/reconnect'
import { DEFAULT_INBOUND_BYTES, DEFAULT_INBOUND_MESSAGES } from '@proto/session'
import type { Connection } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import type { SendInit } from '../baseline/net.js'
import { echoRounds } from '../lib/echo-rounds.js'
import { frame5 } from '../lib/framing.js'
import type { Listening } from '../lib/listening.js'
import type { RunResult } from '../lib/net-util.js'
import { decodeTally, HOST, seconds } from '../lib/net-util.js'
import { DATA, END, frames, messages, pushedFrames } from '../lib/producers.js'
import { tallyServe } from '../lib/tally-serve.js'

/** Heartbeat settings of every stack in the suite: the package defaults. */
export const heartbeatInit: HeartbeatInit = {}

/**
 * The server of `proto-deep`: a heartbeat queue as deep as what a session server holds in front of its
 * application (the heartbeat's own queue plus the session's, at most its inbound limit: 16 384 items and
 * 4 MiB by default), so sessions on and off are compared with the same items queued on the server.
 */
export const deepHeartbeatInit: HeartbeatInit = {
  maxQueuedFrames: DEFAULT_MAX_QUEUED_FRAMES + DEFAULT_INBOUND_MESSAGES,
  maxQueuedBytes: DEFAULT_MAX_QUEUED_BYTES + DEFAULT_INBOUND_BYTES
}

async function protoListener (wrap: (conn: Connection) => FrameDuplex, serve: (link: FrameDuplex) => Promise<void>): Promise<Listening> {
  const server = await listen({ host: HOST, port: 0 }, async (conn) => { await serve(wrap(conn)) })
  const port = (server.address as { port: number }).port
  return { port, close: async () => { await server.close({ deadline: 1_000 }) } }
}

async function echoServe (link: FrameDuplex): Promise<void> {
  await link.sink(link.source)
}

const withHeartbeat = (conn: Connection): FrameDuplex => heartbeat(codec(conn), heartbeatInit)
const withDeepHeartbeat = (conn: Connection): FrameDuplex => heartbeat(codec(conn), deepHeartbeatInit)
const codecOnly = (conn: Connection): FrameDuplex => codec(conn)

export const stackReceivers: Record<string, () => Promise<Listening>> = {
  proto: async () => await protoListener(withHeartbeat, tallyServe),
  'proto-deep': async () => await protoListener(withDeepHeartbeat, tallyServe),
  'proto-codec': async () => await protoListener(codecOnly, tallyServe),
  'proto-echo': async () => await protoListener(withHeartbeat, echoServe)
}

/** The full client stack on `port`, connected (the connection is made before any clock starts). */
export async function fullStack (port: number): Promise<StageDuplex<Frame> & { close(): Promise<void> }> {
  const link = reconnect<Frame>(async ({ signal }) => heartbeat(codec(await connect({ host: HOST, port }, { signal })), heartbeatInit))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('full stack did not connect within 10 s')) }, 10_000)
    link.addEventListener('connected', () => { clearTimeout(timer); resolve() }, { once: true })
  })
  return link
}

/** Each message pre-framed in the @proto format, one chunk per message (for the transport-only row). */
async function * preframed (payload: Uint8Array, maxCount: number, deadline: number): AsyncGenerator<Uint8Array> {
  for await (const m of messages(payload, maxCount, deadline)) yield m.byteLength > 0 ? frame5(DATA, m) : frame5(END)
}

/** How the user's side hands its frames over: an async generator, one at a time, or a batch source. */
type Producer = typeof frames | typeof pushedFrames

/** Runs one throughput round over a frame duplex: writes the frames, reads the tally. */
async function timedFrames (link: StageDuplex<Frame>, init: SendInit, produce: Producer = frames): Promise<RunResult> {
  const payload = new Uint8Array(init.size).fill(0x61)
  const it = link.source[Symbol.asyncIterator]()
  const t0 = seconds()
  const writing = link.sink(produce(payload, init.maxCount, t0 + init.maxMs / 1000))
  const reply = await it.next()
  const elapsed = seconds() - t0
  await writing
  if (reply.done === true) throw new Error('the server ended without a tally')
  return { ...decodeTally(reply.value.body), seconds: elapsed }
}

async function sendFull (init: SendInit, produce: Producer = frames): Promise<RunResult> {
  const link = await fullStack(init.port)
  try {
    return await timedFrames(link, init, produce)
  } finally {
    await link.close()
  }
}

async function sendLayer (init: SendInit, layers: 'codec' | 'hb', produce: Producer = frames): Promise<RunResult> {
  const conn = await connect({ host: HOST, port: init.port })
  const link = layers === 'codec' ? codec(conn) : heartbeat(codec(conn), heartbeatInit)
  try {
    return await timedFrames(link, init, produce)
  } finally {
    await (link.close?.() ?? conn.close())
  }
}

async function sendTransport (init: SendInit): Promise<RunResult> {
  const conn = await connect({ host: HOST, port: init.port })
  const payload = new Uint8Array(init.size).fill(0x61)
  const inbound = codec(conn).source[Symbol.asyncIterator]()
  const t0 = seconds()
  const writing = conn.sink(preframed(payload, init.maxCount, t0 + init.maxMs / 1000))
  const reply = await inbound.next()
  const elapsed = seconds() - t0
  await writing
  await conn.close()
  if (reply.done === true) throw new Error('the server ended without a tally')
  return { ...decodeTally(reply.value.body), seconds: elapsed }
}

export const stackSenders: Record<string, { receiver: string, send(init: SendInit): Promise<RunResult> }> = {
  proto: { receiver: 'proto', send: async init => await sendFull(init) },
  'proto-batch': { receiver: 'proto', send: async init => await sendFull(init, pushedFrames) },
  'proto-deep': { receiver: 'proto-deep', send: async init => await sendFull(init) },
  'proto-hb': { receiver: 'proto', send: async init => await sendLayer(init, 'hb') },
  'proto-hb-batch': { receiver: 'proto', send: async init => await sendLayer(init, 'hb', pushedFrames) },
  'proto-codec': { receiver: 'proto-codec', send: async init => await sendLayer(init, 'codec') },
  'proto-transport': { receiver: 'proto-codec', send: sendTransport }
}

async function echoFull (port: number, size: number, count: number, warmup: number): Promise<Float64Array> {
  return await echoRounds(await fullStack(port), size, count, warmup)
}

export const stackEchoClients: Record<string, { receiver: string, echo(port: number, size: number, count: number, warmup: number): Promise<Float64Array> }> = {
  proto: { receiver: 'proto-echo', echo: echoFull }
}
