import { deliveryMode } from '../format-summary.js'
import type { DemoSummary } from '../summary.js'
import { histogramChart } from './histogram-chart.js'
import { STYLE } from './style.js'
import { esc, fmtMs, num } from './svg.js'
import { checksList, connectionTable, counterTable, outageTable, percentileTable, serversTable } from './tables.js'
import { timelineChart } from './timeline-chart.js'

const BADGE = { pass: 'PASS', fail: 'FAIL', interrupted: 'INTERRUPTED', error: 'ERROR' } as const

/** What each section says it shows, with sessions and without. */
const HINTS = {
  session: {
    outages: 'Each connection lost: the fault that broke it, how reconnect noticed, how long the redial and the resume took, when echoes flowed again, and how many messages the next connection sent again.',
    guarantees: 'What @proto/session documents: every message and every echo handed to the other side\'s application exactly once and in order, across reconnects, and both ledgers exact. Checked message by message.',
    connections: 'Every connection the client made: whether it opened or resumed the session, its share of the session\'s counters (from coming up until the next connection came up), what got through it, and how it ended.',
    rtt: 'From first handing a message to a connection to its echo arriving. Echoes on a healthy link come back within milliseconds; a message held up by an outage is not lost with sessions: it waits for the resume and counts with the outage\'s length, so the outages make the tail (and, under dense faults, the median).'
  },
  plain: {
    outages: 'Each connection lost: the fault that broke it, how reconnect noticed, how long the redial took and when echoes flowed again.',
    guarantees: 'What @proto documents for delivery across reconnects without sessions (at-most-once, in order, every loss counted), checked message by message.',
    connections: 'Every connection the client made, what it carried and how it ended.',
    rtt: 'From handing a message to a connection to its echo arriving. Most echoes come back within milliseconds; messages held up by an outage (a black hole, a redial) make the tail; those lost are not measured.'
  }
} as const

function verdict (s: DemoSummary): string {
  const broken = s.checks.filter(c => !c.ok).map(c => c.name)
  switch (s.outcome) {
    case 'pass':
      if (s.session !== null) {
        const x = s.session
        const killed = s.servers?.kill?.signal === 'SIGKILL'
        const once = killed
          ? `none lost and in order (a server was SIGKILLed: ${num(s.duplicated)} arrived twice, within the ${num(s.servers?.possibleDuplicates ?? 0)} the client counted as possible)`
          : 'each exactly once and in order'
        return `Every documented guarantee held: all ${num(s.sent)} messages reached the server's application and their echoes the client's, ${once}, `
          + `across ${num(s.reconnects)} reconnect${s.reconnects === 1 ? '' : 's'} (${num(x.client.resumes)} resumed the session); `
          + `${num(x.client.replayed + x.server.replayed)} were sent again after an outage and ${num(x.client.deduplicated + x.server.deduplicated)} duplicates dropped on the way.`
      }
      return s.lost === 0
        ? 'Every documented guarantee held, and every message made the round trip.'
        : `Every documented guarantee held: nothing duplicated, reordered or corrupted, and each of the ${num(s.lost)} messages lost in flight is within reconnect's own count.`
    case 'fail': return `A guarantee was broken: ${broken.join(', ')}.`
    case 'interrupted':
      return `Stopped early after ${(s.durationMs / 1000).toFixed(1)} s. The counts and checks cover the ${num(s.sent)} messages sent until then; every guarantee checked held.`
    case 'error': return `The run failed: ${s.error ?? 'unknown error'}.`
  }
}

const tile = (k: string, v: string, sub: string): string => `<div class="tile"><div class="k">${k}</div><div class="v">${v}</div><div class="s">${sub}</div></div>`

/** The second tile: what was lost without sessions; what the session sent again and dropped as duplicates with them. */
function deliveryTile (s: DemoSummary): string {
  if (s.session === null) return tile('lost in flight', num(s.lost), `${num(s.lostUp)} out · ${num(s.lostDown)} back`)
  const { client: c, server: srv } = s.session
  return tile('replayed', num(c.replayed + srv.replayed), `${num(c.replayed)} out · ${num(srv.replayed)} back · ${num(c.deduplicated + srv.deduplicated)} duplicates dropped`)
}

function tiles (s: DemoSummary): string {
  const p = s.proxy
  const totals = s.outages.map(o => o.totalMs).filter((v): v is number => v !== undefined).sort((a, b) => a - b)
  const outage = totals.length === 0 ? 'no outage' : `outage median ${fmtMs(totals[(totals.length - 1) >> 1])} · max ${fmtMs(totals[totals.length - 1])}`
  const share = `${s.sent === 0 ? '–' : (100 * s.delivered / s.sent).toFixed(1)} % of ${num(s.sent)} sent`
  return '<section class="tiles">'
    + tile('delivered', num(s.delivered), s.session !== null ? `${share} · ${num(s.lost)} lost` : share)
    + deliveryTile(s)
    + tile('faults', s.faults ? `${num(p.cuts)} cuts · ${num(p.blackHoles)} holes` : 'off', s.faults ? `${num(p.finCuts)} FIN · ${num(p.resetCuts)} reset · ${num(p.linkChanges)} link switches` : 'a clean link')
    + tile('reconnects', num(s.reconnects), s.session !== null ? `${num(s.session.client.resumes)} resumed · ${outage}` : outage)
    + tile('echo RTT p50', fmtMs(s.rtt.echoP50), `p99 ${fmtMs(s.rtt.echoP99)} · max ${fmtMs(s.rtt.echo.max)}`)
    + tile('throughput', `${num(Math.round(s.throughput.messagesPerSecond))}/s`, `${(s.throughput.bytesPerSecond / 1e6).toFixed(2)} MB/s · ${(s.durationMs / 1000).toFixed(1)} s`)
    + '</section>'
}

function legend (s: DemoSummary): string {
  const item = (swatch: string, text: string): string => `<span>${swatch}${text}</span>`
  const sw = (style: string, cls = ''): string => `<i class="sw ${cls}" style="${style}"></i>`
  return '<div class="legend">'
    + item(sw('background:var(--out)', 'line'), 'client → server (msg/s)')
    + item(sw('background:repeating-linear-gradient(90deg,var(--back) 0 5px,transparent 5px 7px)', 'line'), 'server → client (msg/s)')
    + (s.settings.rate > 0 ? item(sw('background:repeating-linear-gradient(90deg,var(--dim) 0 2px,transparent 2px 6px)', 'line'), `offered ${num(s.settings.rate)} msg/s`) : '')
    + (s.session !== null ? item(sw('background:var(--replay)'), 'replayed: sent again after a resume (msg/s)') : '')
    + item(sw('border-top:9px solid var(--fin)', 'tri'), 'FIN cut') + item(sw('border-top:9px solid var(--reset)', 'tri'), 'reset')
    + item(sw('background:var(--hole)'), 'black hole') + item(sw('background:var(--outage);outline:1px solid rgba(220,38,38,.3)'), 'outage: fault → first echo after')
    + item(sw('background:var(--frag)'), 'fragmenting') + item(sw('background:var(--coal)'), 'coalescing')
    + item(sw('background:var(--conn)'), 'connection alive') + item(sw('border-bottom:9px solid var(--pass)', 'tri'), s.session !== null ? 'reconnect, session resumed' : 'reconnect')
    + (s.timeline.events.some(e => e.type === 'session-lost') ? item(sw('border-bottom:9px solid var(--reset)', 'tri'), 'session lost') : '')
    + item(sw('background:var(--hb);width:9px;height:9px;transform:rotate(45deg)'), 'heartbeat timeout')
    + (s.timeline.events.some(e => e.type === 'server-killed') ? item(sw('background:var(--reset)', 'line'), 'server process stopped (--kill)') : '')
    + item(sw('background:var(--rtt)', 'line'), 'echo RTT median') + item(sw('background:var(--rtt-max)', 'line'), 'slowest echo')
    + (s.interval.first !== null ? item(sw('background:repeating-linear-gradient(90deg,var(--hb) 0 5px,transparent 5px 8px)', 'line'), 'heartbeat ping interval') : '')
    + '</div>'
}

function heartbeatNote (s: DemoSummary): string {
  const hb = s.rtt.heartbeat
  const text = hb.count === 0
    ? `No heartbeat round trip was measured: a ping goes out only after ${num(s.settings.heartbeatInterval)} ms without sending, and the stream kept the link busy.`
    : `Heartbeat pings (sent only when the link was idle for ${num(s.settings.heartbeatInterval)} ms): ${num(hb.count)} round trips, median ${fmtMs(hb.p50)}, p99 ${fmtMs(hb.p99)}.`
  const iv = s.interval
  const interval = iv.first === null || iv.min === null || iv.max === null
    ? ''
    : iv.changes === 0
      ? ` The ping interval stayed at ${num(iv.first)} ms.`
      : ` The ping interval (dashed) changed ${num(iv.changes)} ${iv.changes === 1 ? 'time' : 'times'} between ${num(iv.min)} and ${num(iv.max)} ms (${Object.entries(iv.reasons).map(([r, n]) => `${r} ${num(n)}`).join(', ')}), ending at ${num(iv.last ?? iv.first)} ms.`
  return `<p class="hint" style="margin-top:12px">${esc(text + interval)}</p>`
}

function replayCommand (s: DemoSummary): string {
  const range = (r: readonly [number, number] | null): string => r === null ? '0' : r[0] === r[1] ? String(r[0]) : `${r[0]}-${r[1]}`
  const args = [`--seed ${s.seed}`, `--messages ${s.messages}`, `--size ${s.size}`, `--rate ${s.settings.rate}`]
  if (s.session === null) args.push('--no-session')
  if (s.servers !== null) args.push(`--servers ${s.servers.count}`, `--kill ${s.servers.kill?.mode ?? 'none'}`)
  if (!s.faults) args.push('--no-faults')
  else args.push(`--cut-every ${range(s.settings.cutEvery)}`, `--blackhole-every ${range(s.settings.blackHoleEvery)}`, `--blackhole-for ${range(s.settings.blackHoleFor)}`)
  return `npm run demo -- ${args.join(' ')}`
}

/**
 * The run as one self-contained HTML page: outcome first, then a timeline of throughput, RTT, faults and
 * connections, the outages, the RTT histogram, the guarantees, the connections and every counter. Charts
 * are inline SVG; no script runs and nothing is fetched (a Content-Security-Policy forbids it). The
 * summary is embedded as JSON (`<script type="application/json" id="demo-data">`) for tools.
 */
export function renderReport (s: DemoSummary): string {
  const started = s.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')
  const data = JSON.stringify(s).replace(/</g, '\\u003c')
  const mode = s.session !== null ? 'session' : 'plain'
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>@proto demo — ${BADGE[s.outcome]} — seed ${s.seed}</title><style>${STYLE}</style></head>
<body><main>
<header class="${s.outcome}" data-outcome="${s.outcome}"><div class="badge">${BADGE[s.outcome]}</div><div>
<h1>@proto demo${s.interrupted ? ' — partial run' : ''}</h1><p class="verdict">${esc(verdict(s))}</p>
<p class="meta">${esc(deliveryMode(s))} · seed ${s.seed} · ${num(s.messages)} × ${s.size} B${s.settings.rate > 0 ? ` at ${num(s.settings.rate)} msg/s` : ', as fast as possible'} · ${(s.durationMs / 1000).toFixed(1)} s · started ${esc(started)}</p>
</div></header>
${tiles(s)}
<section><h2>Timeline</h2><p class="hint">Throughput both ways, with every fault, outage and reconnect on the same time axis; the echo round trip below. Hover any mark for details.</p>
${legend(s)}${timelineChart(s)}</section>
<section><h2>Outages</h2><p class="hint">${esc(HINTS[mode].outages)}</p>${outageTable(s)}</section>
<section><h2>Guarantees</h2><p class="hint">${esc(HINTS[mode].guarantees)}</p>${checksList(s)}</section>
${s.servers !== null ? `<section><h2>Servers</h2>${serversTable(s)}</section>` : ''}
<section><h2>Echo round trip</h2><div class="rtt"><div>${histogramChart(s.rtt.echo, 'rtt-histogram')}</div>
<div><p class="hint">${esc(HINTS[mode].rtt)}</p>
${percentileTable(s.rtt.echo)}${heartbeatNote(s)}</div></div></section>
<section><h2>Connections</h2><p class="hint">${esc(HINTS[mode].connections)}</p>${connectionTable(s)}</section>
<section><h2>Counters</h2>${counterTable(s)}</section>
<footer><p>Replay this fault schedule: <code>${esc(replayCommand(s))}</code> (the schedule is fixed by the seed; network timing is not).</p>
<p>Heartbeat ${num(s.settings.heartbeatInterval)} ms / timeout ${num(s.settings.heartbeatTimeout)} ms. The data behind this page is embedded as JSON (<code>#demo-data</code>).</p></footer>
</main>
<script type="application/json" id="demo-data">${data}</script>
</body></html>
`
}
