import type { Outage } from '../connections.js'
import type { DemoSummary } from '../summary.js'
import type { TimelineEvent } from '../timeline.js'
import { areaPath, decadeTicks, el, fmtAt, fmtMs, linear, linePath, log10Scale, niceTicks, num, r1, stepPath, tickMs, tip } from './svg.js'

/** The chart's frame: a 1000-unit-wide view box, lanes on top, then the throughput and RTT panels. */
const W = 1000
const L = 90
const R = 16
const LANES = { faults: [6, 30], link: [36, 46], connections: [52, 74] } as const
const TP = { top: 94, bottom: 294 }
const RTT = { top: 314, bottom: 434 }
const H = 478

type Ev<T extends TimelineEvent['type']> = Extract<TimelineEvent, { type: T }>
const of = <T extends TimelineEvent['type']>(events: TimelineEvent[], type: T): Array<Ev<T>> => events.filter((e): e is Ev<T> => e.type === type)

/** Everything that draws needs the time scale. */
interface Frame {
  x: (ms: number) => number
  durationMs: number
}

function axes (f: Frame, yTicks: string, rttTicks: string): string {
  const ticks = niceTicks(f.durationMs / 1000, 10).filter(t => t * 1000 <= f.durationMs * 1.0001)
  const grid = ticks.map((t) => {
    const x = r1(f.x(t * 1000))
    return `<line class="grid" x1="${x}" x2="${x}" y1="${TP.top}" y2="${TP.bottom}"/><line class="grid" x1="${x}" x2="${x}" y1="${RTT.top}" y2="${RTT.bottom}"/>`
      + `<text class="tick" x="${x}" y="${RTT.bottom + 16}" text-anchor="middle">${num(t)}</text>`
  }).join('')
  const lane = (label: string, [y0, y1]: readonly [number, number]): string =>
    `<text class="lane-label" x="${L - 8}" y="${r1((y0 + y1) / 2 + 4)}" text-anchor="end">${label}</text>`
    + `<line class="lane-rule" x1="${L}" x2="${W - R}" y1="${y1}" y2="${y1}"/>`
  return grid + yTicks + rttTicks
    + `<rect class="frame" x="${L}" y="${TP.top}" width="${W - L - R}" height="${TP.bottom - TP.top}"/>`
    + `<rect class="frame" x="${L}" y="${RTT.top}" width="${W - L - R}" height="${RTT.bottom - RTT.top}"/>`
    + lane('faults', LANES.faults) + lane('link', LANES.link) + lane('connections', LANES.connections)
    + `<text class="axis-title" x="${L + (W - L - R) / 2}" y="${H - 8}" text-anchor="middle">time since start (s)</text>`
    + `<text class="axis-title" transform="translate(14 ${(TP.top + TP.bottom) / 2}) rotate(-90)" text-anchor="middle">throughput (msg/s)</text>`
    + `<text class="axis-title" transform="translate(14 ${(RTT.top + RTT.bottom) / 2}) rotate(-90)" text-anchor="middle">echo RTT (log)</text>`
}

function blackHoles (f: Frame, events: TimelineEvent[]): string {
  return of(events, 'black-hole').map((e) => {
    const x0 = f.x(e.atMs)
    const w = Math.max(2, f.x(e.endMs ?? f.durationMs) - x0)
    const title = tip(`black hole ${fmtAt(e.atMs)} – ${e.endMs === undefined ? 'end of run' : fmtAt(e.endMs)} (${fmtMs((e.endMs ?? f.durationMs) - e.atMs)}): nothing forwarded, sockets kept open`)
    return `<g data-event="black-hole">${title}`
      + `<rect class="hole-lane" x="${r1(x0)}" y="${LANES.faults[0] + 4}" width="${r1(w)}" height="${LANES.faults[1] - LANES.faults[0] - 8}"/>`
      + `<rect class="hole-band" x="${r1(x0)}" y="${TP.top}" width="${r1(w)}" height="${RTT.bottom - TP.top}"/></g>`
  }).join('')
}

function outageBands (f: Frame, outages: Outage[]): string {
  return outages.map((o) => {
    const end = o.restoredAtMs ?? o.reconnectedAtMs ?? f.durationMs
    const x0 = f.x(o.brokenAtMs)
    const title = tip(`outage of connection #${o.connection} (${o.fault}): ${fmtMs(end - o.brokenAtMs)} from ${fmtAt(o.brokenAtMs)} until the first echo after it`)
    return `<g data-outage="${o.connection}">${title}<rect class="outage" x="${r1(x0)}" y="${TP.top}" width="${r1(Math.max(1.5, f.x(end) - x0))}" height="${TP.bottom - TP.top}"/></g>`
  }).join('')
}

function cuts (f: Frame, events: TimelineEvent[]): string {
  return of(events, 'cut').map((e) => {
    const x = r1(f.x(e.atMs))
    const cls = e.mode === 'fin' ? 'cut-fin' : 'cut-reset'
    const y = LANES.faults[0] + 4
    return `<g data-event="cut" class="${cls}">${tip(`${e.mode === 'fin' ? 'FIN cut' : 'reset'} at ${fmtAt(e.atMs)}: ${e.connections} connection(s) ended`)}`
      + `<line class="cut-line" x1="${x}" x2="${x}" y1="${LANES.faults[1]}" y2="${RTT.bottom}"/>`
      + `<path class="cut-mark" d="M${r1(+x - 6)},${y}h12l-6,${LANES.faults[1] - LANES.faults[0] - 8}z"/></g>`
  }).join('')
}

/** With `--servers`: the server process stopped mid-run, a line through every panel from the signal to its exit. */
function kills (f: Frame, events: TimelineEvent[]): string {
  return of(events, 'server-killed').map((e) => {
    const x = r1(f.x(e.atMs))
    const gone = e.exitedAtMs === undefined ? 'did not exit' : `gone ${fmtMs(e.exitedAtMs - e.atMs)} later`
    return `<g data-event="server-killed" class="server-kill">${tip(`${e.signal} to server ${e.node} at ${fmtAt(e.atMs)}; ${gone}`)}`
      + `<line class="kill-line" x1="${x}" x2="${x}" y1="${LANES.faults[0]}" y2="${RTT.bottom}"/>`
      + `<text class="kill-label" x="${r1(+x + 4)}" y="${LANES.faults[0] + 10}">${e.signal} server ${e.node}</text></g>`
  }).join('')
}

function linkStrip (f: Frame, events: TimelineEvent[]): string {
  const changes = of(events, 'link')
  return changes.map((e, i) => {
    const end = changes[i + 1]?.atMs ?? f.durationMs
    const x0 = f.x(e.atMs)
    return `<rect data-event="link" class="link-${e.mode}" x="${r1(x0)}" y="${LANES.link[0]}" width="${r1(Math.max(0.5, f.x(end) - x0))}" height="${LANES.link[1] - LANES.link[0]}">`
      + `${tip(`${e.mode} from ${fmtAt(e.atMs)} to ${fmtAt(end)}`)}</rect>`
  }).join('')
}

function connectionLane (f: Frame, s: DemoSummary): string {
  const [y0, y1] = LANES.connections
  const bars = s.perConnection.map((c) => {
    const x0 = f.x(c.openedAtMs)
    const w = Math.max(1, f.x(c.closedAtMs) - x0)
    const label = w > 26 ? `<text class="conn-label" x="${r1(x0 + 4)}" y="${y1 - 7}">#${c.id}</text>` : ''
    const end = c.lost ? `<path class="conn-lost" d="M${r1(x0 + w - 4)},${y0 + 4}l8,${y1 - y0 - 8}m0,-${y1 - y0 - 8}l-8,${y1 - y0 - 8}"/>` : ''
    const x = c.session
    const carried = x === null ? `${num(c.handed)} handed` : `${x.resumed ? 'resumed the session' : 'opened the session'}, ${num(x.sent)} sent (${num(x.replayed)} again)`
    const title = tip(`connection #${c.id}: ${fmtAt(c.openedAtMs)} – ${fmtAt(c.closedAtMs)} (${fmtMs(c.lifeMs)}), ${carried}, ${num(c.delivered)} echoed back, ended: ${c.ended}`)
    return `<g data-event="connected" data-connection="${c.id}"${x === null ? '' : ` data-session="${x.resumed ? 'resumed' : 'opened'}"`}>${title}`
      + `<rect class="conn" x="${r1(x0)}" y="${y0 + 3}" width="${r1(w)}" height="${y1 - y0 - 6}" rx="3"/>${label}${end}`
      + (c.id > 1 ? `<path class="reconnect${x?.resumed === true ? ' resumed' : ''}" d="M${r1(x0)},${TP.bottom - 9}l6,9h-12z"/>` : '') + '</g>'
  }).join('')
  const hb = of(s.timeline.events, 'heartbeat-timeout').map((e) => {
    const x = f.x(e.atMs)
    const y = y1 + 8
    return `<path data-event="heartbeat-timeout" class="hb-timeout" d="M${r1(x)},${y - 5}l5,5l-5,5l-5,-5z">${tip(`${e.side} heartbeat timeout at ${fmtAt(e.atMs)}: peer silent for ${num(s.settings.heartbeatTimeout)} ms, declared dead`)}</path>`
  }).join('')
  const lost = of(s.timeline.events, 'session-lost').map((e) => {
    const x = f.x(e.atMs)
    return `<g data-event="session-lost">${tip(`${e.side} session lost at ${fmtAt(e.atMs)} (${e.reason}): ${num(e.unconfirmed)} items sent in it were never acknowledged`)}`
      + `<path class="session-lost" d="M${r1(x)},${TP.bottom - 9}l6,9h-12z"/><line class="session-lost-line" x1="${r1(x)}" x2="${r1(x)}" y1="${y0}" y2="${TP.bottom}"/></g>`
  }).join('')
  return bars + hb + lost
}

function markers (f: Frame, events: TimelineEvent[], faults: boolean): string {
  return events.filter(e => e.type === 'faults-stopped' || e.type === 'interrupted').map((e) => {
    const x = r1(f.x(e.atMs))
    const text = e.type === 'interrupted' ? 'interrupted' : faults ? 'all sent · faults off' : 'all sent'
    const anchor = f.x(e.atMs) > W - R - 140 ? 'end' : 'start'
    const dx = anchor === 'end' ? -4 : 4
    return `<g data-event="${e.type}" class="${e.type}">${tip(`${text} at ${fmtAt(e.atMs)}`)}<line x1="${x}" x2="${x}" y1="${TP.top}" y2="${RTT.bottom}"/>`
      + `<text x="${r1(+x + dx)}" y="${TP.top + 12}" text-anchor="${anchor}">${text}</text></g>`
  }).join('')
}

/**
 * Messages per second in each bucket. The last bucket may be cut short by the end of the run: its rate
 * is over the time it covered, and one shorter than half a bucket is folded into the one before it (a
 * rate over a few milliseconds says little).
 */
function rates (series: number[][], bucketMs: number, durationMs: number): { rates: number[][], span: (i: number) => number } {
  const all = series.map(c => [...c])
  const length = all[0].length
  const lastSpan = durationMs - (length - 1) * bucketMs
  const folded = length > 1 && lastSpan < bucketMs / 2
  if (folded) for (const c of all) c[c.length - 2] += c.pop() ?? 0
  const n = folded ? length - 1 : length
  const span = (i: number): number => i === n - 1 ? Math.max(1, durationMs - i * bucketMs) : bucketMs
  return { rates: all.map(c => c.map((v, i) => v * 1000 / span(i))), span }
}

function throughput (f: Frame, s: DemoSummary): { ticks: string, body: string } {
  const { bucketMs, series } = s.timeline
  const withReplays = s.session !== null
  const { rates: [out, back, replayed], span } = rates(withReplays ? [series.out, series.back, series.replayed] : [series.out, series.back], bucketMs, f.durationMs)
  const top = niceTicks(Math.max(1, ...out, ...back, ...(replayed ?? []), s.settings.rate) * 1.05, 4)
  const y = linear(0, top[top.length - 1], TP.bottom, TP.top)
  const xi = (i: number): number => f.x(i * bucketMs + span(i) / 2)
  const ticks = top.map(t => `<line class="grid" x1="${L}" x2="${W - R}" y1="${r1(y(t))}" y2="${r1(y(t))}"/>`
    + `<text class="tick" x="${L - 6}" y="${r1(y(t) + 4)}" text-anchor="end">${num(t)}</text>`).join('')
  const offered = s.settings.rate > 0
    ? `<line class="offered" x1="${L}" x2="${W - R}" y1="${r1(y(s.settings.rate))}" y2="${r1(y(s.settings.rate))}">${tip(`offered: ${num(s.settings.rate)} msg/s`)}</line>`
    : ''
  const replays = replayed === undefined
    ? ''
    : `<path class="replay-area" d="${areaPath(replayed, xi, y, TP.bottom)}"/>`
      + `<path data-series="replayed" class="replay-line" d="${linePath(replayed, xi, y)}">${tip('replayed: messages the client sent again after a resume, per second')}</path>`
  const body = offered + replays
    + `<path class="out-area" d="${areaPath(out, xi, y, TP.bottom)}"/>`
    + `<path data-series="out" class="out-line" d="${linePath(out, xi, y)}">${tip('client → server: messages the server received per second')}</path>`
    + `<path data-series="back" class="back-line" d="${linePath(back, xi, y)}">${tip('server → client: echoes the client received per second')}</path>`
  return { ticks, body }
}

function rttPanel (f: Frame, s: DemoSummary): { ticks: string, body: string } {
  const { bucketMs, series } = s.timeline
  const intervals = series.heartbeatInterval
  const values = [...series.rttMax, ...series.heartbeatRtt, ...intervals].filter((v): v is number => v !== null)
  const lo = Math.max(0.01, 10 ** Math.floor(Math.log10(Math.max(0.01, Math.min(1, ...series.rttP50.filter((v): v is number => v !== null))))))
  const hi = 10 ** Math.ceil(Math.log10(Math.max(lo * 10, ...values)))
  const y = log10Scale(lo, hi, RTT.bottom, RTT.top)
  const xi = (i: number): number => f.x(Math.min(f.durationMs, (i + 0.5) * bucketMs))
  const ticks = decadeTicks(lo, hi).map(t => `<line class="grid" x1="${L}" x2="${W - R}" y1="${r1(y(t))}" y2="${r1(y(t))}"/>`
    + `<text class="tick" x="${L - 6}" y="${r1(y(t) + 4)}" text-anchor="end">${tickMs(t)}</text>`).join('')
  const hb = series.heartbeatRtt.map((v, i) => v === null ? '' : `<circle class="hb-rtt" cx="${r1(xi(i))}" cy="${r1(y(v))}" r="2.5">${tip(`heartbeat RTT ${fmtMs(v)}`)}</circle>`).join('')
  const body = `<path data-series="rtt-max" class="rtt-max" d="${linePath(series.rttMax, xi, y)}">${tip('slowest echo in each time bucket')}</path>`
    + `<path data-series="rtt-p50" class="rtt-p50" d="${linePath(series.rttP50, xi, y)}">${tip('median echo round trip in each time bucket')}</path>` + hb
    + (intervals.some(v => v !== null) ? `<path data-series="interval" class="hb-interval" d="${stepPath(intervals, (i: number) => f.x(Math.min(f.durationMs, i * bucketMs)), (i: number) => f.x(Math.min(f.durationMs, (i + 1) * bucketMs)), y)}">${tip('the client heartbeat\'s ping interval (adaptive: shorter on a poor link, longer on a stable one)')}</path>` : '')
  return { ticks, body }
}

/**
 * The run on one time axis: faults, link mode and connection lanes on top; throughput both ways with
 * outages shaded, cuts and black holes marked through every panel; and the echo round trip below.
 */
export function timelineChart (s: DemoSummary): string {
  const durationMs = Math.max(1, s.durationMs)
  const f: Frame = { x: linear(0, durationMs, L, W - R), durationMs }
  const tp = throughput(f, s)
  const rtt = rttPanel(f, s)
  const defs = '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    + '<rect width="6" height="6" class="hatch-bg"/><line x1="0" y1="0" x2="0" y2="6" class="hatch-line"/></pattern>'
    + `<clipPath id="plot"><rect x="${L}" y="0" width="${W - L - R}" height="${H}"/></clipPath></defs>`
  return el('svg', { id: 'timeline', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Timeline of throughput, RTT, faults and connections' },
    defs,
    axes(f, tp.ticks, rtt.ticks),
    `<g clip-path="url(#plot)">${outageBands(f, s.outages)}${blackHoles(f, s.timeline.events)}${linkStrip(f, s.timeline.events)}`
    + `${tp.body}${rtt.body}${cuts(f, s.timeline.events)}${kills(f, s.timeline.events)}${connectionLane(f, s)}${markers(f, s.timeline.events, s.faults)}</g>`)
}
