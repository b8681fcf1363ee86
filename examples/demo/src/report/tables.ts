import { CHECK_HELP } from '../checks.js'
import type { ConnectionRecord } from '../connections.js'
import { counterRows } from '../counters.js'
import type { Distribution } from '../distribution.js'
import type { DemoSummary } from '../summary.js'
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

/**
 * The connection table's columns. Per-connection counters added later (acknowledged, replayed,
 * de-duplicated, resumed) become more entries here.
 */
export const CONNECTION_COLUMNS: Array<Column<ConnectionRecord>> = [
  { header: '#', value: c => `#${c.id}` },
  { header: 'up', help: 'when the connection came up, since the start', value: c => fmtAt(c.openedAtMs), numeric: true },
  { header: 'life span', help: 'from coming up to being declared lost (or closed)', value: c => fmtMs(c.lifeMs), numeric: true },
  { header: 'handed', help: 'messages the client handed to this connection', value: c => num(c.handed), numeric: true },
  { header: 'reached server', help: 'of those, messages the server received', value: c => num(c.receivedByServer), numeric: true },
  { header: 'delivered', help: 'echoes of this connection\'s messages that reached the client', value: c => num(c.delivered), numeric: true },
  { header: 'lost out', help: 'handed − reached server', value: c => zeroDim(c.lostOut), numeric: true },
  { header: 'lost back', help: 'echoed by the server − delivered', value: c => zeroDim(c.lostBack), numeric: true },
  { header: 'how it ended', value: c => esc(c.ended) }
]

export function connectionTable (s: DemoSummary): string {
  if (s.perConnection.length === 0) return '<p class="dim">No connection was made.</p>'
  return table(CONNECTION_COLUMNS, s.perConnection, c => c.lost ? 'lost' : 'kept')
}

export function outageTable (s: DemoSummary): string {
  if (s.outages.length === 0) return `<p class="dim">No connection was lost${s.faults ? '' : ' (faults were off)'}.</p>`
  return table([
    { header: 'connection', value: o => `#${o.connection}` },
    { header: 'fault', help: 'the last cut or black hole before the loss', value: o => `<span class="fault ${o.fault.replace(/\W+/g, '-')}">${esc(o.fault)}</span>` },
    { header: 'at', help: 'when the fault struck this connection', value: o => fmtAt(o.brokenAtMs), numeric: true },
    { header: 'noticed by', help: 'how reconnect learned the connection was gone', value: o => esc(o.detectedBy) },
    { header: 'noticed after', help: 'fault → connection declared lost', value: o => fmtMs(o.detectMs), numeric: true },
    { header: 'redial', help: 'declared lost → next connection up', value: o => fmtMs(o.redialMs), numeric: true },
    { header: 'first echo after', help: 'fault → first echo after it: how long the application saw nothing come back', value: o => `<b>${fmtMs(o.totalMs)}</b>`, numeric: true },
    { header: 'messages lost', help: 'lost out + lost back on this connection', value: o => zeroDim(o.lostMessages), numeric: true }
  ], s.outages)
}

export function checksList (s: DemoSummary): string {
  return '<ul class="checks">' + s.checks.map((c) => {
    const state = c.skipped === true ? 'skip' : c.ok ? 'ok' : 'fail'
    const mark = state === 'skip' ? '–' : state === 'ok' ? '✓' : '✗'
    const help = CHECK_HELP[c.name]
    return `<li class="${state}" data-check="${esc(c.name)}"><span class="mark">${mark}</span><div><b>${esc(c.name)}</b>`
      + `${help !== undefined ? `<span class="help">${esc(help)}</span>` : ''}<span class="detail">${esc(c.detail)}</span></div></li>`
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
