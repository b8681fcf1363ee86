import { APP_TYPE_MAX, APP_TYPE_MIN, FrameType } from '@proto/codec'
import type { HeartbeatInit } from '@proto/heartbeat'
import { SEQUENCE_PING_LENGTH } from '../constants.js'
import { UsageError } from '../errors.js'
import type { ChosenFormat } from './format.js'
import type { Values } from './spec.js'
import { flagValue, stringValue } from './spec.js'
import { badValue, hexBytes, parseByte, parseDuration, parseSize } from './values.js'

/** The classic `'!BI'` protocol's keep-alive: ping 0x01, pong 0x02, both empty; no GOAWAY. */
const STRUCT_BI_KEEPALIVE: HeartbeatInit = {
  pingType: 0x01, pongType: 0x02, pingBody: new Uint8Array(0), pongBody: new Uint8Array(0), goAwayType: null
}

/**
 * The inbound data types `--strict` allows when `--allow-types` is not given: the format's own. `structBI`
 * (the classic protocol): DATA `0x00`. Every other format with a type byte speaks `@proto`'s type space:
 * DATA `0x00` and the application types `0x40`–`0xFF` (docs/PROTOCOL.md §2). The types the heartbeat
 * handles itself (ping, pong, GOAWAY, HELLO with `--hello`) are accepted besides.
 */
export function strictTypes (format: ChosenFormat): number[] {
  if (format.name === 'structBI') return [FrameType.DATA]
  return [FrameType.DATA, ...Array.from({ length: APP_TYPE_MAX - APP_TYPE_MIN + 1 }, (_, i) => APP_TYPE_MIN + i)]
}

function body<K extends 'sequence' | 'echo'> (flag: string, text: string, keyword: K): Uint8Array | K {
  if (text === keyword) return keyword
  if (text === 'empty') return new Uint8Array(0)
  const bytes = text.startsWith('hex:') ? hexBytes(text.slice(4)) : undefined
  if (bytes === undefined) badValue(flag, `'${keyword}', 'empty' or 'hex:' followed by hex digits`, text)
  return bytes
}

/**
 * The longest ping or pong body accepted from the peer: `--max-ping-body`; under `--strict` without it,
 * with fixed bodies both ways (the classic protocol's empty ones) the longer of the two, so a structBI peer
 * must ping with empty bodies; otherwise heartbeat's default (`undefined`: 64 bytes, docs/PROTOCOL.md
 * §3.3). Never below our own ping body, which the peer's pongs echo.
 */
function maxPingBody (values: Values, init: HeartbeatInit, strict: boolean): number | undefined {
  const ping = init.pingBody instanceof Uint8Array ? init.pingBody : undefined
  const pong = init.pongBody instanceof Uint8Array ? init.pongBody : undefined
  const text = stringValue(values, 'max-ping-body')
  if (text === undefined) return strict && ping !== undefined && pong !== undefined ? Math.max(ping.byteLength, pong.byteLength) : undefined
  const max = parseSize('--max-ping-body', text)
  const own = ping?.byteLength ?? SEQUENCE_PING_LENGTH
  if (max < own) {
    throw new UsageError(`expected --max-ping-body (${max}) to be at least ${own}, the length of our own pings (${ping === undefined ? 'sequence numbers' : '--ping-body'}), since the peer's pongs echo them`)
  }
  return max
}

/**
 * `--max-peer-timeout`: the longest timeout or interval the peer's HELLO may make us adopt (heartbeat's
 * `maxPeerTimeout`); `undefined` for heartbeat's default (4 × our timeout, at least 3 minutes). Only a
 * HELLO asks for anything, so it needs `--hello`; and, as heartbeat requires, it is at least our own
 * `--timeout`, or a peer on our own settings would be refused.
 */
function maxPeerTimeout (values: Values, timeout: number): number | undefined {
  const text = stringValue(values, 'max-peer-timeout')
  if (text === undefined) return undefined
  if (!flagValue(values, 'hello')) throw new UsageError("--max-peer-timeout bounds what the peer's HELLO asks for: add --hello")
  const max = parseDuration('--max-peer-timeout', text, { infinity: true, min: 1 })
  if (max < timeout) {
    throw new UsageError(`expected --max-peer-timeout (${max} ms) to be at least --timeout (${timeout} ms), our own timeout, or a peer with our own settings would be refused`)
  }
  return max
}

/**
 * Ping/pong keep-alive for a format with a type byte: the format's defaults (`structBI`: the classic
 * protocol's; others: `@proto`'s), then the flags; `allowedTypes` switches the strict checks on.
 */
export function pingInit (values: Values, format: ChosenFormat, timing: { interval: number, timeout: number }, allowedTypes: number[] | undefined): HeartbeatInit {
  const init: HeartbeatInit = { ...(format.name === 'structBI' ? STRUCT_BI_KEEPALIVE : {}), ...timing }
  const pingType = stringValue(values, 'ping-type')
  const pongType = stringValue(values, 'pong-type')
  if (pingType !== undefined) init.pingType = parseByte('--ping-type', pingType)
  if (pongType !== undefined) init.pongType = parseByte('--pong-type', pongType)
  const effectivePing = init.pingType ?? FrameType.PING
  const effectivePong = init.pongType ?? FrameType.PONG
  if (effectivePing === effectivePong) throw new UsageError(`expected --ping-type and --pong-type to differ, but both are ${effectivePing}`)
  const pingBody = stringValue(values, 'ping-body')
  const pongBody = stringValue(values, 'pong-body')
  if (pingBody !== undefined) init.pingBody = body('--ping-body', pingBody, 'sequence')
  if (pongBody !== undefined) init.pongBody = body('--pong-body', pongBody, 'echo')
  if (flagValue(values, 'hello')) {
    init.hello = true
    // when our ping crosses the peer's, never yield to it: the CLI reports the RTT of its own pings
    init.crossing = 'keep'
  }
  const maxPeer = maxPeerTimeout(values, timing.timeout)
  if (maxPeer !== undefined) init.maxPeerTimeout = maxPeer
  if (allowedTypes !== undefined) init.allowedTypes = allowedTypes
  const max = maxPingBody(values, init, allowedTypes !== undefined)
  if (max !== undefined) init.maxPingBody = max
  return init
}
