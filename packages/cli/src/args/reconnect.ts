import type { Frame } from '@proto/codec'
import type { JitterStrategy, ReconnectInit } from '@proto/reconnect'
import { UsageError } from '../errors.js'
import type { Values } from './spec.js'
import { flagValue, given, stringValue } from './spec.js'
import { badValue, parseDuration, parseInteger } from './values.js'

const BACKOFF_FLAGS = ['initial-delay', 'max-delay', 'factor', 'jitter', 'max-attempts', 'max-retry-time', 'min-stable-time'] as const
const JITTERS: readonly JitterStrategy[] = ['full', 'equal', 'decorrelated', 'none']

/** `--reconnect` and its backoff flags as `reconnect()` options, or `undefined` without `--reconnect`. */
export function resolveReconnect (values: Values): ReconnectInit<Frame> | undefined {
  const used = given(values, BACKOFF_FLAGS)
  if (!flagValue(values, 'reconnect')) {
    if (used.length > 0) throw new UsageError(`--${used[0]} is a reconnect setting: add --reconnect`)
    return undefined
  }
  const init: ReconnectInit<Frame> = {}
  const text = (name: typeof BACKOFF_FLAGS[number]): string | undefined => stringValue(values, name)
  const initial = text('initial-delay')
  const max = text('max-delay')
  const factor = text('factor')
  const jitter = text('jitter')
  const attempts = text('max-attempts')
  const retryTime = text('max-retry-time')
  const stable = text('min-stable-time')
  if (initial !== undefined) init.initialDelay = parseDuration('--initial-delay', initial)
  if (max !== undefined) init.maxDelay = parseDuration('--max-delay', max)
  if (factor !== undefined) {
    const f = Number(factor)
    if (factor.trim() === '' || !Number.isFinite(f) || f < 1) badValue('--factor', 'a number of at least 1', factor)
    init.factor = f
  }
  if (jitter !== undefined) {
    if (!(JITTERS as readonly string[]).includes(jitter)) badValue('--jitter', JITTERS.join(', '), jitter)
    init.jitter = jitter as JitterStrategy
  }
  if (attempts !== undefined) init.maxAttempts = attempts === 'never' ? Infinity : parseInteger('--max-attempts', attempts, { min: 1 })
  if (retryTime !== undefined) init.maxRetryTime = parseDuration('--max-retry-time', retryTime, { infinity: true })
  if (stable !== undefined) init.minStableTime = parseDuration('--min-stable-time', stable, { infinity: true })
  return init
}
