import type { HeartbeatInit } from '@proto/heartbeat'
import { DEFAULT_INTERVAL, DEFAULT_TIMEOUT } from '@proto/heartbeat'
import { UnsupportedOptionError, UsageError } from '../errors.js'
import type { ChosenFormat } from './format.js'
import type { Values } from './spec.js'
import { flagValue, given, stringValue } from './spec.js'
import { badValue, hexBytes, parseByte, parseByteSet, parseDuration } from './values.js'

/** The keep-alive chosen by the heartbeat flags and the format. */
export interface HeartbeatChoice {
  /** Options of the heartbeat stage, or `undefined` for none. */
  readonly init: HeartbeatInit | undefined
  /** For the "connected" line: `heartbeat 15s/45s`, `no heartbeat`. */
  readonly summary: string
}

/** The classic `'!BI'` protocol's keep-alive: ping 0x01, pong 0x02, both empty; no GOAWAY. */
const STRUCT_BI_KEEPALIVE: HeartbeatInit = {
  pingType: 0x01, pongType: 0x02, pingBody: new Uint8Array(0), pongBody: new Uint8Array(0), goAwayType: null
}

const PING_FLAGS = ['interval', 'timeout', 'ping-type', 'pong-type', 'ping-body', 'pong-body', 'hello'] as const

function body<K extends 'sequence' | 'echo'> (flag: string, text: string, keyword: K): Uint8Array | K {
  if (text === keyword) return keyword
  if (text === 'empty') return new Uint8Array(0)
  const bytes = text.startsWith('hex:') ? hexBytes(text.slice(4)) : undefined
  if (bytes === undefined) badValue(flag, `'${keyword}', 'empty' or 'hex:' followed by hex digits`, text)
  return bytes
}

/** Interval and timeout, with heartbeat's defaults, checked against each other before anything connects. */
function timing (values: Values): { interval: number, timeout: number } {
  const i = stringValue(values, 'interval')
  const t = stringValue(values, 'timeout')
  const interval = i === undefined ? DEFAULT_INTERVAL : parseDuration('--interval', i)
  const timeout = t === undefined ? DEFAULT_TIMEOUT : parseDuration('--timeout', t)
  if (interval !== 0 && timeout !== 0 && timeout <= interval) {
    throw new UsageError(`expected --timeout (${timeout} ms) to be above --interval (${interval} ms), or the peer is judged dead before it is even pinged; 2-3 intervals is usual`)
  }
  return { interval, timeout }
}

/** The strict-mode and keep-alive-mode flags, checked for form even though heartbeat cannot act on them yet. */
function futureModes (values: Values, format: ChosenFormat): { strict: boolean, allowTypes: number[] | undefined, keepalive: 'ping' | 'empty' } {
  const allowText = stringValue(values, 'allow-types')
  const allowTypes = allowText === undefined ? undefined : parseByteSet('--allow-types', allowText)
  const strict = flagValue(values, 'strict') || allowTypes !== undefined
  const mode = stringValue(values, 'keepalive') ?? 'ping'
  if (mode !== 'ping' && mode !== 'empty') badValue('--keepalive', "'ping' or 'empty'", mode)
  if (strict && !format.hasType) {
    throw new UsageError(`--strict${allowTypes !== undefined ? '/--allow-types' : ''} checks frame types, but format ${format.name} has no type byte`)
  }
  return { strict, allowTypes, keepalive: mode }
}

/**
 * Reads the heartbeat flags. Formats with a type byte get ping/pong keep-alive by default (`structBI`
 * with the classic protocol's types, the others with @proto's); formats without one get none, since a
 * ping could not be told from data.
 */
export function resolveHeartbeat (values: Values, format: ChosenFormat): HeartbeatChoice {
  const future = futureModes(values, format)
  const pingFlags = given(values, PING_FLAGS)
  if (flagValue(values, 'no-heartbeat')) {
    const clash = [...pingFlags, ...(future.strict ? ['strict'] : []), ...given(values, ['keepalive'])]
    if (clash.length > 0) throw new UsageError(`--no-heartbeat cannot go with --${clash[0]}`)
    return { init: undefined, summary: 'no heartbeat' }
  }
  if (future.keepalive === 'empty') {
    const pingOnly = pingFlags.filter(f => f !== 'interval' && f !== 'timeout')
    if (pingOnly.length > 0) throw new UsageError(`--keepalive empty sends empty frames, not pings: leave out --${pingOnly[0]}`)
    timing(values)
    // WIRING(heartbeat keep-alive mode): once HeartbeatInit offers the empty-frame keep-alive, return
    // { init: { ...timing(values), <keep-alive option>: 'empty' }, summary } here instead of refusing, and
    // drop the `!format.hasType` early return below for this mode.
    throw new UnsupportedOptionError('--keepalive empty', 'the heartbeat keep-alive mode for layouts without a type byte (empty frames when idle, never handed up)')
  }
  if (!format.hasType) {
    const asked = [...pingFlags, ...given(values, ['keepalive'])]
    if (asked.length > 0) {
      throw new UsageError(`format ${format.name} has no type byte, so pings cannot be told from data: leave out --${asked[0]}, or use --keepalive empty (not supported yet)`)
    }
    return { init: undefined, summary: 'no heartbeat (no type byte)' }
  }
  const init: HeartbeatInit = { ...(format.name === 'structBI' ? STRUCT_BI_KEEPALIVE : {}), ...timing(values) }
  const pingType = stringValue(values, 'ping-type')
  const pongType = stringValue(values, 'pong-type')
  if (pingType !== undefined) init.pingType = parseByte('--ping-type', pingType)
  if (pongType !== undefined) init.pongType = parseByte('--pong-type', pongType)
  const effectivePing = init.pingType ?? 0x02
  const effectivePong = init.pongType ?? 0x03
  if (effectivePing === effectivePong) throw new UsageError(`expected --ping-type and --pong-type to differ, but both are ${effectivePing}`)
  const pingBody = stringValue(values, 'ping-body')
  const pongBody = stringValue(values, 'pong-body')
  if (pingBody !== undefined) init.pingBody = body('--ping-body', pingBody, 'sequence')
  if (pongBody !== undefined) init.pongBody = body('--pong-body', pongBody, 'echo')
  if (flagValue(values, 'hello')) init.hello = true
  if (future.strict) {
    // WIRING(heartbeat strict mode): once HeartbeatInit offers strict mode, set it here from
    // `future.allowTypes` (undefined: the format's own types) and the ping/pong body rule, e.g.
    // init.<strict option> = { allowTypes: future.allowTypes }, instead of refusing.
    throw new UnsupportedOptionError(future.allowTypes !== undefined ? '--allow-types' : '--strict', 'the heartbeat strict mode (allowed inbound frame types and the ping/pong body rule, a violation closing the connection with a typed error)')
  }
  return { init, summary: `heartbeat ${seconds(init.interval!)}/${seconds(init.timeout!)}` }
}

function seconds (ms: number): string {
  return ms === 0 ? 'off' : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}
