import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'

/** One flag: how `parseArgs` reads it and how `--help` shows it. */
export interface FlagSpec {
  /** The long name, without `--`. */
  readonly name: string
  /** `'string'`: the flag takes a value (`--size 64`); `'boolean'`: its presence switches something on. */
  readonly type: 'string' | 'boolean'
  /** The one-letter alias, without `-` (`s` for `-s`); absent when there is none. */
  readonly short?: string
  /** May be given several times (values are collected in order). */
  readonly multiple?: boolean
  /** The placeholder shown in help (`<duration>`). */
  readonly value?: string
  /** What it does, one line, shown in help. */
  readonly help: string
}

/** A titled group of flags, shared between commands (`TLS`, `Heartbeat` …). */
export interface FlagGroup {
  /** The heading the group's flags are listed under in help. */
  readonly title: string
  /** Its flags, in the order help lists them. */
  readonly flags: readonly FlagSpec[]
}

/** A command: its positional arguments, its flag groups and its help text. */
export interface CommandSpec {
  /** What follows `proto` on the command line: `connect`, `listen`, `bench` or `proxy`. */
  readonly name: string
  /** `proto connect HOST:PORT [options]` */
  readonly usage: string
  /** One line, shown in `proto --help`. */
  readonly summary: string
  /** Paragraphs shown under the usage line. */
  readonly description: string
  /** Names of the required positional arguments, in order. */
  readonly positionals: readonly string[]
  /** The flags it accepts, in groups, in the order help lists them. */
  readonly groups: readonly FlagGroup[]
  /** Example command lines, shown last. */
  readonly examples: readonly string[]
}

/** Flag values as `parseArgs` returns them. */
export type Values = Readonly<Record<string, string | boolean | string[] | undefined>>

export interface ParsedCommand {
  readonly values: Values
  readonly positionals: readonly string[]
}

/** Reads a command's arguments; throws `UsageError` (naming the command) for anything `parseArgs` or the positional count refuses. */
export function parseCommand (spec: CommandSpec, args: readonly string[]): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean', short?: string, multiple?: boolean }> = {}
  for (const group of spec.groups) {
    for (const f of group.flags) {
      options[f.name] = { type: f.type, ...(f.short != null ? { short: f.short } : {}), ...(f.multiple === true ? { multiple: true } : {}) }
    }
  }
  let parsed
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true })
  } catch (err) {
    throw new UsageError(describeParseError(err as Error & { code?: string }, Object.keys(options), args), { command: spec.name, cause: err })
  }
  const values = parsed.values as Values
  if (values.help === true) return { values, positionals: parsed.positionals }
  const expected = spec.positionals.length
  if (parsed.positionals.length !== expected) {
    const got = parsed.positionals.length
    const what = expected === 0 ? 'no arguments' : spec.positionals.join(' ')
    const detail = got < expected ? `${spec.positionals[got]} is missing` : `unexpected '${parsed.positionals[expected]}'`
    throw new UsageError(`expected ${what} after 'proto ${spec.name}', but ${detail}`, { command: spec.name })
  }
  return { values, positionals: parsed.positionals }
}

/** `parseArgs`' messages, reworded as the rest of the CLI words things. */
function describeParseError (err: Error & { code?: string }, known: string[], args: readonly string[]): string {
  const flag = /--[\w-]+/.exec(err.message)?.[0] ?? /'(-[^' ,]+)/.exec(err.message)?.[1]
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const near = flag?.startsWith('--') === true ? closest(flag.slice(2), known) : undefined
      return `unknown option '${flag ?? err.message}'${near !== undefined ? `; did you mean '--${near}'?` : ''}`
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      if (err.message.includes('does not take an argument')) return `option '${flag}' takes no value`
      // a value starting with '-' (a negative number) reads as the next option
      const next = flag === undefined ? undefined : args[args.indexOf(flag) + 1]
      if (err.message.includes('ambiguous') && next !== undefined) {
        return `option '${flag}' needs a value, but '${next}' after it starts with '-' and reads as an option; if it is the value, write ${flag}=${next}`
      }
      return `option '${flag}' needs a value`
    }
    default: return err.message
  }
}

/** A string flag's value, or `undefined`. */
export function stringValue (values: Values, name: string): string | undefined {
  const v = values[name]
  return typeof v === 'string' ? v : undefined
}

/** A boolean flag: whether it was given. */
export function flagValue (values: Values, name: string): boolean {
  return values[name] === true
}

/** A repeatable flag's values, in order. */
export function listValue (values: Values, name: string): string[] {
  const v = values[name]
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : []
}

/** Whether any of `names` was given. */
export function given (values: Values, names: readonly string[]): string[] {
  return names.filter(n => values[n] !== undefined)
}

/** The known name closest to `name`, if it is within one edit per four letters (at most two). */
function closest (name: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.min(2, Math.max(1, Math.floor(name.length / 4))) + 1
  for (const k of known) {
    const d = editDistance(name, k)
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return best
}

function editDistance (a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = row
  }
  return prev[b.length]!
}
