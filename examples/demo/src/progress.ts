import type { Output } from './options.js'
import type { StatusBar, StatusField } from './status-line.js'
import { fitStatusLine } from './status-line.js'

/** What the progress display shows. */
export interface ProgressSnapshot {
  elapsedMs: number
  total: number
  sent: number
  delivered: number
  reconnects: number
  heartbeatTimeouts: number
  /** The recent echo round trip, in ms. */
  rtt: number | undefined
  /** What the link is doing: 'fragmenting', 'coalescing', 'BLACK HOLE', 'draining, …', 'stopping', 'no faults'. */
  link: string
  /** With sessions: messages sent again after a resume so far. */
  replayed?: number
}

/** Columns assumed when a terminal does not say. */
const DEFAULT_COLUMNS = 80

const n = (v: number): string => v.toLocaleString('en-US')
const rttText = (rtt: number | undefined): string => rtt === undefined ? '-' : `${rtt.toFixed(rtt < 10 ? 1 : 0)} ms`

/** The live line's fields, most important first by priority: progress, link state, RTT, reconnects, rate, counts, replays. */
export function statusFields (s: ProgressSnapshot, rate: number, color: boolean): Array<StatusField | StatusBar> {
  const paint = (code: string) => (text: string): string => color ? `\x1b[${code}m${text}\x1b[0m` : text
  const hole = s.link === 'BLACK HOLE'
  const linkShort = s.link.startsWith('draining') ? 'draining' : s.link
  return [
    { priority: 0, long: `${String(Math.floor(100 * s.sent / s.total)).padStart(3)}%` },
    { priority: 5, ratio: s.sent / s.total, min: 8, max: 30, color },
    { priority: 6, long: `${n(s.sent)}/${n(s.total)} sent`, short: `${s.sent}/${s.total}` },
    { priority: 7, long: `${n(s.delivered)} echoed`, short: `${s.delivered} back` },
    { priority: 4, long: `${n(Math.round(rate))} msg/s`, short: `${Math.round(rate)}/s` },
    { priority: 2, long: `rtt ${rttText(s.rtt)}`, short: rttText(s.rtt).replace(' ', '') },
    { priority: 3, long: `reconnects ${s.reconnects}`, short: `rc ${s.reconnects}` },
    ...(s.replayed !== undefined ? [{ priority: 7.5, long: `replayed ${n(s.replayed)}`, short: `rp ${s.replayed}` }] : []),
    { priority: 8, long: `hb timeouts ${s.heartbeatTimeouts}`, short: `hb ${s.heartbeatTimeouts}` },
    { priority: 1, long: `link ${s.link}`, short: linkShort, paint: hole ? paint('1;31') : paint('36') },
    { priority: 9, long: `${(s.elapsedMs / 1000).toFixed(1)} s` }
  ]
}

/**
 * Live progress: on a terminal, one line redrawn in place that always fits the terminal's width (fields
 * are shortened, then dropped, least important first; a resize is followed at the next redraw); on
 * anything else, one plain line per `interval`. One re-armed, `unref()`ed timer.
 */
export class Progress {
  private timer: NodeJS.Timeout | undefined
  private lastAt = 0
  private lastDelivered = 0
  private rate = 0
  private lastLineAt = 0

  constructor (private readonly out: Output, private readonly interval: number, private readonly snapshot: () => ProgressSnapshot) {}

  start (): void {
    this.arm()
  }

  /** Stops drawing; on a terminal, draws the line a last time and ends it. */
  stop (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (this.out.isTTY === true) {
      this.draw()
      this.out.write('\n')
    }
  }

  private arm (): void {
    const period = this.out.isTTY === true ? Math.max(50, this.interval / 10) : this.interval
    this.timer = setTimeout(() => { this.draw(); this.arm() }, period)
    this.timer.unref()
  }

  private draw (): void {
    const s = this.snapshot()
    const dt = s.elapsedMs - this.lastAt
    if (dt >= 250 || this.lastAt === 0) {
      this.rate = dt > 0 ? (s.delivered - this.lastDelivered) * 1000 / dt : 0
      this.lastAt = s.elapsedMs
      this.lastDelivered = s.delivered
    }
    if (this.out.isTTY === true) {
      // one cell short of the width: writing the last column makes some terminals wrap at once
      const width = Math.max(1, (this.out.columns ?? DEFAULT_COLUMNS) - 1)
      this.out.write(`\r\x1b[K${fitStatusLine(statusFields(s, this.rate, this.out.color === true), width)}`)
      return
    }
    if (s.elapsedMs - this.lastLineAt < this.interval * 0.9) return
    this.lastLineAt = s.elapsedMs
    this.out.write(`[${(s.elapsedMs / 1000).toFixed(1).padStart(5)} s] sent ${s.sent}/${s.total}, echoed ${s.delivered}, `
      + `${Math.round(this.rate)} msg/s, reconnects ${s.reconnects}, ${s.replayed !== undefined ? `replayed ${s.replayed}, ` : ''}heartbeat timeouts ${s.heartbeatTimeouts}, `
      + `rtt ${rttText(s.rtt)}, link ${s.link}\n`)
  }
}
