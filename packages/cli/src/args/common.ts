import { DEFAULT_MAX_FRAME_LENGTH, MAX_FRAME_LENGTH_LIMIT, maxBodyLength } from '@proto/codec'
import { DEFAULT_CLOSE_TIMEOUT, DEFAULT_FRAME_TYPE, DEFAULT_OUTPUT } from '../constants.js'
import { UsageError } from '../errors.js'
import type { OutputMode } from '../frames/output.js'
import { OUTPUT_MODES } from '../frames/output.js'
import type { ChosenFormat } from './format.js'
import { parseFormat } from './format.js'
import type { Values } from './spec.js'
import { stringValue } from './spec.js'
import { badValue, parseByte, parseDuration, parseSize } from './values.js'

/** `--format` and `--max-frame-length`. */
export interface Framing {
  readonly format: ChosenFormat
  /** As given, or `undefined` for the codec's default. */
  readonly maxFrameLength: number | undefined
  /** The longest body in force: `--max-frame-length` (or its default), or less where the length field cannot say more. */
  readonly limit: number
  /** What sets `limit`, for messages: `--max-frame-length`, or the format's length field. */
  readonly limitName: string
}

export function resolveFraming (values: Values): Framing {
  const maxText = stringValue(values, 'max-frame-length')
  const maxFrameLength = maxText === undefined ? undefined : parseSize('--max-frame-length', maxText, { max: MAX_FRAME_LENGTH_LIMIT })
  const format = parseFormat(stringValue(values, 'format') ?? 'proto', maxFrameLength)
  const limit = maxBodyLength({ format: format.format, ...(maxFrameLength !== undefined ? { maxFrameLength } : {}) })
  const limitName = limit < (maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH) ? "the format's length field" : '--max-frame-length'
  return { format, maxFrameLength, limit, limitName }
}

/** `--output`. */
export function resolveOutput (values: Values): OutputMode {
  const mode = stringValue(values, 'output') ?? DEFAULT_OUTPUT
  if (!(OUTPUT_MODES as readonly string[]).includes(mode)) badValue('--output', OUTPUT_MODES.join(', '), mode)
  return mode as OutputMode
}

/** `--type`: the frame type to send; only 0 in a format without a type byte. */
export function resolveType (values: Values, format: ChosenFormat): number {
  const text = stringValue(values, 'type')
  if (text === undefined) return DEFAULT_FRAME_TYPE
  const type = parseByte('--type', text)
  if (type !== 0 && !format.hasType) throw new UsageError(`--type ${text}: format ${format.name} has no type byte and carries only type 0`)
  return type
}

/** `--close-timeout`. */
export function resolveCloseTimeout (values: Values): number {
  const text = stringValue(values, 'close-timeout')
  return text === undefined ? DEFAULT_CLOSE_TIMEOUT : parseDuration('--close-timeout', text, { min: 1 })
}

/** An optional duration flag. */
export function optionalDuration (values: Values, name: string, options: { infinity?: boolean, min?: number } = {}): number | undefined {
  const text = stringValue(values, name)
  return text === undefined ? undefined : parseDuration(`--${name}`, text, options)
}
