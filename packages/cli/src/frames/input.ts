import { readFile, stat } from 'node:fs/promises'
import type { Frame } from '@proto/codec'
import { hexBytes } from '../args/values.js'
import { InputError } from '../errors.js'
import type { Line } from './lines.js'
import { splitLines } from './lines.js'

/** How stdin lines become frames. */
export type InputMode = 'text' | 'hex' | 'json'
export const INPUT_MODES: readonly InputMode[] = ['text', 'hex', 'json']

export interface InputInit {
  readonly mode: InputMode
  /** Frame type of text lines and files. */
  readonly type: number
  /** Whether the format carries a type byte (without one only type 0 can be sent). */
  readonly hasType: boolean
  readonly maxFrameLength: number
  /** What sets `maxFrameLength`, for messages (default `--max-frame-length`). */
  readonly limitName?: string
  /** Files to send, one frame each; when given, stdin is not read. */
  readonly files: readonly string[]
  readonly stdin: AsyncIterable<Uint8Array>
}

/**
 * The frames to send, read lazily from stdin or files. `frames` never throws: bad input, or `stop()`,
 * ends it normally, so every frame read before is still sent and the connection is half-closed in
 * order; `error` then says what was wrong.
 */
export interface FrameInput {
  readonly frames: AsyncIterable<Frame>
  /** Why the input stopped early, if it was bad. */
  readonly error: InputError | undefined
  /** Stops reading (a pending read of stdin is abandoned). */
  stop(): void
}

/** Checks that every `--file` exists, is a file and fits in a frame, before anything connects. */
export async function checkFiles (files: readonly string[], maxFrameLength: number, limitName = '--max-frame-length'): Promise<void> {
  for (const path of files) {
    let size: number
    try {
      const s = await stat(path)
      if (!s.isFile()) throw new Error('not a regular file')
      size = s.size
    } catch (err) {
      throw new InputError(`file '${path}'`, `cannot be read: ${(err as Error).message}`, { cause: err })
    }
    if (size > maxFrameLength) throw new InputError(`file '${path}'`, `${size} bytes, longer than ${limitName} allows (${maxFrameLength})`)
  }
}

export function openInput (init: InputInit): FrameInput {
  const stopper = new AbortController()
  let error: InputError | undefined
  const check = (where: string, frame: Frame): Frame => {
    if (frame.body.length > init.maxFrameLength) throw new InputError(where, `${frame.body.length} bytes, longer than ${init.limitName ?? '--max-frame-length'} allows (${init.maxFrameLength})`)
    if (!init.hasType && frame.type !== 0) throw new InputError(where, `frame type ${frame.type}, but the format has no type byte and carries only type 0`)
    return frame
  }
  async function * frames (): AsyncGenerator<Frame> {
    try {
      if (init.files.length > 0) {
        for (const path of init.files) {
          if (stopper.signal.aborted) return
          const body = await readFile(path).catch((err: Error) => { throw new InputError(`file '${path}'`, `cannot be read: ${err.message}`, { cause: err }) })
          yield check(`file '${path}'`, { type: init.type, body })
        }
        return
      }
      for await (const line of splitLines(init.stdin, maxLine(init), stopper.signal, 'stdin', init.limitName)) {
        const frame = toFrame(init, line)
        if (frame === undefined) continue
        yield check(`stdin line ${line.number}`, frame)
      }
    } catch (err) {
      if (!(err instanceof InputError)) throw err
      error = err
    }
  }
  return {
    frames: frames(),
    get error () { return error },
    stop: () => { stopper.abort() }
  }
}

/** The longest line a frame of `maxFrameLength` bytes can take in each mode (so longer ones fail early). */
function maxLine (init: InputInit): number {
  const max = init.maxFrameLength
  if (init.mode === 'text') return max + 1 // a trailing \r
  if (init.mode === 'hex') return 3 * max + 16 // spaces between bytes, a type prefix
  return 6 * max + 1024 // \u escapes in JSON text
}

function toFrame (init: InputInit, line: Line): Frame | undefined {
  const where = `stdin line ${line.number}`
  if (init.mode === 'text') {
    const end = line.bytes.at(-1) === 0x0D ? line.bytes.length - 1 : line.bytes.length
    return { type: init.type, body: line.bytes.subarray(0, end) }
  }
  const text = Buffer.from(line.bytes).toString('utf8').trim()
  if (text === '' || text.startsWith('#')) return undefined
  return init.mode === 'hex' ? hexFrame(where, text, init.type) : jsonFrame(where, text, init.type)
}

/** `[TYPE:]HEX`: `68656c6c6f`, `11:48 45 4c 4c 4f`, `0x40:-` (`-` is an empty body). */
function hexFrame (where: string, text: string, defaultType: number): Frame {
  const colon = /^(0x[0-9a-fA-F]{1,2}|[0-9a-fA-F]{1,2}):/.exec(text)
  const type = colon === null ? defaultType : Number.parseInt(colon[1]!.replace(/^0x/i, ''), 16)
  const rest = colon === null ? text : text.slice(colon[0].length).trim()
  const body = rest === '-' ? new Uint8Array(0) : hexBytes(rest)
  if (body === undefined) throw new InputError(where, `expected hex digits (optionally 'TYPE:' first, '-' for an empty body), but got '${preview(text)}'`)
  return { type, body }
}

/** `{"type": 64, "hex": "…"}`, or `"base64"`, or `"text"` (UTF-8); the first of hex, base64, text is the body. */
function jsonFrame (where: string, text: string, defaultType: number): Frame {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (err) {
    throw new InputError(where, `not valid JSON (${(err as Error).message})`)
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InputError(where, `expected a JSON object such as {"type":0,"text":"hello"}, but got '${preview(text)}'`)
  const o = v as Record<string, unknown>
  const type = o.type ?? defaultType
  if (typeof type !== 'number' || !Number.isInteger(type) || type < 0 || type > 255) throw new InputError(where, `expected "type" to be a whole number from 0 to 255, but got ${JSON.stringify(o.type)}`)
  let body: Uint8Array | undefined
  if (o.hex !== undefined) body = typeof o.hex === 'string' ? hexBytes(o.hex) : undefined
  else if (o.base64 !== undefined) body = typeof o.base64 === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(o.base64) ? Uint8Array.from(Buffer.from(o.base64, 'base64')) : undefined
  else if (o.text !== undefined) body = typeof o.text === 'string' ? new TextEncoder().encode(o.text) : undefined
  else body = new Uint8Array(0)
  if (body === undefined) throw new InputError(where, 'expected "hex" to be hex digits, "base64" to be base64 or "text" to be a string')
  return { type, body }
}

function preview (text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}
