import { isIP } from 'node:net'
import { MAX_FRAGMENT_BYTES, MAX_INTERVAL_MS } from './constants.js'
import { InvalidParametersError } from './errors.js'
import type { FaultPlan, FaultProxyTarget, FaultProxyTargetChooser, Fragmentation, MsRange } from './types.js'

/** `host` without the brackets of an IPv6 address written for a URL (`[::1]` → `::1`), which `net` does not take. */
export function unbracket (host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/** Whether `host` names this machine's loopback interface (an IPv6 address with or without brackets). */
export function isLoopback (host: string): boolean {
  const h = unbracket(host)
  if (h === 'localhost') return true
  if (isIP(h) === 4) return h.startsWith('127.')
  const lower = h.toLowerCase()
  if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true
  return lower.startsWith('::ffff:127.') && isIP(h) === 6
}

export function checkLoopback (what: string, host: string): void {
  if (!isLoopback(host)) {
    throw new InvalidParametersError(`${what} must be a loopback address (127.0.0.0/8, ::1 or localhost), got "${host}"; the fault proxy never touches other hosts`)
  }
}

export function checkTarget (target: FaultProxyTarget | FaultProxyTargetChooser | undefined): void {
  if (typeof target === 'function') return
  if (target == null || typeof target !== 'object') throw new InvalidParametersError('target must be { host, port } or { path }')
  if ('path' in target) {
    if (typeof target.path !== 'string' || target.path === '') throw new InvalidParametersError('target.path must be a non-empty Unix socket path')
    return
  }
  if (typeof target.host !== 'string') throw new InvalidParametersError('target.host must be a string')
  checkLoopback('target.host', target.host)
  checkPort('target.port', target.port, false)
}

export function checkPort (what: string, port: unknown, allowZero: boolean): void {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new InvalidParametersError(`${what} must be an integer port ${allowZero ? '0' : '1'}..65535, got ${String(port)}`)
  }
}

export function checkMs (what: string, ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_INTERVAL_MS) {
    throw new InvalidParametersError(`${what} must be a number of milliseconds in 0..${MAX_INTERVAL_MS}, got ${String(ms)}`)
  }
  return ms
}

export function checkPositiveInt (what: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidParametersError(`${what} must be a positive integer, got ${String(n)}`)
  }
  return n
}

export function checkRange (what: string, range: MsRange | undefined): void {
  if (range === undefined) return
  if (!Array.isArray(range) || range.length !== 2) throw new InvalidParametersError(`${what} must be [minMs, maxMs]`)
  checkMs(`${what}[0]`, range[0])
  checkMs(`${what}[1]`, range[1])
  if (range[0] > range[1]) throw new InvalidParametersError(`${what} must have min ≤ max, got [${range[0]}, ${range[1]}]`)
  // the schedule draws whole milliseconds
  if (Math.ceil(range[0]) > Math.floor(range[1])) throw new InvalidParametersError(`${what} must contain a whole number of milliseconds, got [${range[0]}, ${range[1]}]`)
}

export function checkFragmentation (fragment: Fragmentation | undefined): void {
  if (fragment === undefined) return
  if (fragment == null || typeof fragment !== 'object') throw new InvalidParametersError('fragment must be { min, max } or undefined')
  const { min, max } = fragment
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min || max > MAX_FRAGMENT_BYTES) {
    throw new InvalidParametersError(`fragment must have integers 1 ≤ min ≤ max ≤ ${MAX_FRAGMENT_BYTES}, got { min: ${String(min)}, max: ${String(max)} }`)
  }
}

export function checkThrottle (bytesPerSecond: unknown): void {
  if (typeof bytesPerSecond !== 'number' || Number.isNaN(bytesPerSecond) || bytesPerSecond < 0) {
    throw new InvalidParametersError(`throttle must be bytes per second ≥ 0 (0 or Infinity for unlimited), got ${String(bytesPerSecond)}`)
  }
}

/** Throws `InvalidParametersError` for the first thing wrong with `plan`. */
export function checkPlan (plan: FaultPlan): void {
  if (plan == null || typeof plan !== 'object') throw new InvalidParametersError('faults must be an object')
  checkRange('faults.cutEvery', plan.cutEvery)
  if (plan.cutEvery !== undefined && Math.floor(plan.cutEvery[1]) === 0) throw new InvalidParametersError('faults.cutEvery must allow an interval of 1 ms or more')
  if (plan.cutMode !== undefined && !['fin', 'reset', 'mixed'].includes(plan.cutMode)) {
    throw new InvalidParametersError(`faults.cutMode must be 'fin', 'reset' or 'mixed', got ${String(plan.cutMode)}`)
  }
  checkRange('faults.blackHoleEvery', plan.blackHoleEvery)
  checkRange('faults.blackHoleFor', plan.blackHoleFor)
  if ((plan.blackHoleEvery === undefined) !== (plan.blackHoleFor === undefined)) {
    throw new InvalidParametersError('faults.blackHoleEvery and faults.blackHoleFor go together: give both or neither')
  }
  if (plan.blackHoleEvery !== undefined && plan.blackHoleFor !== undefined && Math.floor(plan.blackHoleEvery[1]) + Math.floor(plan.blackHoleFor[1]) === 0) {
    throw new InvalidParametersError('faults.blackHoleEvery and faults.blackHoleFor cannot both be [0, 0]')
  }
  checkFragmentation(plan.fragment)
  if (plan.coalesceMs !== undefined) checkMs('faults.coalesceMs', plan.coalesceMs)
  if (plan.delayMs !== undefined) checkMs('faults.delayMs', plan.delayMs)
  if (plan.throttle !== undefined) checkThrottle(plan.throttle)
  if (plan.maxFaults !== undefined && plan.maxFaults !== 0) checkPositiveInt('faults.maxFaults', plan.maxFaults)
  if (plan.durationMs !== undefined) checkMs('faults.durationMs', plan.durationMs)
}
