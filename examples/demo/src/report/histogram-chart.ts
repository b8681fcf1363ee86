import type { Distribution } from '../distribution.js'
import { el, fmtMs, linear, log10Scale, logTicks, niceTicks, num, r1, tickMs, tip } from './svg.js'

const W = 520
const H = 260
const L = 56
const R = 16
const TOP = 34
const BOTTOM = 216

/** Bars shorter than this get their count written above them, so a thin tail stays visible. */
const LABEL_BELOW_PX = 14

/** Grid lines at 1, 2 and 5 × 10^n ms; labels where there is room (at least 40 units from the last one). */
function timeTicks (lo: number, hi: number, x: (v: number) => number): string {
  let lastLabel = -Infinity
  return logTicks(lo, hi).map((t) => {
    const px = x(t)
    const room = px - lastLabel >= 40
    if (room) lastLabel = px
    return `<line class="grid" x1="${r1(px)}" x2="${r1(px)}" y1="${TOP}" y2="${BOTTOM}"/>`
      + (room ? `<text class="tick" x="${r1(px)}" y="${BOTTOM + 16}" text-anchor="${px > W - R - 20 ? 'end' : 'middle'}">${tickMs(t)}</text>` : '')
  }).join('')
}

function percentileMarks (d: Distribution, x: (v: number) => number): string {
  const marks: Array<[string, number]> = [['p50', d.p50], ['p90', d.p90], ['p99', d.p99], ['max', d.max]]
  let lastX = -Infinity
  let row = 0
  return marks.map(([name, v]) => {
    const px = x(v)
    row = px - lastX < 26 ? row + 1 : 0
    lastX = px
    const ty = TOP - 6 - row * 11
    const anchor = px > W - R - 14 ? 'end' : 'middle'
    return `<g data-mark="${name}" class="mark mark-${name}">${tip(`${name} ${fmtMs(v)}`)}<line x1="${r1(px)}" x2="${r1(px)}" y1="${TOP}" y2="${BOTTOM}"/>`
      + `<text x="${r1(px)}" y="${ty}" text-anchor="${anchor}">${name}</text></g>`
  }).join('')
}

/**
 * The echo round trip as a histogram on a log time axis (four bins per decade), with the median, p90,
 * p99 and the maximum marked.
 */
export function histogramChart (d: Distribution, id: string): string {
  const { edges, counts } = d.histogram
  if (d.count === 0) {
    return el('svg', { id, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'no samples' },
      `<text class="empty" x="${W / 2}" y="${H / 2}" text-anchor="middle">no samples</text>`)
  }
  const lo = edges[0]
  const hi = edges[edges.length - 1]
  const x = log10Scale(lo, hi, L, W - R)
  const yTicks = niceTicks(Math.max(...counts), 4)
  const y = linear(0, yTicks[yTicks.length - 1], BOTTOM, TOP)
  const grid = yTicks.map(t => `<line class="grid" x1="${L}" x2="${W - R}" y1="${r1(y(t))}" y2="${r1(y(t))}"/>`
    + `<text class="tick" x="${L - 6}" y="${r1(y(t) + 4)}" text-anchor="end">${num(t)}</text>`).join('')
  + timeTicks(lo, hi, x)
  const bars = counts.map((c, i) => {
    if (c === 0) return ''
    const x0 = x(edges[i]) + 0.5
    const w = Math.max(1, x(edges[i + 1]) - x(edges[i]) - 1)
    const h = Math.max(1.5, BOTTOM - y(c))
    const label = h < LABEL_BELOW_PX ? `<text class="bar-label" x="${r1(x0 + w / 2)}" y="${r1(BOTTOM - h - 3)}" text-anchor="middle">${num(c)}</text>` : ''
    return `<g data-bin="${i}">${tip(`${fmtMs(edges[i])} – ${fmtMs(edges[i + 1])}: ${num(c)} echoes (${(100 * c / d.count).toFixed(1)} %)`)}`
      + `<rect class="bar" x="${r1(x0)}" y="${r1(BOTTOM - h)}" width="${r1(w)}" height="${r1(h)}"/>${label}</g>`
  }).join('')
  return el('svg', { id, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Histogram of echo round-trip times' },
    grid,
    `<rect class="frame" x="${L}" y="${TOP}" width="${W - L - R}" height="${BOTTOM - TOP}"/>`,
    bars,
    percentileMarks(d, x),
    `<text class="axis-title" x="${L + (W - L - R) / 2}" y="${H - 8}" text-anchor="middle">round trip (log scale)</text>`,
    `<text class="axis-title" transform="translate(14 ${(TOP + BOTTOM) / 2}) rotate(-90)" text-anchor="middle">echoes</text>`)
}
