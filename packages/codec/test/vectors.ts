import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { hexBytes, markdownTable } from '@proto/stage-compliance'
import type { Frame, FrameFormat } from '../src/index.js'
import { formats } from '../src/index.js'

const PROTOCOL = fileURLToPath(new URL('../../../docs/PROTOCOL.md', import.meta.url))

/** Expands hex as PROTOCOL.md writes it into bytes (`ab*3` repeats a byte). */
export const hex = hexBytes

function parseFrames (text: string): Frame[] {
  const cell = text.replace(/`/g, '').trim()
  if (cell === '') return []
  return cell.split(/\s+/).map((token) => {
    const [type, body] = token.split(':')
    return { type: parseInt(type, 16), body: body === '-' ? new Uint8Array(0) : hex(body) }
  })
}

function parseFormat (text: string): FrameFormat {
  const cell = text.replace(/`/g, '').trim()
  if (cell.startsWith('{')) return JSON.parse(cell) as FrameFormat
  const preset = (formats as Record<string, FrameFormat>)[cell]
  if (preset == null) throw new Error(`unknown format ${cell}`)
  return preset
}

export interface RoundTripVector { id: string, format: FrameFormat, frames: Frame[], wire: Uint8Array }
export interface ErrorVector { id: string, format: FrameFormat, maxFrameLength?: number, wire: Uint8Array, frames: Frame[], error: string }

const markdown = readFileSync(PROTOCOL, 'utf8')

export const roundTrips: RoundTripVector[] = markdownTable(markdown, '### 5.1').map(([id, format, frames, wire]) => ({
  id, format: parseFormat(format), frames: parseFrames(frames), wire: hex(wire)
}))

export const rejections: ErrorVector[] = markdownTable(markdown, '### 5.2').map(([id, format, max, wire, frames, error]) => ({
  id,
  format: parseFormat(format),
  ...(max === '' ? {} : { maxFrameLength: Number(max) }),
  wire: hex(wire),
  frames: parseFrames(frames),
  error
}))
