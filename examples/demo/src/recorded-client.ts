import type { Frame } from '@proto/codec'
import type { DurableDuplex, ReconnectStats } from '@proto/reconnect'
import type { SessionStats } from '@proto/session'
import type { ClientInit } from './client.js'
import { createClient } from './client.js'
import { describeDisconnect } from './connections.js'
import { watchHeartbeat } from './heartbeat-events.js'
import { readMessage } from './message.js'
import { createSessionClient } from './session-client.js'
import type { TimelineEvent } from './timeline.js'
import type { ClientTally, SessionMark } from './traffic.js'
import { recordHanded } from './traffic.js'

export interface RecordedClientInit {
  host: string
  port: number
  size: number
  /** With `@proto/session` (exactly once) or without (reconnect alone: at most once). */
  session: boolean
  heartbeatInterval: number
  heartbeatTimeout: number
  /** What the client saw, filled in as it happens. */
  tally: ClientTally
  events: TimelineEvent[]
  /** Milliseconds since the start of the run. */
  now(): number
}

/** The client as the run drives it, with or without sessions. */
export interface RecordedClient {
  readonly source: AsyncIterable<Frame>
  sink(source: AsyncIterable<Frame>): Promise<void>
  close(): Promise<void>
  abort(err: Error): void
  /** Reconnect's counters (with sessions, those of the durable duplex under the session). */
  linkStats(): ReconnectStats
  /** The session's counters; `undefined` without sessions. */
  sessionStats(): SessionStats | undefined
}

/** The client session's counters that are shared out between its connections. */
export function sessionMark (s: SessionStats): Omit<SessionMark, 'resumed'> {
  return { written: s.sent, replayed: s.resent, acked: s.link.confirmed, deduplicated: s.deduplicated }
}

/**
 * The demo's client stack with everything it does recorded: each connection's number, when it came up
 * (and whether it resumed the session) and how it was lost, each message handed to it (first time or
 * again), each heartbeat timeout and RTT sample, each session loss.
 */
export function createRecordedClient (init: RecordedClientInit): RecordedClient {
  const { tally: t, events, now } = init
  const hooks: ClientInit = {
    host: init.host,
    port: init.port,
    heartbeatInterval: init.heartbeatInterval,
    heartbeatTimeout: init.heartbeatTimeout,
    onLink: (hb) => {
      watchHeartbeat(hb, {
        timeout: () => { t.heartbeatTimeouts++; events.push({ type: 'heartbeat-timeout', atMs: now(), side: 'client' }) },
        rtt: (rtt) => { t.heartbeatAt.push(now()); t.heartbeatRtt.push(rtt) },
        interval: (interval, reason) => { t.intervalAt.push(now()); t.interval.push(interval); t.intervalReason.push(reason) }
      })
    },
    onHanded: (body, epoch) => { recordHanded(t, readMessage(body, init.size).seq, epoch, now()) }
  }
  const sessions = init.session ? createSessionClient(hooks) : undefined
  const client = sessions ?? createClient(hooks)
  const durable: Pick<DurableDuplex<Frame>, 'source' | 'sink' | 'close' | 'abort' | 'addEventListener'> = client.duplex
  const linkStats = (): ReconnectStats => sessions?.duplex.stats().link ?? (client.duplex as DurableDuplex<Frame>).stats()
  const sessionStats = (): SessionStats | undefined => sessions?.duplex.stats()
  let resumed: boolean | undefined
  if (sessions !== undefined) {
    const session = sessions.duplex
    session.addEventListener('open', () => { resumed = false })
    session.addEventListener('resumed', () => { resumed = true })
    session.addEventListener('session-lost', ({ detail }) => {
      events.push({ type: 'session-lost', atMs: now(), side: 'client', reason: detail.reason, unconfirmed: detail.unconfirmed })
    })
  }
  let epoch = 0
  durable.addEventListener('connected', (e) => {
    if (client.current === epoch) return // not a new connection (a session already complete needs none)
    epoch = t.connections = client.current
    const s = sessionStats()
    if (s !== undefined) t.sessionAt[epoch] = { resumed: resumed === true, ...sessionMark(s) }
    events.push({ type: 'connected', atMs: now(), connection: epoch, attempt: e.detail.attempt, ...(s !== undefined ? { resumed: resumed === true } : {}) })
    resumed = undefined
  })
  durable.addEventListener('disconnected', (e) => {
    t.lostEpochs.add(epoch)
    const { reason, error } = e.detail
    events.push({ type: 'disconnected', atMs: now(), connection: epoch, reason, error: error === undefined ? undefined : `${error.name}: ${error.message}`, cause: describeDisconnect(reason, error) })
  })
  return {
    source: durable.source,
    sink: async (source) => { await durable.sink(source) },
    close: async () => { await durable.close() },
    abort: (err) => { durable.abort(err) },
    linkStats,
    sessionStats
  }
}
