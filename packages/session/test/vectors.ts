import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Frame } from '@proto/codec'

const PROTOCOL = fileURLToPath(new URL('../../../docs/PROTOCOL.md', import.meta.url))
const markdown = readFileSync(PROTOCOL, 'utf8')

/** Expands `ab*3 cd` into bytes; spaces and backticks are ignored. */
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

/** The rows of the table under `heading` (up to the next heading), cells trimmed, header and rule skipped. */
function tableRows (heading: string): string[][] {
  const start = markdown.indexOf(heading)
  if (start < 0) throw new Error(`no section ${heading} in PROTOCOL.md`)
  const rows: string[][] = []
  for (const line of markdown.slice(start).split('\n').slice(1)) {
    if (line.startsWith('#')) break
    if (!line.startsWith('|') || line.startsWith('|---') || line.startsWith('| id ')) continue
    rows.push(line.split('|').slice(1, -1).map(c => c.trim().replace(/`/g, '')))
  }
  if (rows.length === 0) throw new Error(`no rows under ${heading}`)
  return rows
}

const yes = (cell: string): boolean => cell === 'yes'

export interface ResumeVector {
  id: string
  fresh: boolean
  token: Uint8Array
  sessionId: Uint8Array
  next: number
  maxAckDelay: number
  windowMessages: number
  windowBytes: number
  ttl: number
  body: Uint8Array
}

export const resumes: ResumeVector[] = tableRows('### 7.1').map(([id, fresh, token, sessionId, next, delay, wm, wb, ttl, body]) => ({
  id,
  fresh: yes(fresh),
  token: hex(token),
  sessionId: hex(sessionId),
  next: Number(next),
  maxAckDelay: Number(delay),
  windowMessages: Number(wm),
  windowBytes: Number(wb),
  ttl: Number(ttl),
  body: hex(body)
}))

export const acks = tableRows('### 7.2').map(([id, position, end, body]) => ({ id, position: Number(position), end: yes(end), body: hex(body) }))

export const ends = tableRows('### 7.3').map(([id, position, body]) => ({ id, position: Number(position), body: hex(body) }))

export const rejections = tableRows('### 7.4').map(([id, type, body]) => ({ id, type, body: hex(body) }))

function parseFrames (cell: string): Frame[] {
  return cell.split(/\s+/).filter(Boolean).map((token) => {
    const [type, body] = token.split(':')
    return { type: parseInt(type, 16), body: body === '-' ? new Uint8Array(0) : hex(body) }
  })
}

export const wireFrames = tableRows('### 7.5').map(([id, frames, wire]) => ({ id, frames: parseFrames(frames), wire: hex(wire) }))

export const numbering = tableRows('### 7.6').map(([id, types, positions]) => ({
  id,
  types: types.split(/\s+/).map(t => parseInt(t, 16)),
  positions: positions.split(/\s+/).map(p => p === '-' ? undefined : Number(p))
}))
