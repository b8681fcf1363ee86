import { once } from 'node:events'
import type { Writable } from 'node:stream'
import type { Frame } from '@proto/codec'
import { hexDump } from './hexdump.js'

/** How received frames are printed on stdout. */
export type OutputMode = 'text' | 'raw' | 'hex' | 'json' | 'none'
export const OUTPUT_MODES: readonly OutputMode[] = ['text', 'raw', 'hex', 'json', 'none']

/** Where a frame came from, for the modes that say so. */
export interface FrameOrigin {
  /** 1-based count of frames on its connection. */
  readonly index: number
  /** The connection's label (`listen`), shown by `hex` and `json`. */
  readonly conn?: string
}

export interface Printer {
  /**
   * Writes one frame; resolves once stdout took it (waits for `drain` when stdout pushes back, and
   * rejects when `signal` aborts meanwhile or stdout fails).
   */
  print(frame: Frame, origin: FrameOrigin, signal?: AbortSignal): Promise<void>
}

const NEWLINE = Buffer.from('\n')
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** A frame as one JSON line: `{"type":0,"length":5,"text":"hello","hex":"68656c6c6f"}` (`text` only when the body is UTF-8). */
export function frameJson (frame: Frame, conn?: string): string {
  let text: string | undefined
  try {
    text = strictUtf8.decode(frame.body)
  } catch {}
  return JSON.stringify({
    ...(conn !== undefined ? { conn } : {}),
    type: frame.type,
    length: frame.body.length,
    ...(text !== undefined ? { text } : {}),
    hex: Buffer.from(frame.body.buffer, frame.body.byteOffset, frame.body.byteLength).toString('hex')
  })
}

function render (mode: OutputMode, frame: Frame, origin: FrameOrigin, hasType: boolean): Uint8Array[] {
  switch (mode) {
    case 'text': return [frame.body, NEWLINE]
    case 'raw': return [frame.body]
    case 'json': return [Buffer.from(frameJson(frame, origin.conn) + '\n')]
    case 'hex': {
      const from = origin.conn !== undefined ? ` from ${origin.conn}` : ''
      const type = hasType ? `type 0x${frame.type.toString(16).padStart(2, '0')}, ` : ''
      return [Buffer.from(`frame ${origin.index}${from}: ${type}${frame.body.length} bytes\n${hexDump(frame.body)}`)]
    }
    case 'none': return []
  }
}

/** A printer for `mode` on `out`, honouring backpressure so a slow reader of stdout slows the link down. */
export function createPrinter (mode: OutputMode, out: Writable, hasType: boolean): Printer {
  return {
    async print (frame, origin, signal) {
      let ok = true
      for (const part of render(mode, frame, origin, hasType)) {
        if (part.length > 0) ok = out.write(part)
      }
      if (!ok) await once(out, 'drain', signal !== undefined ? { signal } : {})
    }
  }
}
