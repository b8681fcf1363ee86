import type { Frame } from '@proto/codec'
import { APP_TYPE_MIN } from '@proto/codec'

/** Application frame types (the codec leaves 0x40–0xFF to applications). Bodies are UTF-8. */
export const ChatType = {
  /** client → server, first frame: the member's name */
  JOIN: APP_TYPE_MIN,
  /** client → server: a line to broadcast */
  SAY: APP_TYPE_MIN + 1,
  /** server → client: a broadcast line, `name: text` or `* notice` */
  MESSAGE: APP_TYPE_MIN + 2
} as const

export const text = (frame: Frame): string => new TextDecoder().decode(frame.body)
export const frame = (type: number, body: string): Frame => ({ type, body: new TextEncoder().encode(body) })
