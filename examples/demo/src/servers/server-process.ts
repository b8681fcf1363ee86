/**
 * One of the demo's server processes (`npm run demo -- --servers N`): the same session echo server as
 * the single-process demo, on a Redis session store shared with the other servers, so the client's
 * session resumes on whichever server its next connection lands on. Every message its application takes
 * is written to its ledger first (a synchronous write: it survives a SIGKILL).
 *
 * On SIGTERM it drains: every session it holds is handed to the store (its client is told to resume
 * elsewhere), it reports, closes and exits. Run by `servers.ts`; configured by `DEMO_SERVER` (JSON).
 */
import { redisStore } from '@proto/session-redis'
import { startSessionEchoServer } from '../session-server.js'
import type { TimelineEvent } from '../timeline.js'
import { openLedger } from './ledger.js'
import type { FromServer, ServerProcessConfig, ServerProcessReport, ToServer } from './protocol.js'
import { REPORT_INTERVAL } from './protocol.js'

const config = JSON.parse(process.env.DEMO_SERVER ?? 'null') as ServerProcessConfig | null
if (config === null || process.send === undefined) throw new Error('expected to be started by the demo (--servers), with DEMO_SERVER set and an IPC channel')
const send = (m: FromServer): void => { process.send?.(m) }
/** Times go to the demo on the clock every process shares; it counts them from the run's start. */
const now = (): number => performance.timeOrigin + performance.now()
const event = (e: TimelineEvent): void => { send({ type: 'event', event: e }) }

/** Sessions live as long as the single-process demo's (the session server's default `ttl`); a server is taken for dead 1 s after its last liveness write. */
const store = redisStore({ redis: config.redisUrl, prefix: config.prefix, nodeId: `server-${config.index}-${process.pid}`, nodeTtl: 1_000, handoverTimeout: 500 })
await store.ready()
const ledger = openLedger(config.ledger)
const server = await startSessionEchoServer({
  ...config,
  now,
  store,
  onReceived: (seq, epoch) => { ledger.record(seq, epoch, now()) },
  onHeartbeatTimeout: () => { event({ type: 'heartbeat-timeout', atMs: now(), side: 'server' }) },
  onSessionLost: event
})
store.addEventListener('handed-over', ({ detail }) => { event({ type: 'handover', atMs: now(), node: config.index, kind: 'handed-over', items: detail.items }) })
store.addEventListener('restored', ({ detail }) => { event({ type: 'handover', atMs: now(), node: config.index, kind: detail.origin, items: 0 }) })

function report (): ServerProcessReport {
  const s = store.stats()
  return {
    connections: server.tally.connections,
    heartbeatTimeouts: server.tally.heartbeatTimeouts,
    corrupted: server.tally.corrupted,
    session: server.sessionReport() ?? server.stayedReport(),
    stayed: server.stayedReport(),
    usedIds: server.usedIds(),
    handedOver: s.handedOver,
    restored: s.restored,
    store: { persists: s.persists, failures: s.failures, fenced: s.fenced }
  }
}
const reporting = setInterval(() => { send({ type: 'report', report: report() }) }, REPORT_INTERVAL)

const orphaned = (): void => { void server.close().finally(() => { process.exit(0) }) }

async function close (): Promise<void> {
  clearInterval(reporting)
  process.off('disconnect', orphaned)
  await server.close()
  await store.close()
  ledger.close()
  process.exit(0)
}

process.on('message', (m: ToServer) => {
  if (m.type === 'settle') void server.settle(m.timeout).then(() => { send({ type: 'settled', report: report() }) })
  else if (m.type === 'close') void close()
})
process.once('SIGTERM', () => {
  store.drain().then(async (sessions) => {
    send({ type: 'drained', sessions, report: report() })
    await close()
  }, (err: unknown) => {
    process.stderr.write(`demo server ${config.index}: the drain failed: ${(err as Error).message}\n`)
    process.exit(1)
  })
})
// the demo went away without closing this server (it was killed): end the sessions and go too
process.once('disconnect', orphaned)
send({ type: 'ready', port: server.address.port, nodeId: store.nodeId })
