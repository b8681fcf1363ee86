/**
 * What the stage does with an inbound frame, by type: a 256-entry table built once per set of options
 * (and shared by every stage with the same ones), so the read path classifies a frame with one lookup.
 */
export const Kind = {
  /** Application data: handed to the upper source. */
  DATA: 0,
  PING: 1,
  PONG: 2,
  GOAWAY: 3,
  HELLO: 4,
  /** Not in `allowedTypes`: a protocol violation. */
  REFUSED: 5
} as const

export type FrameKinds = Readonly<Uint8Array>

export interface KindsInit {
  /** `'keepalive'`: every frame is data (keep-alives are told apart by their empty body). */
  keepalive: boolean
  pingType: number
  pongType: number
  /** With HELLO negotiation on. */
  helloType: number | undefined
  goAwayType: number | undefined
  /** Data types accepted; `undefined`: all. */
  allowed: ReadonlySet<number> | undefined
}

const cache = new Map<string, FrameKinds>()
const MAX_CACHED = 64

/** The table for `init`, from a small cache (servers make every stage with the same options). */
export function frameKinds (init: KindsInit): FrameKinds {
  const key = `${init.keepalive ? 'k' : 'p'}${init.pingType},${init.pongType},${init.helloType},${init.goAwayType}:${init.allowed === undefined ? '*' : [...init.allowed].sort((a, b) => a - b).join(',')}`
  let kinds = cache.get(key)
  if (kinds !== undefined) return kinds
  const table = new Uint8Array(256)
  if (init.allowed !== undefined) table.fill(Kind.REFUSED)
  for (const type of init.allowed ?? []) table[type] = Kind.DATA
  if (!init.keepalive) {
    table[init.pingType] = Kind.PING
    table[init.pongType] = Kind.PONG
  }
  if (init.goAwayType !== undefined) table[init.goAwayType] = Kind.GOAWAY
  if (init.helloType !== undefined) table[init.helloType] = Kind.HELLO
  kinds = table
  if (cache.size >= MAX_CACHED) cache.clear()
  cache.set(key, kinds)
  return kinds
}
