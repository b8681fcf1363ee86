import { isIPv6 } from 'node:net'

/** An IPv6 address as its eight 16-bit groups (zone and embedded IPv4 tail allowed), or `undefined`. */
function ipv6Groups (address: string): number[] | undefined {
  let a = address.split('%')[0] as string
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a)
  if (v4 !== null) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number]
    a = `${a.slice(0, v4.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`
  }
  const halves = a.split('::')
  if (halves.length > 2) return undefined
  const groups = (s: string | undefined): string[] => s === undefined || s === '' ? [] : s.split(':')
  const head = groups(halves[0])
  const tail = groups(halves[1])
  const fill = 8 - head.length - tail.length
  if (halves.length === 1 ? fill !== 0 : fill < 0) return undefined
  const all = [...head, ...Array<string>(halves.length === 1 ? 0 : fill).fill('0'), ...tail].map(g => parseInt(g, 16))
  return all.length === 8 && all.every(g => g >= 0 && g <= 0xFFFF) ? all : undefined
}

/**
 * The source an address counts against: an IPv4 address itself (also when a dual-stack listener reports it
 * as `::ffff:a.b.c.d`), or the first `prefix` bits of an IPv6 address (`2001:db8:0:0:0:0:0:0/64`), since
 * one host usually holds a whole /64. `undefined` when there is no address (Unix sockets).
 */
export function sourceKey (address: string | undefined, prefix: number): string | undefined {
  if (address === undefined || address === '') return undefined
  const mapped = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(address)
  if (mapped !== null) return mapped[1]
  if (!isIPv6(address)) return address
  const groups = ipv6Groups(address)
  if (groups === undefined) return address
  const masked = groups.map((g, i) => {
    const bits = Math.max(0, Math.min(16, prefix - i * 16))
    return bits === 0 ? 0 : g & ((0xFFFF << (16 - bits)) & 0xFFFF)
  })
  return `${masked.map(g => g.toString(16)).join(':')}/${prefix}`
}

/** Live connections per source, for `maxConnectionsPerSource`. Entries go away when they reach zero. */
export class SourceLimit {
  private readonly counts = new Map<string, number>()

  constructor (readonly max: number, private readonly prefix: number) {}

  get enabled (): boolean {
    return this.max !== Infinity
  }

  /** The key of `address`, or `undefined` when it is not limited. */
  keyOf (address: string | undefined): string | undefined {
    return this.enabled ? sourceKey(address, this.prefix) : undefined
  }

  full (key: string): boolean {
    return (this.counts.get(key) ?? 0) >= this.max
  }

  add (key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
  }

  remove (key: string): void {
    const n = (this.counts.get(key) ?? 0) - 1
    if (n > 0) this.counts.set(key, n)
    else this.counts.delete(key)
  }

  /** Sources currently counted (for tests: the map empties when every connection is gone). */
  get size (): number {
    return this.counts.size
  }
}
