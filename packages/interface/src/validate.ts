import { InvalidParametersError } from './errors.js'
import { isPushSinkable } from './push.js'

/**
 * The one validator kit of the SDK. Each check takes the option's name, the value the user passed
 * (`undefined` when absent) and returns the value to use (the default when absent), or throws
 * `InvalidParametersError` with one message shape: `expected <name> to be <what>, but got <value>`.
 */

/** The longest delay Node's timers accept, in ms; longer ones fire at once. */
export const MAX_TIMER_DELAY = 2_147_483_647

function describe (value: unknown): string {
  if (typeof value === 'string') return `'${value}'`
  if (typeof value === 'function') return 'a function'
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.byteLength} bytes`
  if (value != null && typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object'
  if (typeof value === 'bigint') return `the bigint ${value}n`
  if (typeof value === 'symbol') return 'a symbol'
  return String(value)
}

/** The kit's `InvalidParametersError`: `expected <name> to be <what>, but got <value>`. */
function invalidError (name: string, what: string, value: unknown, hint?: string): InvalidParametersError {
  return new InvalidParametersError(`expected ${name} to be ${what}, but got ${describe(value)}${hint != null ? `; ${hint}` : ''}`)
}

/** Throws the kit's `InvalidParametersError`: `expected <name> to be <what>, but got <value>`. */
export function invalid (name: string, what: string, value: unknown, hint?: string): never {
  throw invalidError(name, what, value, hint)
}

/** The range a numeric check accepts; every field is optional. */
export interface NumberRule {
  /** Smallest value accepted. @default 0 */
  min?: number
  /** Largest value accepted. @default MAX_TIMER_DELAY for durations, Number.MAX_SAFE_INTEGER for counts */
  max?: number
  /** Whether `min` itself is refused (a strictly positive value). @default false */
  exclusiveMin?: boolean
  /** Whether `Infinity` is accepted (meaning "never" or "unbounded"). @default false */
  infinity?: boolean
}

/** The value to check: `fallback` only when the option is absent (`undefined`); `null` is a value, and refused. */
function given<T> (value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value
}

function range (rule: NumberRule, max: number): string {
  const min = rule.min ?? 0
  const from = rule.exclusiveMin === true ? `above ${min}` : `from ${min}`
  return `${from} to ${rule.max ?? max}${rule.infinity === true ? ' or Infinity' : ''}`
}

function inRange (value: number, rule: NumberRule, max: number): boolean {
  if (value === Infinity) return rule.infinity === true
  const min = rule.min ?? 0
  return Number.isFinite(value) && (rule.exclusiveMin === true ? value > min : value >= min) && value <= (rule.max ?? max)
}

/** A duration in milliseconds: a finite number in range (fractions allowed). */
export function duration (name: string, value: number | undefined, fallback: number, rule: NumberRule = {}): number {
  const v = given(value, fallback)
  if (typeof v !== 'number' || !inRange(v, rule, MAX_TIMER_DELAY)) invalid(name, `a number of milliseconds ${range(rule, MAX_TIMER_DELAY)}`, value)
  return v
}

/** A whole number (a count, a size in bytes, a port) in range. */
export function integer (name: string, value: number | undefined, fallback: number, rule: NumberRule = {}): number {
  const v = given(value, fallback)
  if (typeof v !== 'number' || (!Number.isSafeInteger(v) && v !== Infinity) || !inRange(v, rule, Number.MAX_SAFE_INTEGER)) {
    invalid(name, `a whole number ${range(rule, Number.MAX_SAFE_INTEGER)}`, value)
  }
  return v
}

/** A finite number (a factor, a multiplier) in range. */
export function number (name: string, value: number | undefined, fallback: number, rule: NumberRule = {}): number {
  const v = given(value, fallback)
  if (typeof v !== 'number' || !inRange(v, rule, Number.MAX_VALUE)) invalid(name, `a number ${range(rule, Number.MAX_VALUE)}`, value)
  return v
}

/** One byte: a frame type, a version, a flag set (0–255). */
export function byte (name: string, value: number | undefined, fallback: number): number {
  const v = given(value, fallback)
  if (typeof v !== 'number' || !Number.isInteger(v) || (v & 0xFF) !== v) invalid(name, 'a whole number from 0 to 255', value)
  return v
}

/** One of a fixed set of values (a policy name). */
export function oneOf<T extends string | number | boolean> (name: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  const v = given(value, fallback)
  if (!allowed.includes(v)) invalid(name, `one of ${allowed.map(a => typeof a === 'string' ? `'${a}'` : String(a)).join(', ')}`, value)
  return v
}

/** A boolean flag. */
export function flag (name: string, value: boolean | undefined, fallback: boolean): boolean {
  const v = given(value, fallback)
  if (typeof v !== 'boolean') invalid(name, 'true or false', value)
  return v
}

/**
 * A function (a hook or a custom policy); `fallback` when absent.
 *
 * @typeParam F - The function's type, kept for the value returned.
 */
export function fn<F extends (...args: never[]) => unknown> (name: string, value: F | undefined, fallback: F): F
/**
 * A function (a hook or a custom policy), or `undefined` when absent.
 *
 * @typeParam F - The function's type, kept for the value returned.
 */
export function fn<F extends (...args: never[]) => unknown> (name: string, value: F | undefined): F | undefined
export function fn<F extends (...args: never[]) => unknown> (name: string, value: F | undefined, fallback?: F): F | undefined {
  if (value !== undefined && typeof value !== 'function') invalid(name, 'a function', value)
  return value ?? fallback
}

/**
 * An injected object (a clock, timers) that must have `method` as a function, or `undefined` when absent.
 *
 * @typeParam T - The object's type, kept for the value returned.
 */
export function hook<T extends object> (name: string, value: T | undefined, method: keyof T & string): T | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || typeof (value as Record<string, unknown>)[method] !== 'function') {
    invalid(name, `an object with a ${method}() method`, value)
  }
  return value
}

/** An object of options (`undefined` gives `{}`). */
export function options<T extends object> (name: string, value: T | undefined): T {
  if (value === undefined) return {} as T
  if (value === null || typeof value !== 'object') invalid(name, 'an object of options', value)
  return value
}

/** An `AbortSignal`, when given. */
export function signal (name: string, value: AbortSignal | undefined): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) invalid(name, 'an AbortSignal', value)
  return value
}

/**
 * What a stage's `sink()` refuses as its argument, or `undefined` for a source it can read: an iterable or
 * async iterable of items. A string or a `Uint8Array` is iterable too, but of characters or numbers, never
 * of items (a chunk is passed as `[bytes]`), so both are refused. `sink()` rejects with the error without
 * taking the call: the sink may be called again with a source.
 */
export function sourceRefusal (value: unknown, name = 'the source given to sink()'): InvalidParametersError | undefined {
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const v = value as Partial<AsyncIterable<unknown> & Iterable<unknown>>
    if (typeof v[Symbol.asyncIterator] === 'function' || typeof v[Symbol.iterator] === 'function') return undefined
  }
  return invalidError(name, 'an iterable or async iterable of items', value, value instanceof Uint8Array ? 'pass a chunk as [bytes]' : undefined)
}

/**
 * A duplex a stage runs over (a connection, or the stage beneath): an object whose `source` is an async
 * iterable and whose `sink` is a function. Checked once, when the stage is made: a stage over something
 * else would fail later with a `TypeError` from deep inside it. A duplex with `sinkPush` (a
 * `PushSinkable`, which a stage above writes through) is not asked for its `sink`: the stages make theirs
 * on first read and keep it for the connection's life, which an idle connection need not pay for.
 */
export function duplex (name: string, value: unknown): void {
  if (value === null || typeof value !== 'object') invalid(name, 'a duplex: an object with a source and a sink', value)
  const { source } = value as { source?: unknown }
  if (source == null || typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') invalid(`${name}.source`, 'an async iterable', source)
  if (isPushSinkable(value)) return
  const sink = (value as { sink?: unknown }).sink
  if (typeof sink !== 'function') invalid(`${name}.sink`, 'a function taking a source', sink)
}
