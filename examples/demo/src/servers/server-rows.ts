import type { CounterRow } from '../counters.js'
import type { DemoSummary, ServersSummary } from '../summary.js'

const n = (v: number): string => v.toLocaleString('en-US')
const s1 = (ms: number): string => `${(ms / 1000).toFixed(2)} s`

/** `--servers`: the server processes, where each connection landed, the kill, handovers and possible duplicates. */
export function serverRows (s: DemoSummary, v: ServersSummary): CounterRow[] {
  const landed = v.connectionNodes.flatMap((node, id) => id === 0 ? [] : [`#${id}→${node ?? '?'}`]).join(' ')
  const rows: CounterRow[] = [
    { label: 'servers', value: `${v.count} processes sharing sessions through redis-server :${v.redisPort}`, help: 'the proxy sends each new connection to the next running server in turn' },
    { label: 'connections landed', sub: true, value: landed === '' ? 'none' : landed, help: 'client connection → the server its messages reached' }
  ]
  for (const x of v.servers) {
    const stopped = x.killed === null ? '' : `; ${x.killed === 'SIGTERM' ? 'SIGTERMed' : 'SIGKILLed'}`
    rows.push({
      label: `server ${x.index}`,
      sub: true,
      value: `pid ${x.pid}, ${n(x.connections)} connections, ${n(x.received)} messages first here, ${n(x.duplicates)} again; `
        + `handed over ${n(x.handedOver)}, took ${n(x.restored.handover)} handed over + ${n(x.restored.recovered)} recovered; `
        + `${n(x.store.persists)} persists, ${n(x.store.failures)} failed, ${n(x.store.fenced)} fenced${stopped}`
    })
  }
  const k = v.kill
  rows.push({
    label: 'stopped',
    value: k === null
      ? v.killMode === 'none' ? 'none (--kill none)' : 'none: the run ended before halfway'
      : `server ${k.node} by ${k.signal} at ${s1(k.atMs)}${k.exitedAtMs !== null ? `, gone ${n(Math.round(k.exitedAtMs - k.atMs))} ms later` : ''}`
        + `${k.drainedSessions !== null ? `, ${n(k.drainedSessions)} session drained to Redis` : ''}; not restarted`,
    ...(k === null
      ? {}
      : {
          help: k.signal === 'SIGTERM'
            ? 'it handed its session over (GOAWAY to the client, exact state to Redis): the next server resumes it exactly'
            : 'it died at once: the next server recovered what it had persisted; what the client sent past that may arrive twice (counted)'
        })
  })
  rows.push({
    label: 'handovers',
    value: `${n(v.handovers)} handed over; taken from Redis: ${n(v.restores.handover)} exactly, ${n(v.restores.recovered)} recovered after a SIGKILL`,
    help: 'a resume on another server makes the one holding the session hand it over first'
  })
  rows.push({
    label: 'possible duplicates',
    value: `${n(v.possibleDuplicates)} counted by the client; ${n(s.duplicated)} duplicates seen`,
    help: 'messages sent past what a recovered copy had: they may reach the application twice (at-least-once at a SIGKILL)'
  })
  return rows
}
