import { codec } from '@proto/codec'
import { heartbeat } from '@proto/heartbeat'
import type { SessionDuplex, SessionStore } from '@proto/session'
import { SESSION_FLAG, SessionMovedError, sessionServer } from '@proto/session'
import { listen } from '@proto/transport'
import { echoChecker, newServerTally } from './echo-check.js'
import { adaptiveInterval, watchHeartbeat } from './heartbeat-events.js'
import type { EchoServer, EchoServerInit } from './server.js'
import { LISTEN } from './server.js'
import type { ServerSessionReport } from './session-summary.js'
import { serverReport } from './session-summary.js'
import type { TimelineEvent } from './timeline.js'

/** The run is over: sessions still open then (one whose client never learnt it, or an interrupted run's) are ended. */
export class RunOverError extends Error {
  static override name = 'RunOverError'
  constructor (message = 'the demo run is over: the server ends the sessions it still keeps') {
    super(message)
    this.name = 'RunOverError'
  }
}

/** One session the server's application served. */
interface Served {
  session: SessionDuplex
  /** Resolves once the session has ended (closed or failed). */
  ended: Promise<void>
  /** Why its echo stream failed, if it did. */
  error: string | undefined
  /** It left this server through the session store (handed over to another server, or drained). */
  moved: boolean
}

export interface SessionEchoServerInit extends EchoServerInit {
  /** A server session could not go on (expired, evicted, closed by the client before both directions ended). */
  onSessionLost(event: Extract<TimelineEvent, { type: 'session-lost' }>): void
  /** Where sessions are kept beyond this process (`redisStore()` with `--servers`). @default memoryStore() */
  store?: SessionStore
  /** Told of each intact message the application received for the first time, before it is echoed. */
  onReceived?(seq: number, epoch: number): void
}

/** The session echo server, with what the scale-out mode needs to report. */
export interface SessionEchoServer extends EchoServer {
  /** The report of the sessions that stayed here (did not move to another server through the store). */
  stayedReport(): ServerSessionReport
  /** The ids of the sessions that carried messages here. */
  usedIds(): string[]
}

/**
 * The demo's server with sessions: transport `listen` → `codec` → `heartbeat` (HELLO with the session
 * flag) → `sessionServer`, whose application echoes every intact message into the same session, checking
 * each one (size, checksum, duplicates, order across the whole session). A session outlives the client's
 * connections: the echoes of a message go back on whichever connection is up, and what the client had not
 * acknowledged goes again after a resume.
 */
export async function startSessionEchoServer (init: SessionEchoServerInit): Promise<SessionEchoServer> {
  const tally = newServerTally(init.messages)
  const check = echoChecker(tally, init.messages, init.size, init.now, init.onReceived)
  const sessions = sessionServer({
    ...(init.store !== undefined ? { store: init.store } : {}),
    stack: (conn) => {
      const link = heartbeat(codec(conn), { interval: init.heartbeatInterval, timeout: init.heartbeatTimeout, hello: true, helloFlags: SESSION_FLAG, adaptiveInterval: adaptiveInterval(init.heartbeatInterval, init.heartbeatTimeout) })
      watchHeartbeat(link, { timeout: () => { tally.heartbeatTimeouts++; init.onHeartbeatTimeout() } })
      return link
    }
  })
  const served: Served[] = []
  const known = new WeakSet<SessionDuplex>()
  sessions.addEventListener('session', ({ detail: session }) => {
    // a session is served once: with a store, two RESUMEs racing to restore the same session may both
    // announce it (the second waited for the first's restore)
    if (known.has(session)) return
    known.add(session)
    session.addEventListener('session-lost', ({ detail }) => {
      init.onSessionLost({ type: 'session-lost', atMs: init.now(), side: 'server', reason: detail.reason, unconfirmed: detail.unconfirmed })
    })
    const ended = new Promise<void>((resolve) => {
      session.addEventListener('closed', () => { resolve() })
      session.addEventListener('failed', () => { resolve() })
    })
    const entry: Served = { session, ended, error: undefined, moved: false }
    served.push(entry)
    // echo for as long as the session lives; a session that fails (lost, or ended by the run) is recorded;
    // one that moved to another server through the store goes on there
    session.sink(check(session.source)).catch((err: unknown) => {
      if (err instanceof SessionMovedError) entry.moved = true
      else if (!(err instanceof RunOverError)) entry.error = `${(err as Error).name}: ${(err as Error).message}`
    })
  })
  const server = await listen(LISTEN, async (conn) => {
    tally.connections++
    await sessions.handle(conn)
  })
  const { address, port } = server.address as { address: string, port: number }
  return {
    address: { host: address, port },
    tally,
    sessionReport: () => serverReport(served.map(s => s.session.stats()), sessions.stats(), served.flatMap(s => s.error ?? [])),
    stayedReport: () => {
      const stayed = served.filter(s => !s.moved)
      return serverReport(stayed.map(s => s.session.stats()), sessions.stats(), stayed.flatMap(s => s.error ?? []))
    },
    usedIds: () => served.flatMap(s => s.session.stats().delivered > 0 ? s.session.stats().id ?? [] : []),
    settle: async (timeout) => {
      // sessions that never carried anything (their client never learnt them) do not end by themselves
      const used = served.filter(s => s.session.stats().link.accepted > 0 || s.session.stats().delivered > 0)
      let timer: NodeJS.Timeout | undefined
      await Promise.race([Promise.all(used.map(async (s) => { await s.ended })), new Promise((resolve) => { timer = setTimeout(resolve, timeout) })])
      clearTimeout(timer)
    },
    close: async () => {
      sessions.abort(new RunOverError())
      await server.close({ deadline: 1_000 })
    }
  }
}
