/** One field of the status line: a long and an optional short form, and how much it matters. */
export interface StatusField {
  /** Lower is more important: fields are shortened, then dropped, from the highest number down. */
  priority: number
  long: string
  short?: string
  /** Wraps the text in colour codes (not counted in the width). */
  paint?: (text: string) => string
}

/** The progress bar: it takes the room the fields leave, between `min` and `max` cells. */
export interface StatusBar {
  priority: number
  /** Done, from 0 to 1. */
  ratio: number
  min: number
  max: number
  /** Draw with coloured spaces instead of `#` and `.`. */
  color: boolean
}

const SEPARATOR = '  '
// eslint-disable-next-line no-control-regex -- matching the escape character is the point
const ANSI_SGR = /\x1b\[[0-9;]*m/g

/** Text without ANSI escape sequences. */
export function visible (text: string): string {
  return text.replace(ANSI_SGR, '')
}

function drawBar (bar: StatusBar, cells: number): string {
  const inner = cells - 2
  const done = Math.max(0, Math.min(inner, Math.round(inner * bar.ratio)))
  if (bar.color) return `[\x1b[7m${' '.repeat(done)}\x1b[27m\x1b[2m${'.'.repeat(inner - done)}\x1b[22m]`
  return `[${'#'.repeat(done)}${'.'.repeat(inner - done)}]`
}

/**
 * Lays the fields out in their given order on one line at most `width` cells wide: first the bar shrinks
 * to its minimum, then, least important first, each field switches to its short form and, if that is not
 * enough, disappears; room left over goes back to those fields, most important first; the bar then takes
 * what room is left, up to its maximum. Every character used is one cell wide (ASCII, plus
 * whatever the fields bring), so the line never wraps; a width too small for anything is cut.
 */
export function fitStatusLine (fields: Array<StatusField | StatusBar>, width: number): string {
  const isBar = (f: StatusField | StatusBar): f is StatusBar => 'ratio' in f
  // level per field: 0 long (bar: at least min), 1 short, 2 gone
  const level = fields.map(() => 0)
  const cells = (i: number): number => {
    const f = fields[i]
    if (level[i] === 2) return 0
    if (isBar(f)) return f.min
    return (level[i] === 1 && f.short !== undefined ? f.short : f.long).length
  }
  const total = (): number => {
    let sum = 0
    let shown = 0
    for (let i = 0; i < fields.length; i++) {
      if (level[i] === 2) continue
      sum += cells(i)
      shown++
    }
    return sum + Math.max(0, shown - 1) * SEPARATOR.length
  }
  const byPriority = fields.map((_, i) => i).sort((a, b) => fields[b].priority - fields[a].priority)
  for (const i of byPriority) {
    if (total() <= width) break
    const f = fields[i]
    if (!isBar(f) && f.short !== undefined) level[i] = 1
    if (total() <= width) break
    level[i] = 2
  }
  // room left over goes back to what was shortened or dropped, most important first, before the bar takes it
  for (const i of [...byPriority].reverse()) {
    const was = level[i]
    for (const next of [0, 1]) {
      if (next >= was) break
      level[i] = next
      if (total() <= width) break
      level[i] = was
    }
    if (level[i] === 2) break // nothing less important may show where this could not
  }
  const spare = width - total()
  const parts: string[] = []
  for (let i = 0; i < fields.length; i++) {
    if (level[i] === 2) continue
    const f = fields[i]
    if (isBar(f)) {
      parts.push(drawBar(f, Math.min(f.max, f.min + Math.max(0, spare))))
      continue
    }
    const text = level[i] === 1 && f.short !== undefined ? f.short : f.long
    parts.push(f.paint === undefined ? text : f.paint(text))
  }
  const line = parts.join(SEPARATOR)
  return visible(line).length <= width ? line : visible(line).slice(0, Math.max(0, width))
}
