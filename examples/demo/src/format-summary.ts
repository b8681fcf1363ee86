import { counterRows } from './counters.js'
import type { DemoSummary } from './summary.js'

/** How the text is styled: colours only on a terminal that wants them. */
export interface FormatOptions {
  /** Use ANSI colours. @default false */
  color?: boolean
  /** Wrap explanations to this many columns. @default 110 */
  width?: number
}

const EXPLANATION_WIDTH = 110

function wrap (text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  if (line !== '') lines.push(line)
  return lines
}

/** How the run delivered: with sessions or without. */
export function deliveryMode (s: DemoSummary): string {
  if (s.servers !== null) {
    const kill = s.servers.kill === null ? '' : `, one ${s.servers.kill.signal === 'SIGTERM' ? 'SIGTERMed (exactly once)' : 'SIGKILLed (at least once there, counted)'}`
    return `sessions on ${s.servers.count} servers through Redis${kill}`
  }
  return s.session !== null ? 'sessions (exactly once)' : 'no session (at most once)'
}

/** The outcome in one line, as the summary ends and the report starts. */
export function outcomeLine (s: DemoSummary): string {
  switch (s.outcome) {
    case 'pass': return s.servers?.kill?.signal === 'SIGKILL'
      ? `PASS: every documented guarantee held: ${s.sent.toLocaleString('en-US')} messages and their echoes, none lost, in order; `
      + `${s.duplicated.toLocaleString('en-US')} duplicates, within the ${s.servers.possibleDuplicates.toLocaleString('en-US')} the client counted as possible after the SIGKILL`
      : s.session !== null
        ? `PASS: every documented guarantee held: ${s.sent.toLocaleString('en-US')} messages and their echoes, each exactly once and in order`
        : 'PASS: every documented guarantee held'
    case 'fail': return `FAIL: ${s.checks.filter(c => !c.ok).map(c => c.name).join(', ')} broken (see above)`
    case 'interrupted': return `INTERRUPTED after ${(s.durationMs / 1000).toFixed(1)} s: a partial run; every guarantee checked held for the ${s.sent.toLocaleString('en-US')} messages sent`
    case 'error': return `ERROR: the run failed: ${s.error ?? 'unknown error'}`
  }
}

/** The summary as plain text lines: counters with what they mean, the guarantees, the outcome. */
export function formatSummary (s: DemoSummary, options: FormatOptions = {}): string {
  const paint = (code: string, text: string): string => options.color === true ? `\x1b[${code}m${text}\x1b[0m` : text
  const width = options.width ?? EXPLANATION_WIDTH
  const rows = counterRows(s)
  const labelWidth = Math.max(...rows.map(r => r.label.length + (r.sub === true ? 2 : 0)))
  const title = `@proto demo — seed ${s.seed}, ${s.messages.toLocaleString('en-US')} × ${s.size} B, ${deliveryMode(s)}`
  const lines = [s.interrupted ? `${title} — ${paint('1;33', 'PARTIAL: interrupted, counts cover what was sent until then')}` : title, '']
  for (const r of rows) {
    const label = (r.sub === true ? `  ${r.label}` : r.label).padEnd(labelWidth)
    lines.push(`  ${label}  ${r.value}`)
    if (r.help !== undefined) {
      wrap(r.help, width - labelWidth - 6).forEach((line, i) => { lines.push(paint('2', `  ${' '.repeat(labelWidth)}  ${i === 0 ? '↳' : ' '} ${line}`)) })
    }
  }
  lines.push('', 'guarantees:')
  for (const c of s.checks) {
    const mark = c.skipped === true ? paint('33', 'skip') : c.ok ? paint('32', 'ok  ') : paint('1;31', 'FAIL')
    lines.push(`  ${mark}  ${c.name}: ${c.detail}`)
  }
  if (s.error !== undefined) lines.push('', `run failed: ${s.error}`)
  const colour = s.outcome === 'pass' ? '1;32' : s.outcome === 'interrupted' ? '1;33' : '1;31'
  lines.push('', paint(colour, outcomeLine(s)))
  return lines.join('\n') + '\n'
}
