import { UsageError } from '../errors.js'

/** Throws the usage error every flag parser uses: `expected <flag> to be <what>, but got '<text>'`. */
export function badValue (flag: string, what: string, text: string, hint?: string): never {
  throw new UsageError(`expected ${flag} to be ${what}, but got '${text}'${hint != null ? `; ${hint}` : ''}`)
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/
const DURATION_UNIT: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }
const NEVER = new Set(['inf', 'infinity', 'never'])

/** The longest timer Node can wait, in ms. */
const MAX_DURATION = 2_147_483_647

/**
 * A duration: a number with an optional unit `ms` (the default), `s`, `m` or `h` (`500`, `1.5s`, `2m`);
 * with `infinity`, also `inf`/`infinity`/`never` for "unbounded". Returns milliseconds.
 */
export function parseDuration (flag: string, text: string, options: { infinity?: boolean, min?: number } = {}): number {
  if (options.infinity === true && NEVER.has(text.toLowerCase())) return Infinity
  const m = DURATION.exec(text.trim())
  const what = `a duration such as 500ms, 5s or 1m${options.infinity === true ? ", or 'never'" : ''}`
  if (m === null) badValue(flag, what, text)
  const ms = Number(m[1]) * DURATION_UNIT[m[2] ?? 'ms']!
  const min = options.min ?? 0
  if (ms < min || ms > MAX_DURATION) badValue(flag, `a duration from ${min} ms to ${MAX_DURATION} ms`, text)
  return ms
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|kB|KiB|MB|MiB|GB|GiB)?$/
const SIZE_UNIT: Record<string, number> = { B: 1, kB: 1e3, KiB: 1024, MB: 1e6, MiB: 1024 ** 2, GB: 1e9, GiB: 1024 ** 3 }

/** A size in bytes: a whole number with an optional unit `B`, `kB`, `KiB`, `MB`, `MiB`, `GB`, `GiB` (`1460`, `64KiB`, `16MiB`). */
export function parseSize (flag: string, text: string, options: { min?: number, max?: number } = {}): number {
  const m = SIZE.exec(text.trim())
  if (m === null) badValue(flag, 'a size in bytes such as 1460, 64KiB or 16MiB', text)
  const bytes = Number(m[1]) * SIZE_UNIT[m[2] ?? 'B']!
  const min = options.min ?? 0
  const max = options.max ?? Number.MAX_SAFE_INTEGER
  if (!Number.isSafeInteger(bytes)) badValue(flag, 'a whole number of bytes', text)
  if (bytes < min || bytes > max) badValue(flag, `a size from ${min} to ${max} bytes`, text)
  return bytes
}

/** A whole number in range (decimal, or hexadecimal with `0x`). */
export function parseInteger (flag: string, text: string, options: { min?: number, max?: number } = {}): number {
  const t = text.trim()
  const n = /^\d+$/.test(t) ? Number(t) : /^0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t.slice(2), 16) : NaN
  const min = options.min ?? 0
  const max = options.max ?? Number.MAX_SAFE_INTEGER
  if (!Number.isSafeInteger(n) || n < min || n > max) badValue(flag, `a whole number from ${min} to ${max}`, text)
  return n
}

/** A frame type: 0–255, decimal or `0x` hexadecimal. */
export function parseByte (flag: string, text: string): number {
  return parseInteger(flag, text, { min: 0, max: 255 })
}

/** A set of frame types: comma-separated bytes and ranges (`0x00,0x40-0xff`). Returns them sorted, without repeats. */
export function parseByteSet (flag: string, text: string): number[] {
  const types = new Set<number>()
  for (const part of text.split(',')) {
    const [from, to, extra] = part.split('-')
    if (from === undefined || from.trim() === '' || extra !== undefined) badValue(flag, "frame types and ranges such as '0x00,0x40-0xff'", text)
    const lo = parseByte(flag, from)
    const hi = to === undefined ? lo : parseByte(flag, to)
    if (hi < lo) badValue(flag, 'ranges written low-high', text)
    for (let t = lo; t <= hi; t++) types.add(t)
  }
  return [...types].sort((a, b) => a - b)
}

/** A range of durations `min-max` (or one value for both), each with an optional unit: `500-2000`, `1s-3s`, `250ms`. */
export function parseDurationRange (flag: string, text: string): [number, number] {
  const parts = text.split('-')
  if (parts.length > 2 || parts.some(p => p.trim() === '')) badValue(flag, "a duration or a range such as '500-2000' or '1s-3s'", text)
  const min = parseDuration(flag, parts[0]!)
  const max = parts[1] === undefined ? min : parseDuration(flag, parts[1])
  if (max < min) badValue(flag, 'a range written low-high', text)
  return [min, max]
}

/** A range of sizes `min-max` (or one value for both): `1-1460`, `512`. */
export function parseSizeRange (flag: string, text: string, options: { min?: number, max?: number } = {}): [number, number] {
  const parts = text.split('-')
  if (parts.length > 2 || parts.some(p => p.trim() === '')) badValue(flag, "a size or a range such as '1-1460'", text)
  const min = parseSize(flag, parts[0]!, options)
  const max = parts[1] === undefined ? min : parseSize(flag, parts[1], options)
  if (max < min) badValue(flag, 'a range written low-high', text)
  return [min, max]
}

/** Hex digits (whitespace between bytes allowed) as bytes; `undefined` when the text is not hex. */
export function hexBytes (text: string): Uint8Array | undefined {
  const digits = text.replace(/\s/g, '')
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) return undefined
  return Uint8Array.from(Buffer.from(digits, 'hex'))
}
