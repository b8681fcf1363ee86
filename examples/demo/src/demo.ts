import type { Frame } from '@proto/codec'
import type { FaultEvent, FaultProxy } from '@proto/fault-proxy'
import { startFaultProxy } from '@proto/fault-proxy'
import type { DurableDuplex } from '@proto/reconnect'
import { createClient } from './client.js'
import { describeDisconnect } from './connections.js'
import type { FaultDriver } from './faults.js'
import { driveFaults } from './faults.js'
import { watchHeartbeat } from './heartbeat-events.js'
import { readMessage } from './message.js'
import type { DemoOptions, ResolvedOptions } from './options.js'
import { DEFAULTS, resolveOptions } from './options.js'
import { Progress } from './progress.js'
import type { EchoServer } from './server.js'
import { startEchoServer } from './server.js'
import { summarize } from './summarize.js'
import type { DemoSummary } from './summary.js'
import type { TimelineEvent } from './timeline.js'
import { newClientTally, produce, readEchoes } from './traffic.js'

/** The run was stopped by `durationLimit`. */
export class DeadlineError extends Error {
  static override name = 'DeadlineError'
  constructor (message = 'the run exceeded its duration limit', options?: ErrorOptions) {
    super(message, options)
    this.name = 'DeadlineError'
  }
}

/** The run was stopped by its `signal` and what was in flight did not drain within `stopDrain`. */
class StoppedError extends Error {
  static override name = 'StoppedError'
  constructor (message = 'the run was stopped; in-flight messages did not drain in time') {
    super(message)
    this.name = 'StoppedError'
  }
}

function startFaults (o: ResolvedOptions, proxy: FaultProxy, record: (e: TimelineEvent) => void, now: () => number): FaultDriver {
  return driveFaults({
    proxy,
    seed: o.seed,
    plan: {
      ...(o.cutEvery !== undefined ? { cutEvery: o.cutEvery, cutMode: 'mixed' as const } : {}),
      ...(o.blackHoleEvery !== undefined ? { blackHoleEvery: o.blackHoleEvery, blackHoleFor: o.blackHoleFor } : {})
    },
    linkChangeEvery: o.linkChangeEvery,
    fragment: DEFAULTS.fragment,
    coalesceMs: DEFAULTS.coalesceMs,
    onLinkChange: (mode) => { record({ type: 'link', atMs: now(), mode }) }
  })
}

/** Records what the proxy really did: cuts, black holes and when each lifted. */
function recordProxy (proxy: FaultProxy, events: TimelineEvent[], now: () => number): () => void {
  let hole: Extract<TimelineEvent, { type: 'black-hole' }> | undefined
  return proxy.onEvent((e: FaultEvent) => {
    if (e.type === 'cut') events.push({ type: 'cut', atMs: now(), mode: e.mode, connections: e.connections })
    else if (e.type === 'black-hole') events.push(hole = { type: 'black-hole', atMs: now(), endMs: undefined })
    else if (e.type === 'restore' && hole !== undefined) { hole.endMs = now(); hole = undefined }
  })
}

/**
 * Runs the whole demo on loopback: an echo server, a fault proxy in front of it and a durable client
 * streaming `messages` through the proxy. Resolves with the summary (never rejects for a failed run:
 * `summary.outcome` and `summary.checks` say what held). Everything it started is closed when it resolves.
 * An aborted `signal` stops the run early and resolves with a summary marked `interrupted`.
 */
export async function runDemo (options: DemoOptions = {}): Promise<DemoSummary> {
  const o = resolveOptions(options)
  o.signal?.throwIfAborted()
  const startedAt = new Date()
  const started = performance.now()
  const now = (): number => performance.now() - started
  const client = newClientTally(o.messages)
  const events: TimelineEvent[] = []
  const stopSending = new AbortController()
  const deadline = new AbortController()
  const deadlineTimer = setTimeout(() => {
    deadline.abort(new DeadlineError(`the run did not finish within --duration-limit (${o.durationLimit} ms)`))
    stopSending.abort()
  }, o.durationLimit)
  let server: EchoServer | undefined
  let proxy: FaultProxy | undefined
  let faults: FaultDriver | undefined
  let link: DurableDuplex<Frame> | undefined
  let progress: Progress | undefined
  let error: string | undefined
  let interrupted = false
  let drainTimer: NodeJS.Timeout | undefined
  const stopError = new StoppedError()
  let sent = 0
  const onStop = (): void => {
    interrupted = true
    events.push({ type: 'interrupted', atMs: now() })
    stopSending.abort()
    faults?.stop()
    drainTimer = setTimeout(() => { link?.abort(stopError) }, o.stopDrain)
  }
  o.signal?.addEventListener('abort', onStop, { once: true })
  let unrecord: (() => void) | undefined
  try {
    server = await startEchoServer({ ...o, now, onHeartbeatTimeout: () => { events.push({ type: 'heartbeat-timeout', atMs: now(), side: 'server' }) } })
    const target = server.server.address as { host?: string, address: string, port: number }
    proxy = await startFaultProxy({ target: { host: target.address, port: target.port }, seed: o.seed })
    unrecord = recordProxy(proxy, events, now)
    if (o.faults && !stopSending.signal.aborted) faults = startFaults(o, proxy, (e) => { events.push(e) }, now)
    const durable = link = createClient({
      host: proxy.address.host,
      port: proxy.port,
      heartbeatInterval: o.heartbeatInterval,
      heartbeatTimeout: o.heartbeatTimeout,
      onConnection: (hb) => {
        client.connections++
        watchHeartbeat(hb, {
          timeout: () => { client.heartbeatTimeouts++; events.push({ type: 'heartbeat-timeout', atMs: now(), side: 'client' }) },
          rtt: (rtt) => { client.heartbeatAt.push(now()); client.heartbeatRtt.push(rtt) }
        })
      },
      onHanded: (frame, epoch) => {
        client.handedByEpoch[epoch] = (client.handedByEpoch[epoch] ?? 0) + 1
        client.handedAt[readMessage(frame.body, o.size).seq] = now()
      }
    })
    let epoch = 0
    durable.addEventListener('connected', (e) => {
      epoch = client.connections
      events.push({ type: 'connected', atMs: now(), connection: epoch, attempt: e.detail.attempt })
    })
    durable.addEventListener('disconnected', (e) => {
      client.lostEpochs.add(epoch)
      const { reason, error: err } = e.detail
      events.push({ type: 'disconnected', atMs: now(), connection: epoch, reason, error: err === undefined ? undefined : `${err.name}: ${err.message}`, cause: describeDisconnect(reason, err) })
    })
    const onDeadline = (): void => { durable.abort(deadline.signal.reason as Error) }
    deadline.signal.addEventListener('abort', onDeadline, { once: true })

    if (o.output !== undefined) {
      const drawFaults = faults
      progress = new Progress(o.output, o.progressInterval, () => ({
        elapsedMs: now(),
        total: o.messages,
        sent,
        delivered: client.delivered,
        reconnects: durable.stats().reconnects,
        heartbeatTimeouts: client.heartbeatTimeouts,
        rtt: client.lastRtt,
        link: interrupted ? 'stopping' : drawFaults?.state ?? 'no faults'
      }))
      progress.start()
    }

    const counting = async function * (source: AsyncIterable<Frame>): AsyncGenerator<Frame> {
      for await (const frame of source) { sent++; yield frame }
    }
    // Faults stop once the last message is accepted: the drain that follows ends in a clean close.
    const onDone = (): void => { faults?.stop(); events.push({ type: 'faults-stopped', atMs: now() }) }
    const writing = durable.sink(counting(produce({ ...o, signal: stopSending.signal, onDone })))
    const reading = readEchoes(durable, o.messages, o.size, client, now)
    const [w, r] = await Promise.allSettled([writing, reading])
    if (w.status === 'rejected') throw w.reason
    if (r.status === 'rejected') throw r.reason
    await durable.close()
    deadline.signal.removeEventListener('abort', onDeadline)
  } catch (err) {
    if (!(interrupted && err === stopError)) error = `${(err as Error).name}: ${(err as Error).message}`
    link?.abort(err as Error)
  } finally {
    o.signal?.removeEventListener('abort', onStop)
    clearTimeout(deadlineTimer)
    clearTimeout(drainTimer)
    faults?.stop()
    progress?.stop()
    await link?.close().catch(() => {})
    unrecord?.()
    await proxy?.close()
    await server?.close()
  }
  return summarize({
    o, startedAt, sent, durationMs: now(), error, interrupted, client, server: server?.tally, stats: link?.stats(), proxy: proxy?.stats(), faults: faults?.counts, events
  })
}
