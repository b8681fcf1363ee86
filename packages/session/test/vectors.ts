import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Frame } from '@proto/codec'
import { hexBytes, markdownTable } from '@proto/stage-compliance'

const PROTOCOL = fileURLToPath(new URL('../../../docs/PROTOCOL.md', import.meta.url))
const markdown = readFileSync(PROTOCOL, 'utf8')

/** Expands hex as PROTOCOL.md writes it into bytes (`ab*3` repeats a byte). */
export const hex = hexBytes

/** The rows of the vector table under `heading`. */
const tableRows = (heading: string): string[][] => markdownTable(markdown, heading)

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
  /** The inbound extension; absent (`—`) from a RESUME without it. */
  inboundMessages?: number
  inboundBytes?: number
  body: Uint8Array
}

export const resumes: ResumeVector[] = tableRows('### 7.1').map(([id, fresh, token, sessionId, next, delay, wm, wb, ttl, im, ib, body]) => ({
  id,
  fresh: yes(fresh),
  token: hex(token),
  sessionId: hex(sessionId),
  next: Number(next),
  maxAckDelay: Number(delay),
  windowMessages: Number(wm),
  windowBytes: Number(wb),
  ttl: Number(ttl),
  ...(im !== '—' ? { inboundMessages: Number(im), inboundBytes: Number(ib) } : {}),
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
