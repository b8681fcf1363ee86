import type { Output } from './options.js'

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
  link: string
}

const BAR_WIDTH = 24

function fmtRtt (rtt: number | undefined): string {
  return rtt === undefined ? '–' : `${rtt.toFixed(rtt < 10 ? 2 : 0)} ms`
}

/**
 * Live progress: on a terminal, one line redrawn in place (a bar, counts, rate, reconnects, RTT); on
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

  /** Stops drawing; on a terminal, ends the redrawn line. */
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
      const filled = Math.round(BAR_WIDTH * s.sent / s.total)
      const bar = '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled)
      this.out.write(`\r\x1b[K${bar} ${String(s.sent).padStart(String(s.total).length)}/${s.total} sent  ${s.delivered} echoed  `
        + `${Math.round(this.rate)} msg/s  reconnects ${s.reconnects}  hb timeouts ${s.heartbeatTimeouts}  rtt ${fmtRtt(s.rtt)}  [${s.link}]`)
      return
    }
    if (s.elapsedMs - this.lastLineAt < this.interval * 0.9) return
    this.lastLineAt = s.elapsedMs
    this.out.write(`[${(s.elapsedMs / 1000).toFixed(1).padStart(5)} s] sent ${s.sent}/${s.total}, echoed ${s.delivered}, `
      + `${Math.round(this.rate)} msg/s, reconnects ${s.reconnects}, heartbeat timeouts ${s.heartbeatTimeouts}, rtt ${fmtRtt(s.rtt)}, link ${s.link}\n`)
  }
}
