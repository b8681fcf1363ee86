import { describe, expect, it } from 'vitest'
import type { Output } from '../src/options.js'
import type { ProgressSnapshot } from '../src/progress.js'
import { Progress, statusFields } from '../src/progress.js'
import { fitStatusLine, visible } from '../src/status-line.js'

const typical: ProgressSnapshot = { elapsedMs: 4_200, total: 20_000, sent: 7_412, delivered: 7_301, reconnects: 3, heartbeatTimeouts: 1, rtt: 7.83, link: 'coalescing' }
const huge: ProgressSnapshot = { elapsedMs: 12_345_678, total: 1_000_000_000, sent: 999_999_999, delivered: 987_654_321, reconnects: 123_456, heartbeatTimeouts: 99_999, rtt: 12_345.6, link: 'draining, fragmenting' }

describe('the live status line', () => {
  it('never exceeds the width, whatever the width and the numbers, coloured or not', () => {
    for (const s of [typical, huge, { ...typical, rtt: undefined, link: 'BLACK HOLE' }]) {
      for (const color of [false, true]) {
        for (let width = 1; width <= 220; width++) {
          const line = fitStatusLine(statusFields(s, 1_984.4, color), width)
          expect(visible(line).length, `width ${width}`).toBeLessThanOrEqual(width)
          expect(line).not.toMatch(/[\r\n]/)
          expect(visible(line)).toMatch(/^[\x20-\x7e]*$/) // one cell per character: ASCII only
        }
      }
    }
  })

  it('keeps what matters most as it narrows: progress, the link state, the RTT, reconnects, the rate', () => {
    const at = (width: number): string => fitStatusLine(statusFields(typical, 1_984.4, false), width)
    expect(at(200)).toMatch(/^ 37% {2}\[#+\.+\] {2}7,412\/20,000 sent {2}7,301 echoed {2}1,984 msg\/s {2}rtt 7\.8 ms {2}reconnects 3 {2}hb timeouts 1 {2}link coalescing {2}4\.2 s$/)
    expect(visible(at(200)).match(/\[[#.]+\]/)?.[0]).toHaveLength(30) // the bar takes the room, up to 30 cells
    expect(at(119)).toContain('link coalescing')
    expect(at(79)).toBe(' 37%  [######.........]  1,984 msg/s  rtt 7.8 ms  reconnects 3  link coalescing')
    expect(at(59)).toBe(' 37%  1984/s  rtt 7.8 ms  reconnects 3  link coalescing')
    expect(at(30)).toBe(' 37%  7.8ms  link coalescing')
    expect(at(16)).toBe(' 37%  coalescing')
    expect(at(4)).toBe(' 37%')
  })

  it('with sessions, counts the replays, and drops them before what matters more', () => {
    const at = (width: number): string => fitStatusLine(statusFields({ ...typical, replayed: 1_234 }, 1_984.4, false), width)
    expect(at(220)).toMatch(/ {2}reconnects 3 {2}replayed 1,234 {2}hb timeouts 1 {2}/)
    expect(at(130)).toMatch(/reconnects 3 {2}replayed 1,234 {2}hb 1 {2}link coalescing$/)
    expect(at(110)).toMatch(/reconnects 3 {2}link coalescing$/)
    expect(at(79)).toBe(' 37%  [######.........]  1,984 msg/s  rtt 7.8 ms  reconnects 3  link coalescing')
  })

  it('shows a black hole in bold red when colours are on', () => {
    const line = fitStatusLine(statusFields({ ...typical, link: 'BLACK HOLE' }, 0, true), 120)
    expect(line).toContain('\x1b[1;31mlink BLACK HOLE\x1b[0m')
  })
})

describe('Progress on a terminal', () => {
  it('redraws one line in place that fits the current width, following a resize', () => {
    const writes: string[] = []
    const out: Output & { columns: number } = { write: (t) => { writes.push(t) }, isTTY: true, columns: 60 }
    let s = typical
    const progress = new Progress(out, 1_000, () => s)
    progress.stop() // draws the line one last time and ends it
    out.columns = 35
    s = { ...typical, sent: 9_000 }
    progress.stop()
    const lines = writes.filter(w => w !== '\n')
    expect(lines).toHaveLength(2)
    for (const [i, width] of [[0, 60], [1, 35]]) {
      expect(lines[i].startsWith('\r\x1b[K')).toBe(true)
      expect(visible(lines[i].slice(4)).length).toBeLessThan(width)
    }
    expect(lines[1]).toContain('45%')
  })

  it('writes plain lines, one per interval, when not on a terminal', () => {
    const writes: string[] = []
    const progress = new Progress({ write: (t) => { writes.push(t) } }, 1_000, () => typical)
    progress.stop()
    expect(writes).toEqual([]) // nothing to end: plain lines are whole
  })
})
