import type { HeartbeatInit } from '@proto/heartbeat'
import { DEFAULT_INTERVAL, DEFAULT_TIMEOUT } from '@proto/heartbeat'
import { DEFAULT_KEEPALIVE_TIMEOUT } from '../constants.js'
import { UsageError } from '../errors.js'
import type { ChosenFormat } from './format.js'
import { pingInit, strictTypes } from './ping.js'
import type { Values } from './spec.js'
import { flagValue, given, stringValue } from './spec.js'
import { badValue, parseByteSet, parseDuration } from './values.js'

/** The keep-alive chosen by the heartbeat flags and the format. */
export interface HeartbeatChoice {
  /** Options of the heartbeat stage, or `undefined` for none. */
  readonly init: HeartbeatInit | undefined
  /** For the "connected" line: `heartbeat 15s/45s`, `heartbeat 15s/45s, strict`, `empty-frame keep-alive 5s/off`, `no heartbeat`. */
  readonly summary: string
}

/** Flags that only mean something when pings and pongs are exchanged. */
const PING_FLAGS = ['ping-type', 'pong-type', 'ping-body', 'pong-body', 'max-ping-body', 'hello', 'max-peer-timeout'] as const

/** `--strict`/`--allow-types` and `--keepalive`, checked for form and against the format. */
interface Modes {
  readonly strict: boolean
  /** `--allow-types`, or `undefined` for the format's own data types. */
  readonly allowTypes: number[] | undefined
  /** `--keepalive empty`. */
  readonly empty: boolean
}

function readModes (values: Values, format: ChosenFormat): Modes {
  const allowText = stringValue(values, 'allow-types')
  const allowTypes = allowText === undefined ? undefined : parseByteSet('--allow-types', allowText)
  const strict = flagValue(values, 'strict') || allowTypes !== undefined
  const mode = stringValue(values, 'keepalive') ?? 'ping'
  if (mode !== 'ping' && mode !== 'empty') badValue('--keepalive', "'ping' or 'empty'", mode)
  if (strict && !format.hasType) {
    throw new UsageError(`--strict${allowTypes !== undefined ? '/--allow-types' : ''} checks frame types, but format ${format.name} has no type byte`)
  }
  return { strict, allowTypes, empty: mode === 'empty' }
}

/** Interval and timeout, with their defaults, checked against each other before anything connects. */
function timing (values: Values, defaultTimeout: number): { interval: number, timeout: number } {
  const i = stringValue(values, 'interval')
  const t = stringValue(values, 'timeout')
  const interval = i === undefined ? DEFAULT_INTERVAL : parseDuration('--interval', i)
  const timeout = t === undefined ? defaultTimeout : parseDuration('--timeout', t)
  if (interval !== 0 && timeout !== 0 && timeout <= interval) {
    throw new UsageError(`expected --timeout (${timeout} ms) to be above --interval (${interval} ms), or the peer is judged dead before it is even pinged; 2-3 intervals is usual`)
  }
  return { interval, timeout }
}

/**
 * Reads the heartbeat flags. Formats with a type byte get ping/pong keep-alive by default (`structBI`
 * with the classic protocol's types, the others with `@proto`'s); formats without one get none unless
 * `--keepalive empty` asks for empty frames. `--strict` adds the checks of `strictTypes` and `pingInit`.
 */
export function resolveHeartbeat (values: Values, format: ChosenFormat): HeartbeatChoice {
  const modes = readModes(values, format)
  const pingFlags = given(values, PING_FLAGS)
  if (flagValue(values, 'no-heartbeat')) {
    const clash = [...given(values, ['interval', 'timeout']), ...pingFlags, ...(modes.strict ? ['strict'] : []), ...given(values, ['keepalive'])]
    if (clash.length > 0) throw new UsageError(`--no-heartbeat cannot go with --${clash[0]}`)
    return { init: undefined, summary: 'no heartbeat' }
  }
  const strict = modes.strict ? ', strict' : ''
  if (modes.empty) {
    if (pingFlags.length > 0) throw new UsageError(`--keepalive empty sends empty frames, not pings: leave out --${pingFlags[0]}`)
    const t = timing(values, DEFAULT_KEEPALIVE_TIMEOUT)
    const init: HeartbeatInit = { mode: 'keepalive', ...t, ...(modes.strict ? { allowedTypes: modes.allowTypes ?? strictTypes(format) } : {}) }
    return { init, summary: `empty-frame keep-alive ${seconds(t.interval)}/${seconds(t.timeout)}${strict}` }
  }
  if (!format.hasType) {
    const asked = [...given(values, ['interval', 'timeout']), ...pingFlags, ...given(values, ['keepalive'])]
    if (asked.length > 0) {
      throw new UsageError(`format ${format.name} has no type byte, so pings cannot be told from data: leave out --${asked[0]}, or use --keepalive empty`)
    }
    return { init: undefined, summary: 'no heartbeat (no type byte)' }
  }
  const t = timing(values, DEFAULT_TIMEOUT)
  const init = pingInit(values, format, t, modes.strict ? modes.allowTypes ?? strictTypes(format) : undefined)
  return { init, summary: `heartbeat ${seconds(t.interval)}/${seconds(t.timeout)}${strict}` }
}

function seconds (ms: number): string {
  return ms === 0 ? 'off' : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}
