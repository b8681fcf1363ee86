import type { Frame } from '@proto/codec'
import { FrameType } from '@proto/codec'
import type { FaultProxy } from '@proto/fault-proxy'
import { startFaultProxy } from '@proto/fault-proxy'
import type { DurableDuplex } from '@proto/reconnect'
import { check } from './checks.js'
import { createClient } from './client.js'
import type { FaultDriver } from './faults.js'
import { driveFaults } from './faults.js'
import { createMessage, readMessage } from './message.js'
import type { DemoOptions, ResolvedOptions } from './options.js'
import { DEFAULTS, resolveOptions } from './options.js'
import { Progress } from './progress.js'
import type { EchoServer } from './server.js'
import { startEchoServer } from './server.js'
import type { DemoSummary } from './summary.js'
import { percentile } from './summary.js'

/** The run was stopped by `durationLimit`. */
export class DeadlineError extends Error {
  static override name = 'DeadlineError'
  constructor (message = 'the run exceeded its duration limit', options?: ErrorOptions) {
    super(message, options)
    this.name = 'DeadlineError'
  }
}

/** What the client saw. */
export interface ClientTally {
  handedByEpoch: number[]
  deliveredByEpoch: number[]
  lostEpochs: Set<number>
  delivered: number
  duplicates: number
  outOfOrder: number
  corrupted: number
  heartbeatTimeouts: number
  connections: number
  /** When each message was handed to a connection (`performance.now()`), for the echo RTT. */
  handedAt: Float64Array
  echoRtt: number[]
  heartbeatRtt: number[]
  /** Echo round trip, smoothed (for the progress line). */
  lastRtt: number | undefined
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** The messages, offered at `rate` per second (paced in 10 ms steps, catching up after an outage). */
async function * produce (o: ResolvedOptions, signal: AbortSignal, onDone: () => void): AsyncGenerator<Frame> {
  const started = performance.now()
  for (let seq = 0; seq < o.messages; seq++) {
    if (o.rate > 0) {
      while (!signal.aborted && seq >= (performance.now() - started) * o.rate / 1000) await sleep(10)
    }
    if (signal.aborted) return
    yield { type: FrameType.DATA, body: createMessage(seq, o.size, o.seed) }
  }
  onDone()
}

function newClientTally (messages: number): ClientTally {
  return {
    handedByEpoch: [], deliveredByEpoch: [], lostEpochs: new Set(), delivered: 0, duplicates: 0, outOfOrder: 0, corrupted: 0,
    heartbeatTimeouts: 0, connections: 0, handedAt: new Float64Array(messages), echoRtt: [], heartbeatRtt: [], lastRtt: undefined
  }
}

/** Reads the echoes: each must be intact, new, and later than the one before. */
async function readEchoes (link: DurableDuplex<Frame>, o: ResolvedOptions, t: ClientTally): Promise<void> {
  const seen = new Uint8Array(o.messages)
  let last = -1
  for await (const frame of link.source) {
    const m = readMessage(frame.body, o.size)
    if (!m.intact || m.seq >= o.messages) { t.corrupted++; continue }
    if (seen[m.seq] === 1) { t.duplicates++; continue }
    seen[m.seq] = 1
    if (m.seq <= last) t.outOfOrder++
    last = m.seq
    t.delivered++
    t.deliveredByEpoch[m.epoch] = (t.deliveredByEpoch[m.epoch] ?? 0) + 1
    const rtt = performance.now() - t.handedAt[m.seq]
    t.echoRtt.push(rtt)
    t.lastRtt = t.lastRtt === undefined ? rtt : t.lastRtt + (rtt - t.lastRtt) / 16
  }
}

/**
 * Runs the whole demo on loopback: an echo server, a fault proxy in front of it and a durable client
 * streaming `messages` through the proxy. Resolves with the summary (never rejects for a failed run:
 * `summary.ok` and `summary.checks` say what held). Everything it started is closed when it resolves.
 */
export async function runDemo (options: DemoOptions = {}): Promise<DemoSummary> {
  const o = resolveOptions(options)
  const started = performance.now()
  const client = newClientTally(o.messages)
  const deadline = new AbortController()
  const deadlineTimer = setTimeout(() => {
    deadline.abort(new DeadlineError(`the run did not finish within --duration-limit (${o.durationLimit} ms)`))
  }, o.durationLimit)
  let server: EchoServer | undefined
  let proxy: FaultProxy | undefined
  let faults: FaultDriver | undefined
  let link: DurableDuplex<Frame> | undefined
  let progress: Progress | undefined
  let error: string | undefined
  let sent = 0
  try {
    server = await startEchoServer(o)
    const target = server.server.address as { host?: string, address: string, port: number }
    proxy = await startFaultProxy({ target: { host: target.address, port: target.port }, seed: o.seed })
    if (o.faults) {
      faults = driveFaults({
        proxy,
        seed: o.seed,
        plan: {
          ...(o.cutEvery !== undefined ? { cutEvery: o.cutEvery, cutMode: 'mixed' as const } : {}),
          ...(o.blackHoleEvery !== undefined ? { blackHoleEvery: o.blackHoleEvery, blackHoleFor: o.blackHoleFor } : {})
        },
        linkChangeEvery: o.linkChangeEvery,
        fragment: DEFAULTS.fragment,
        coalesceMs: DEFAULTS.coalesceMs
      })
    }
    const durable = link = createClient({
      host: proxy.address.host,
      port: proxy.port,
      heartbeatInterval: o.heartbeatInterval,
      heartbeatTimeout: o.heartbeatTimeout,
      onConnection: (hb) => {
        client.connections++
        hb.addEventListener('timeout', () => { client.heartbeatTimeouts++ })
        hb.addEventListener('rtt', ({ detail: { rtt } }) => { client.heartbeatRtt.push(rtt) })
      },
      onHanded: (frame, epoch) => {
        client.handedByEpoch[epoch] = (client.handedByEpoch[epoch] ?? 0) + 1
        client.handedAt[readMessage(frame.body, o.size).seq] = performance.now()
      }
    })
    let epoch = 0
    durable.addEventListener('connected', () => { epoch = client.connections })
    durable.addEventListener('disconnected', () => { client.lostEpochs.add(epoch) })
    const onDeadline = (): void => { durable.abort(deadline.signal.reason as Error) }
    deadline.signal.addEventListener('abort', onDeadline, { once: true })

    if (o.output !== undefined) {
      const drawFaults = faults
      progress = new Progress(o.output, o.progressInterval, () => ({
        elapsedMs: performance.now() - started,
        total: o.messages,
        sent,
        delivered: client.delivered,
        reconnects: durable.stats().reconnects,
        heartbeatTimeouts: client.heartbeatTimeouts,
        rtt: client.lastRtt,
        link: drawFaults?.state ?? 'no faults'
      }))
      progress.start()
    }

    const counting = async function * (source: AsyncIterable<Frame>): AsyncGenerator<Frame> {
      for await (const frame of source) { sent++; yield frame }
    }
    // Faults stop once the last message is accepted: the drain that follows ends in a clean close.
    const writing = durable.sink(counting(produce(o, deadline.signal, () => { faults?.stop() })))
    const reading = readEchoes(durable, o, client)
    const [w, r] = await Promise.allSettled([writing, reading])
    if (w.status === 'rejected') throw w.reason
    if (r.status === 'rejected') throw r.reason
    await durable.close()
    deadline.signal.removeEventListener('abort', onDeadline)
  } catch (err) {
    error = `${(err as Error).name}: ${(err as Error).message}`
    link?.abort(err as Error)
  } finally {
    clearTimeout(deadlineTimer)
    faults?.stop()
    progress?.stop()
    await link?.close().catch(() => {})
    await proxy?.close()
    await server?.close()
  }
  const durationMs = performance.now() - started
  return check({ o, sent, durationMs, error, client, server: server?.tally, stats: link?.stats(), proxy: proxy?.stats(), faults: faults?.counts, percentile })
}
