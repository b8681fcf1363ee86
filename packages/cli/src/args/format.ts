import type { FrameFormat } from '@proto/codec'
import { decode, formats } from '@proto/codec'
import { UsageError } from '../errors.js'

/** The framing chosen with `--format`. */
export interface ChosenFormat {
  /** The preset's name, or the layout as compact JSON. */
  readonly name: string
  /** The header layout, as the codec takes it. */
  readonly format: FrameFormat
  /** Whether frames carry a type byte (formats without one carry DATA only, and no ping or pong). */
  readonly hasType: boolean
  /** Whether this is the `@proto` wire format, whose control frames (GOAWAY …) the CLI understands. */
  readonly isProto: boolean
}

export const PRESETS = ['proto', 'structBI', 'int32', 'lengthPrefixed'] as const
const LAYOUT_KEYS = new Set(['length', 'endian', 'type', 'lengthCounts'])

function fromJson (text: string): FrameFormat {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`expected --format to be a preset or a JSON layout, but got '${text}', which is not valid JSON (${(err as Error).message})`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`expected --format to be a JSON object such as '{"length":2,"endian":"little","type":"none"}', but got '${text}'`)
  }
  const unknown = Object.keys(parsed).filter(k => !LAYOUT_KEYS.has(k))
  if (unknown.length > 0) {
    throw new UsageError(`expected a --format layout to have only the fields length, endian, type and lengthCounts, but got ${unknown.map(k => `'${k}'`).join(', ')} (docs/PROTOCOL.md §4)`)
  }
  return parsed as FrameFormat
}

/**
 * `--format`: a preset (`proto`, `structBI`, `int32`, `lengthPrefixed`) or a JSON layout
 * (`{"length":2,"endian":"little","type":"none","lengthCounts":"body"}`, docs/PROTOCOL.md §4), checked
 * against `maxFrameLength` by the codec itself.
 */
export function parseFormat (text: string, maxFrameLength: number | undefined): ChosenFormat {
  const preset = (PRESETS as readonly string[]).includes(text) ? text as typeof PRESETS[number] : undefined
  if (preset === undefined && !text.trimStart().startsWith('{')) {
    throw new UsageError(`expected --format to be one of ${PRESETS.join(', ')} or a JSON layout, but got '${text}'`)
  }
  const format: FrameFormat = preset !== undefined ? formats[preset] : fromJson(text)
  try {
    decode([], { format, ...(maxFrameLength !== undefined ? { maxFrameLength } : {}) })
  } catch (err) {
    throw new UsageError(`invalid --format or --max-frame-length: ${(err as Error).message}`, { cause: err })
  }
  return {
    name: preset ?? JSON.stringify(format),
    format,
    hasType: (format.type ?? 'after') !== 'none',
    isProto: preset === 'proto' || (preset === undefined && isProtoLayout(format))
  }
}

function isProtoLayout (f: FrameFormat): boolean {
  const p = formats.proto
  return (f.length ?? 4) === p.length && (f.endian ?? 'big') === p.endian && (f.type ?? 'after') === p.type && (f.lengthCounts ?? 'body') === p.lengthCounts
}
