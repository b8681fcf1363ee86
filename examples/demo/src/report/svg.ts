/** Small helpers for drawing charts as inline SVG text. */

/** Escapes text for HTML and SVG content and attribute values. */
export function esc (text: string | number): string {
  return String(text).replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)
}

/** A coordinate, rounded to 0.1 to keep the markup small. */
export const r1 = (v: number): string => String(Math.round(v * 10) / 10)

export const num = (v: number): string => v.toLocaleString('en-US')

/** A time in ms, in the unit that reads best: `0.42 ms`, `7.3 ms`, `745 ms`, `1.12 s`. */
export function fmtMs (v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '–'
  if (v < 1) return `${v.toFixed(2)} ms`
  if (v < 10) return `${v.toFixed(1)} ms`
  if (v < 1000) return `${Math.round(v)} ms`
  return `${(v / 1000).toFixed(2)} s`
}

/** Seconds since the start, for event times: `3.42 s`. */
export const fmtAt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`

/** A linear scale from `[d0, d1]` to `[r0, r1]`. */
export function linear (d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0)
  return v => r0 + (v - d0) * k
}

/** A base-10 log scale from `[d0, d1]` (both > 0) to `[r0, r1]`; values below `d0` sit at `r0`. */
export function log10Scale (d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const l0 = Math.log10(d0)
  const k = (r1 - r0) / (Math.log10(d1) - l0)
  return v => r0 + (Math.log10(Math.max(v, d0)) - l0) * k
}

/** Round tick values covering `[0, max]`: about `count` of them, at 1, 2 or 5 × 10^n steps. */
export function niceTicks (max: number, count: number): number[] {
  if (!(max > 0)) return [0, 1]
  const raw = max / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw) ?? 10 * mag
  const ticks: number[] = []
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Math.round(v * 1e6) / 1e6)
  return ticks
}

/** Powers of ten covering `[min, max]`. */
export function decadeTicks (min: number, max: number): number[] {
  const ticks: number[] = []
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) ticks.push(10 ** e)
  return ticks
}

/** 1, 2 and 5 × 10^n within `[min, max]` (both > 0), for a log axis. */
export function logTicks (min: number, max: number): number[] {
  const ticks: number[] = []
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e
      if (v >= min * 0.999 && v <= max * 1.001) ticks.push(v)
    }
  }
  return ticks
}

/** A tick label for a time in ms without trailing zeros: `0.5 ms`, `2 ms`, `100 ms`, `1 s`. */
export function tickMs (v: number): string {
  if (v >= 1000) return `${+(v / 1000).toPrecision(3)} s`
  return `${+v.toPrecision(3)} ms`
}

/**
 * An SVG path through the points; `null` values break the line. `x(i)` and `y(v)` place each point.
 */
export function linePath (values: Array<number | null>, x: (i: number) => number, y: (v: number) => number): string {
  let d = ''
  let pen = false
  values.forEach((v, i) => {
    if (v === null) { pen = false; return }
    d += `${pen ? 'L' : 'M'}${r1(x(i))},${r1(y(v))}`
    pen = true
  })
  return d
}

/**
 * A step line: each non-null value drawn flat across its bucket (`x0(i)` to `x1(i)`), joined to the next by
 * a vertical step; a `null` lifts the pen.
 */
export function stepPath (values: Array<number | null>, x0: (i: number) => number, x1: (i: number) => number, y: (v: number) => number): string {
  let d = ''
  let pen = false
  values.forEach((v, i) => {
    if (v === null) { pen = false; return }
    d += `${pen ? 'L' : 'M'}${r1(x0(i))},${r1(y(v))}L${r1(x1(i))},${r1(y(v))}`
    pen = true
  })
  return d
}

/** A closed area under the points down to `base` (no gaps: `values` must all be numbers). */
export function areaPath (values: number[], x: (i: number) => number, y: (v: number) => number, base: number): string {
  if (values.length === 0) return ''
  const top = values.map((v, i) => `${i === 0 ? 'M' : 'L'}${r1(x(i))},${r1(y(v))}`).join('')
  return `${top}L${r1(x(values.length - 1))},${r1(base)}L${r1(x(0))},${r1(base)}Z`
}

/** An element with attributes and children; attribute values are escaped, `undefined` ones left out. */
export function el (name: string, attrs: Record<string, string | number | undefined>, ...children: string[]): string {
  const a = Object.entries(attrs).filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${esc(v as string | number)}"`).join('')
  return children.length === 0 ? `<${name}${a}/>` : `<${name}${a}>${children.join('')}</${name}>`
}

/** A native tooltip for an SVG element. */
export const tip = (text: string): string => `<title>${esc(text)}</title>`
