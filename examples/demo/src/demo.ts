import type { Frame } from '@proto/codec'
import type { FaultEvent, FaultProxy } from '@proto/fault-proxy'
import { startFaultProxy } from '@proto/fault-proxy'
import type { FaultDriver } from './faults.js'
import { driveFaults } from './faults.js'
import type { DemoOptions, ResolvedOptions } from './options.js'
import { DEFAULTS, resolveOptions } from './options.js'
import { Progress } from './progress.js'
import type { RecordedClient } from './recorded-client.js'
import { createRecordedClient } from './recorded-client.js'
import { runControl } from './run-control.js'
import type { EchoServer, EchoServerInit } from './server.js'
import { startEchoServer } from './server.js'
import type { ServersResult } from './servers/collect.js'
import { collectServers } from './servers/collect.js'
import { requireRedisServer } from './servers/redis.js'
import type { ServerGroup } from './servers/servers.js'
import { startServers } from './servers/servers.js'
import { startSessionEchoServer } from './session-server.js'
import { summarize } from './summarize.js'
import type { DemoSummary, ServersSummary } from './summary.js'
import type { TimelineEvent } from './timeline.js'
import type { ClientTally } from './traffic.js'
import { newClientTally, produce, readEchoes } from './traffic.js'

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

/** How long, after the client closed, the server's sessions may take to read the client's last acknowledgements (ms). */
const SETTLE_TIMEOUT = 2_000

/**
 * With `--servers`, how long the client waits for its last messages to be acknowledged before it closes
 * (ms): servers acknowledge what their Redis store persisted, which a loaded machine can hold up for seconds.
 */
const ACK_TIMEOUT = 15_000

/** The echo server, with or without sessions. */
async function startServer (o: ResolvedOptions, events: TimelineEvent[], now: () => number): Promise<EchoServer> {
  const init: EchoServerInit = { ...o, now, onHeartbeatTimeout: () => { events.push({ type: 'heartbeat-timeout', atMs: now(), side: 'server' }) } }
  return o.session ? await startSessionEchoServer({ ...init, onSessionLost: (e) => { events.push(e) } }) : await startEchoServer(init)
}

/**
 * `--kill`: stops the server the client is connected to now (SIGTERM: it drains; SIGKILL: it just dies)
 * and records it. The server is not restarted: the others carry on.
 */
async function killServer (group: ServerGroup, mode: 'term' | 'kill', events: TimelineEvent[], now: () => number): Promise<NonNullable<ServersSummary['kill']>> {
  const target = group.current() ?? group.servers.find(s => s.killed === undefined)
  if (target === undefined) throw new Error('expected a running server to stop, but none runs')
  const signal = mode === 'term' ? 'SIGTERM' : 'SIGKILL'
  const event: Extract<TimelineEvent, { type: 'server-killed' }> = { type: 'server-killed', atMs: now(), node: target.index, signal, exitedAtMs: undefined }
  events.push(event)
  await group.kill(target, signal)
  event.exitedAtMs = now()
  return { mode, signal, node: target.index, atMs: event.atMs, exitedAtMs: event.exitedAtMs, drainedSessions: target.drained ?? null }
}

/** Resolves once the client's session has every one of the `sent` messages acknowledged, or after `timeout` ms. */
async function acknowledged (client: RecordedClient, sent: number, timeout: number): Promise<void> {
  const until = performance.now() + timeout
  while (client.linkStats().confirmed < sent && performance.now() < until) await new Promise(resolve => setTimeout(resolve, 10))
}

/** Draws progress from what the run has seen so far. */
function startProgress (o: ResolvedOptions, at: { now(): number, sent(): number, link(): string }, client: ClientTally, durable: RecordedClient): Progress | undefined {
  if (o.output === undefined) return undefined
  const progress = new Progress(o.output, o.progressInterval, () => ({
    elapsedMs: at.now(),
    total: o.messages,
    sent: at.sent(),
    delivered: client.delivered,
    reconnects: durable.linkStats().reconnects,
    heartbeatTimeouts: client.heartbeatTimeouts,
    rtt: client.lastRtt,
    link: at.link(),
    ...(o.session ? { replayed: client.replayAt.length } : {})
  }))
  progress.start()
  return progress
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
  if (o.servers > 0) await requireRedisServer()
  let startedAt = new Date()
  let started = performance.now()
  const now = (): number => performance.now() - started
  const client = newClientTally(o.messages)
  const events: TimelineEvent[] = []
  const control = runControl({ ...o, onInterrupt: () => { events.push({ type: 'interrupted', atMs: now() }) } })
  let server: EchoServer | undefined
  let group: ServerGroup | undefined
  let killing: Promise<NonNullable<ServersSummary['kill']>> | undefined
  let servers: ServersResult | undefined
  let proxy: FaultProxy | undefined
  let faults: FaultDriver | undefined
  let link: RecordedClient | undefined
  let progress: Progress | undefined
  let unrecord: (() => void) | undefined
  let error: string | undefined
  let sent = 0
  try {
    if (o.servers > 0) {
      const g = group = await startServers(o, () => performance.timeOrigin + started, (e) => { events.push(e) })
      // the run's clock starts once the servers are up: their start-up (seconds, from source) is not the run's
      startedAt = new Date()
      started = performance.now()
      proxy = await startFaultProxy({ target: id => g.choose(id), seed: o.seed })
    } else {
      server = await startServer(o, events, now)
      proxy = await startFaultProxy({ target: server.address, seed: o.seed })
    }
    unrecord = recordProxy(proxy, events, now)
    if (o.faults && !control.sending.aborted) faults = startFaults(o, proxy, (e) => { events.push(e) }, now)
    const durable = link = createRecordedClient({ ...o, host: proxy.address.host, port: proxy.port, tally: client, events, now })
    control.attach(durable, faults)
    const f = faults
    progress = startProgress(o, { now, sent: () => sent, link: () => control.interrupted ? 'stopping' : f?.state ?? 'no faults' }, client, durable)
    const killAt = o.kill !== 'none' && group !== undefined ? Math.ceil(o.messages / 2) : Infinity
    const counting = async function * (source: AsyncIterable<Frame>): AsyncGenerator<Frame> {
      for await (const frame of source) {
        // halfway: stop the server the client is on (the run goes on while it drains or dies)
        if (++sent === killAt && group !== undefined && o.kill !== 'none') killing = killServer(group, o.kill, events, now)
        yield frame
      }
    }
    // Faults stop once the last message is accepted: the drain that follows ends in a clean close.
    const onDone = (): void => { f?.stop(); events.push({ type: 'faults-stopped', atMs: now() }) }
    const writing = durable.sink(counting(produce({ ...o, signal: control.sending, onDone })))
    const reading = readEchoes(durable.source, o.messages, o.size, client, now)
    const [w, r] = await Promise.allSettled([writing, reading])
    if (w.status === 'rejected') throw w.reason
    if (r.status === 'rejected') throw r.reason
    // With a session store, a server acknowledges only what its store persisted: the echo of the last message
    // can come back before the acknowledgement of it. Close once every message is acknowledged (bounded).
    if (group !== undefined) await acknowledged(durable, sent, ACK_TIMEOUT)
    await durable.close()
  } catch (err) {
    if (!control.isStop(err)) error = `${(err as Error).name}: ${(err as Error).message}`
    link?.abort(err as Error)
  } finally {
    control.dispose()
    faults?.stop()
    progress?.stop()
    await link?.close().catch(() => {})
    const kill = await killing?.catch((err: unknown) => { error ??= `${(err as Error).name}: ${(err as Error).message}`; return undefined })
    // the client's last acknowledgements travel through the proxy: let the server read them before it goes
    await server?.settle(SETTLE_TIMEOUT)
    await group?.settle(SETTLE_TIMEOUT)
    unrecord?.()
    await proxy?.close()
    await server?.close()
    if (group !== undefined) {
      await group.close()
      try {
        servers = collectServers(group, o.messages, o.kill, kill ?? null)
      } finally {
        group.removeLedgers()
      }
    }
  }
  return summarize({
    o,
    startedAt,
    sent,
    durationMs: now(),
    error,
    interrupted: control.interrupted,
    drainCut: control.drainCut,
    client,
    server: server?.tally,
    stats: link?.linkStats(),
    session: o.session ? { client: link?.sessionStats(), server: server?.sessionReport() } : undefined,
    proxy: proxy?.stats(),
    faults: faults?.counts,
    events,
    servers
  })
}
