import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Frame, FrameFormat } from '../src/index.js'
import { formats } from '../src/index.js'

const PROTOCOL = fileURLToPath(new URL('../../../docs/PROTOCOL.md', import.meta.url))

/** Expands `ab*3 cd` into bytes; spaces are ignored. */
export function hex (text: string): Uint8Array {
  const parts: number[] = []
  for (const token of text.replace(/`/g, '').trim().split(/\s+/).filter(Boolean)) {
    const rep = /^([0-9a-f]{2})\*(\d+)$/i.exec(token)
    if (rep != null) {
      for (let i = 0; i < Number(rep[2]); i++) parts.push(parseInt(rep[1], 16))
      continue
    }
    if (!/^([0-9a-f]{2})+$/i.test(token)) throw new Error(`bad hex token ${token}`)
    for (let i = 0; i < token.length; i += 2) parts.push(parseInt(token.slice(i, i + 2), 16))
  }
  return Uint8Array.from(parts)
}

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

function tableRows (markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(heading)
  if (start < 0) throw new Error(`no section ${heading} in PROTOCOL.md`)
  const rows: string[][] = []
  for (const line of markdown.slice(start).split('\n').slice(1)) {
    if (line.startsWith('#')) break
    if (!line.startsWith('|') || line.startsWith('|---') || line.startsWith('| id ')) continue
    rows.push(line.split('|').slice(1, -1).map(c => c.trim()))
  }
  return rows
}

export interface RoundTripVector { id: string, format: FrameFormat, frames: Frame[], wire: Uint8Array }
export interface ErrorVector { id: string, format: FrameFormat, maxFrameLength?: number, wire: Uint8Array, frames: Frame[], error: string }

const markdown = readFileSync(PROTOCOL, 'utf8')

export const roundTrips: RoundTripVector[] = tableRows(markdown, '### 5.1').map(([id, format, frames, wire]) => ({
  id, format: parseFormat(format), frames: parseFrames(frames), wire: hex(wire)
}))

export const rejections: ErrorVector[] = tableRows(markdown, '### 5.2').map(([id, format, max, wire, frames, error]) => ({
  id,
  format: parseFormat(format),
  ...(max === '' ? {} : { maxFrameLength: Number(max) }),
  wire: hex(wire),
  frames: parseFrames(frames),
  error
}))
