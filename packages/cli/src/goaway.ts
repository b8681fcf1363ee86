/**
 * What the CLI makes of a GOAWAY from the peer. The heartbeat stage reads GOAWAY frames itself (they never
 * reach `source`), reports each with its `goaway` event, and, when the peer then ends its side, makes
 * `source` throw a `GoAwayError` (`NORMAL` and unknown codes end it cleanly). The CLI prints the GOAWAY on
 * stderr and decides from its code whether the peer's end is an orderly finish (exit 0, like a peer that
 * simply closes) or a failure (exit 1).
 */
import { GoAwayCode } from '@proto/codec'
import { GoAwayError } from '@proto/heartbeat'

const CODE_NAMES = new Map<number, string>(Object.entries(GoAwayCode).map(([name, code]) => [code, name]))

/**
 * Codes after which the peer's end is a failure of the exchange: it refuses us for good (`DO_NOT_RETRY`,
 * the final code), or it closed us for something we did (`PROTOCOL_ERROR`, `TOO_MANY_PINGS`). Every other
 * code (`SHUTTING_DOWN`, `IDLE_TIMEOUT`; `NORMAL` and unknown codes never raise) is an orderly end.
 */
const FAILING_CODES: ReadonlySet<number> = new Set([GoAwayCode.PROTOCOL_ERROR, GoAwayCode.TOO_MANY_PINGS, GoAwayCode.DO_NOT_RETRY])

/** `GOAWAY 3 SHUTTING_DOWN (restart)`: a GOAWAY as the stderr lines show it. */
export function describeGoAway (goAway: { code: number, reason: string }): string {
  return `GOAWAY ${goAway.code} ${CODE_NAMES.get(goAway.code) ?? 'unknown code'}${goAway.reason !== '' ? ` (${goAway.reason})` : ''}`
}

/**
 * Whether `err` is the peer ending its side in order after a GOAWAY: a `GoAwayError` that is not final,
 * with a code that does not blame us, and not the failure of the connection (that one has a `cause`).
 * Such an end finishes an exchange as the peer closing would.
 */
export function isOrderlyGoAway (err: unknown): boolean {
  return err instanceof GoAwayError && err.cause === undefined && !err.final && !FAILING_CODES.has(err.code)
}

/** Whether redialling cannot help after `err`: the peer refused us for good (GOAWAY `DO_NOT_RETRY`). */
export function isFinalGoAwayError (err: Error): boolean {
  return err instanceof GoAwayError && err.final
}
