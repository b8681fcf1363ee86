import type { Frame } from '@proto/codec'
import type { HeartbeatStats } from '@proto/heartbeat'
import { connectLegacy } from './client.js'
import type { LegacyPeer } from './legacy-peer.js'
import { startLegacyPeer } from './legacy-peer.js'
import type { ExampleOptions } from './options.js'

/** How often the example's own peer pings, in ms. */
export const OWN_PEER_PING_EVERY = 400

/** What a run saw. */
export interface RunSummary {
  /** The bodies of the frames that came back, as text. */
  replies: Array<{ type: number, text: string }>
  /** Round trips of our pings, in ms. */
  rtts: number[]
  stats: HeartbeatStats
  /** Whether the server closed its side by itself within `wait` after we closed ours. */
  closedByPeer: boolean
}

const text = (body: Uint8Array): string => JSON.stringify(new TextDecoder().decode(body))
const hex = (type: number): string => `0x${type.toString(16).padStart(2, '0')}`

/**
 * Sends the messages, prints what comes back, and stays connected (answering its pings, sending ours)
 * until every message got a frame back and a ping was answered either way, or `wait` ms passed; then
 * half-closes and waits up to `wait` ms for the server to close too. With no `target` it starts its
 * own '!BI' peer and stops it at the end.
 */
export async function runExample (options: ExampleOptions, print: (line: string) => void): Promise<RunSummary> {
  let peer: LegacyPeer | undefined
  let target = options.target
  if (target === undefined) {
    peer = await startLegacyPeer({ pingEvery: OWN_PEER_PING_EVERY })
    target = { host: '127.0.0.1', port: peer.port }
    print(`legacy '!BI' peer on 127.0.0.1:${peer.port} (pings every ${OWN_PEER_PING_EVERY} ms)`)
  } else {
    print(`talking to the '!BI' server at ${target.host}:${target.port}`)
  }
  try {
    return await converse(target, options, print)
  } finally {
    await peer?.close()
  }
}

async function converse (target: { host: string, port: number }, options: ExampleOptions, print: (line: string) => void): Promise<RunSummary> {
  const link = await connectLegacy(target, options)
  const replies: RunSummary['replies'] = []
  const rtts: number[] = []
  let enough = (): void => {}
  const done = new Promise<void>((resolve) => { enough = resolve })
  // pings went at least one way: ours answered, or its own answered by us (a peer that pings more often
  // than `interval` keeps us from ever pinging: a pong we send counts as sending)
  const check = (): void => { if (replies.length >= options.messages.length && (rtts.length >= 1 || link.stats().pongsSent >= 1)) enough() }
  link.addEventListener('rtt', ({ detail: { rtt } }) => {
    rtts.push(rtt)
    print(`our ping ${hex(options.pingType)} answered by its pong ${hex(options.pongType)} in ${rtt.toFixed(2)} ms`)
    check()
  })
  const waited = setTimeout(enough, options.wait)
  const poll = setInterval(check, 50) // answering its pings is not an event
  async function * messages (): AsyncGenerator<Frame> {
    for (const message of options.messages) {
      print(`→ ${hex(options.dataType)}  ${JSON.stringify(message)}`)
      yield { type: options.dataType, body: new TextEncoder().encode(message) }
    }
    await done // stay connected, answering its pings, until replies and a round trip are in
  }
  const reading = (async () => {
    for await (const frame of link.source) {
      replies.push({ type: frame.type, text: new TextDecoder().decode(frame.body) })
      print(`← ${hex(frame.type)}  ${text(frame.body)}`)
      check()
    }
  })()
  try {
    await link.sink(messages()) // then FIN
    clearTimeout(waited)
    clearInterval(poll)
    let closeTimer: NodeJS.Timeout | undefined
    const closedByPeer = await Promise.race([
      reading.then(() => true),
      new Promise<false>((resolve) => { closeTimer = setTimeout(() => { resolve(false) }, options.wait) })
    ])
    clearTimeout(closeTimer)
    if (!closedByPeer) {
      print(`the server did not close its side within ${options.wait} ms; closing the connection`)
      link.abort(new Error('the server did not close its side'))
      await reading.catch(() => {})
    }
    const stats = link.stats()
    print(`our pings: ${stats.pingsSent}, its pongs: ${stats.pongsReceived}; its pings: ${stats.pingsReceived}, our pongs: ${stats.pongsSent}`)
    return { replies, rtts, stats, closedByPeer }
  } catch (err) {
    link.abort(err as Error)
    await reading.catch(() => {})
    throw err
  } finally {
    clearTimeout(waited)
    clearInterval(poll)
  }
}
