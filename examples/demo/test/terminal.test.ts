import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { canRun } from '@proto/stage-compliance'
import { afterAll, describe, expect, it } from 'vitest'
import { NODE_ARGS, PACKAGE_DIR, tmuxTool, waitFor } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'proto-demo-tmux-'))
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

/** A line of the live display: it starts with the percentage done. */
const LIVE = /^\s*\d{1,3}%/

/** Runs tmux on a server of our own (its own socket), so nothing else is touched. */
function tmux (socket: string, ...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' })
}

const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`

/**
 * Runs the demo in a real terminal (a tmux pane of `width` columns) and captures the pane as it runs.
 * Captures join wrapped rows back into one line (`-J`), so a live line that wrapped would show up longer
 * than the pane, and one that scrolled instead of redrawing would show up more than once.
 */
async function captureRun (width: number): Promise<{ captures: string[][], final: string[] }> {
  const socket = `proto-demo-${process.pid}-${width}`
  const command = `cd ${quote(PACKAGE_DIR)} && ${quote(process.execPath)} ${NODE_ARGS.map(quote).join(' ')} `
    + '--messages 3000 --size 64 --rate 1000 --seed 11 --cut-every 300-600 --blackhole-every 900-1200 --blackhole-for 1100-1200 --report ' + quote(join(dir, `tmux-${width}.html`))
    + '; echo "[exit $?]"; sleep 60'
  tmux(socket, 'new-session', '-d', '-s', 'demo', '-x', String(width), '-y', '40', command)
  const captures: string[][] = []
  try {
    await waitFor('the demo to finish in tmux', () => {
      const lines = tmux(socket, 'capture-pane', '-p', '-J', '-t', 'demo').split('\n')
      captures.push(lines)
      return lines.some(l => l.startsWith('[exit '))
    }, 45_000, 150)
    // the whole run, scrollback included
    return { captures, final: tmux(socket, 'capture-pane', '-p', '-J', '-S', '-', '-t', 'demo').split('\n') }
  } finally {
    tmux(socket, 'kill-server')
  }
}

describe('the live line in a real terminal (tmux)', () => {
  for (const width of [60, 120]) {
    it.runIf(canRun(tmuxTool))(`at ${width} columns it never wraps and redraws in place`, async () => {
      const { captures, final } = await captureRun(width)
      const during = captures.filter(lines => lines.some(l => LIVE.test(l)) && !lines.some(l => l.startsWith('@proto demo')))
      expect(during.length).toBeGreaterThanOrEqual(5) // the run was watched while it ran
      for (const lines of during) {
        const live = lines.filter(l => LIVE.test(l))
        expect(live).toHaveLength(1)
        expect(live[0].length).toBeLessThan(width)
      }
      const shown = during.flatMap(lines => lines.filter(l => LIVE.test(l)))
      // the important fields made it onto the line: progress, the link's state and the RTT
      expect(shown.some(l => /coalescing|fragmenting|BLACK HOLE|draining/.test(l))).toBe(true)
      expect(shown.some(l => /rtt|ms/.test(l))).toBe(true)
      if (width >= 120) expect(shown.some(l => /reconnects \d+/.test(l) && /msg\/s/.test(l))).toBe(true)
      // the finished run: one last live line, then the summary and the report's path
      expect(final.filter(l => LIVE.test(l))).toHaveLength(1)
      expect(final.some(l => l.startsWith('PASS: every documented guarantee held'))).toBe(true)
      expect(final.some(l => l.startsWith('report: '))).toBe(true)
      expect(final).toContain('[exit 0]')
    }, 60_000)
  }
})
