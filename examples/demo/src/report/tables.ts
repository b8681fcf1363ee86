import type { ConnectionRecord, Outage } from '../connections.js'
import { counterRows } from '../counters.js'
import type { Distribution } from '../distribution.js'
import type { DemoSummary, ServerNodeSummary } from '../summary.js'
import { esc, fmtAt, fmtMs, num } from './svg.js'

/** A table column: header, what it means (a tooltip), how to show a row's value, numeric or not. */
export interface Column<T> {
  header: string
  help?: string
  value: (row: T) => string
  numeric?: boolean
}

function table<T> (columns: Array<Column<T>>, rows: T[], rowClass: (row: T) => string = () => ''): string {
  const head = columns.map(c => `<th${c.numeric === true ? ' class="num"' : ''}${c.help !== undefined ? ` title="${esc(c.help)}"` : ''}>${esc(c.header)}</th>`).join('')
  const body = rows.map(row => `<tr class="${rowClass(row)}">${columns.map(c => `<td${c.numeric === true ? ' class="num"' : ''}>${c.value(row)}</td>`).join('')}</tr>`).join('')
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`
}

const zeroDim = (v: number): string => v === 0 ? '<span class="dim">0</span>' : num(v)

const up: Column<ConnectionRecord> = { header: 'up', help: 'when the connection came up, since the start', value: c => fmtAt(c.openedAtMs), numeric: true }
const life: Column<ConnectionRecord> = { header: 'life span', help: 'from coming up to being declared lost (or closed)', value: c => fmtMs(c.lifeMs), numeric: true }
const ended: Column<ConnectionRecord> = { header: 'how it ended', value: c => esc(c.ended) }
const share = (pick: (s: NonNullable<ConnectionRecord['session']>) => number) => (c: ConnectionRecord): string => c.session === null ? '–' : zeroDim(pick(c.session))

/** The connection table's columns without sessions: what each connection carried and lost. */
export const CONNECTION_COLUMNS: Array<Column<ConnectionRecord>> = [
  { header: '#', value: c => `#${c.id}` },
  up,
  life,
  { header: 'handed', help: 'messages the client handed to this connection', value: c => num(c.handed), numeric: true },
  { header: 'reached server', help: 'of those, messages the server received', value: c => num(c.receivedByServer), numeric: true },
  { header: 'delivered', help: 'echoes of this connection\'s messages that reached the client', value: c => num(c.delivered), numeric: true },
  { header: 'lost out', help: 'handed − reached server', value: c => zeroDim(c.lostOut), numeric: true },
  { header: 'lost back', help: 'echoed by the server − delivered', value: c => zeroDim(c.lostBack), numeric: true },
  ended
]

/**
 * With sessions: whether each connection opened or resumed the session, and its share of the session's
 * counters (from its coming up to the next connection's), beside what got through it.
 */
export const SESSION_CONNECTION_COLUMNS: Array<Column<ConnectionRecord>> = [
  { header: '#', value: c => `#${c.id}` },
  up,
  life,
  { header: 'session', help: 'opened the session, or resumed it where the last connection stopped', value: c => c.session === null ? '–' : c.session.resumed ? '<span class="resumed">resumed</span>' : 'opened' },
  { header: 'sent', help: 'messages the session wrote on this connection, first time or again', value: share(x => x.sent), numeric: true },
  { header: 'replayed', help: 'of those, messages written again: the last connection died before the server acknowledged them', value: share(x => x.replayed), numeric: true },
  { header: 'acked', help: 'messages the server acknowledged while this connection was up (handed to its application)', value: share(x => x.acked), numeric: true },
  { header: 'reached server', help: 'messages that reached the server\'s application through this connection', value: c => num(c.receivedByServer), numeric: true },
  { header: 'echoes back', help: 'echoes of those messages that reached the client\'s application (on whichever connection)', value: c => num(c.delivered), numeric: true },
  { header: 'dup. dropped', help: 'echoes the server replayed that the client already had: dropped by the session while this connection was up', value: share(x => x.deduplicated), numeric: true },
  ended
]

export function connectionTable (s: DemoSummary): string {
  if (s.perConnection.length === 0) return '<p class="dim">No connection was made.</p>'
  const columns = s.session !== null ? SESSION_CONNECTION_COLUMNS : CONNECTION_COLUMNS
  const withServer = s.servers === null ? columns : [columns[0], SERVER_COLUMN, ...columns.slice(1)]
  return table(withServer, s.perConnection, c => c.lost ? 'lost' : 'kept')
}

/** With `--servers`: the server each connection landed on. */
const SERVER_COLUMN: Column<ConnectionRecord> = { header: 'server', help: 'the server process this connection\'s messages reached (the proxy picks the next server for each new connection)', value: c => c.node === null ? '–' : `${c.node}`, numeric: true }

/** With `--servers`: each server process, what it received and which sessions it handed over or took. */
export function serversTable (s: DemoSummary): string {
  const v = s.servers
  if (v === null) return ''
  const k = v.kill
  const stopped = k === null
    ? v.killMode === 'none' ? 'No server was stopped (<code>--kill none</code>).' : 'No server was stopped: the run ended before halfway.'
    : `Server ${k.node} was stopped by <b>${k.signal}</b> at ${fmtAt(k.atMs)}${k.exitedAtMs !== null ? ` and was gone ${fmtMs(k.exitedAtMs - k.atMs)} later` : ''}`
      + (k.signal === 'SIGTERM'
        ? `, after handing ${num(k.drainedSessions ?? 0)} session over to Redis: the next server resumed it exactly.`
        : `: the next server recovered the session from what it had persisted; the client counted ${num(v.possibleDuplicates)} messages that might arrive twice, ${num(s.duplicated)} did.`)
      + ' It was not restarted.'
  return `<p>${v.count} session servers, each its own process, sharing sessions through the run's own redis-server (port ${v.redisPort}). ${stopped} `
    + `Handovers: ${num(v.handovers)}; sessions taken from Redis: ${num(v.restores.handover)} handed over, ${num(v.restores.recovered)} recovered.</p>`
    + table<ServerNodeSummary>([
      { header: 'server', value: x => `${x.index}` },
      { header: 'pid', value: x => `${x.pid}`, numeric: true },
      { header: 'connections', help: 'TCP connections it accepted through the proxy', value: x => num(x.connections), numeric: true },
      { header: 'received first', help: 'messages its application received that no server had before', value: x => num(x.received), numeric: true },
      { header: 'again', help: 'messages another server had received already (after a SIGKILL: sent past what was persisted)', value: x => zeroDim(x.duplicates), numeric: true },
      { header: 'handed over', help: 'sessions it handed to the next server through Redis', value: x => zeroDim(x.handedOver), numeric: true },
      { header: 'took', help: 'sessions it took from Redis: handed over exactly / recovered after a SIGKILL', value: x => `${num(x.restored.handover)} / ${num(x.restored.recovered)}`, numeric: true },
      { header: 'persists', help: 'times its Redis store wrote a changed session', value: x => num(x.store.persists), numeric: true },
      { header: 'failed / fenced', help: 'Redis commands that failed / sessions another server took from it without a handover', value: x => `${num(x.store.failures)} / ${num(x.store.fenced)}`, numeric: true },
      { header: 'stopped', value: x => x.killed ?? '–' }
    ], v.servers, x => x.killed !== null ? 'lost' : 'kept')
}

export function outageTable (s: DemoSummary): string {
  if (s.outages.length === 0) return `<p class="dim">No connection was lost${s.faults ? '' : ' (faults were off)'}.</p>`
  const consequence: Column<Outage> = s.session !== null
    ? { header: 'replayed after', help: 'messages the next connection wrote again because this one died before they were acknowledged: nothing lost', value: o => zeroDim(o.replayedAfter ?? 0), numeric: true }
    : { header: 'messages lost', help: 'lost out + lost back on this connection', value: o => zeroDim(o.lostMessages), numeric: true }
  return table([
    { header: 'connection', value: o => `#${o.connection}` },
    { header: 'fault', help: 'the last cut or black hole before the loss', value: o => `<span class="fault ${o.fault.replace(/\W+/g, '-')}">${esc(o.fault)}</span>` },
    { header: 'at', help: 'when the fault struck this connection', value: o => fmtAt(o.brokenAtMs), numeric: true },
    { header: 'noticed by', help: 'how reconnect learned the connection was gone', value: o => esc(o.detectedBy) },
    { header: 'noticed after', help: 'fault → connection declared lost', value: o => fmtMs(o.detectMs), numeric: true },
    { header: s.session !== null ? 'redial + resume' : 'redial', help: s.session !== null ? 'declared lost → next connection up, session resumed' : 'declared lost → next connection up', value: o => fmtMs(o.redialMs), numeric: true },
    { header: 'first echo after', help: 'fault → first echo after it: how long the application saw nothing come back', value: o => `<b>${fmtMs(o.totalMs)}</b>`, numeric: true },
    consequence
  ], s.outages)
}

export function checksList (s: DemoSummary): string {
  return '<ul class="checks">' + s.checks.map((c) => {
    const state = c.skipped === true ? 'skip' : c.ok ? 'ok' : 'fail'
    const mark = state === 'skip' ? '–' : state === 'ok' ? '✓' : '✗'
    return `<li class="${state}" data-check="${esc(c.name)}"><span class="mark">${mark}</span><div><b>${esc(c.name)}</b>`
      + `<span class="help">${esc(c.help)}</span><span class="detail">${esc(c.detail)}</span></div></li>`
  }).join('') + '</ul>'
}

export function percentileTable (d: Distribution): string {
  const cells: Array<[string, number]> = [['min', d.min], ['p50 (median)', d.p50], ['p90', d.p90], ['p99', d.p99], ['p99.9', d.p999], ['max', d.max]]
  return `<table class="pct"><tbody>${cells.map(([k, v]) => `<tr><th>${k}</th><td class="num">${fmtMs(v)}</td></tr>`).join('')}`
    + `<tr><th>echoes measured</th><td class="num">${num(d.count)}</td></tr></tbody></table>`
}

export function counterTable (s: DemoSummary): string {
  return '<table class="counters"><tbody>' + counterRows(s).map(r =>
    `<tr${r.sub === true ? ' class="sub"' : ''}><th>${esc(r.label)}</th><td>${esc(r.value)}</td><td class="help">${r.help !== undefined ? esc(r.help) : ''}</td></tr>`).join('')
  + '</tbody></table>'
}
