import { ANNOUNCED_PING_BODY_LENGTH, MAX_OUTSTANDING_PINGS, PING_BODY_LENGTH } from './constants.js'

/** Round-trip statistics over the last samples, in milliseconds; `undefined` until the first pong. */
export interface RttStats {
  /** The latest sample. */
  last: number | undefined
  /** The smallest of the kept samples. */
  min: number | undefined
  /** The arithmetic mean of the kept samples. */
  mean: number | undefined
  /** The 99th percentile of the kept samples (nearest rank: the largest while fewer than 100 are kept). */
  p99: number | undefined
  /** Samples the statistics cover (at most `rttSamples`). */
  samples: number
}

/** The slots a ring takes at its first sample. */
const FIRST_SLOTS = 16

/**
 * Keeps the last `capacity` RTT samples in a ring: a plain array of doubles (no typed array and off-heap
 * store per connection), made at the first sample with 16 slots and remade twice as large each time it
 * fills, the last time with exactly `capacity` slots. An array grown one `push` at a time would keep V8's
 * slack: 40 slots for the default 32 samples, 0.09 KiB more on every connection that has measured 17 round
 * trips.
 */
export class RttRing {
  private ring: number[] | undefined
  private next = 0
  private size = 0
  /** The latest sample (meaningful once `size > 0`): a number from the start, so a store allocates nothing. */
  private last = 0

  constructor (private readonly capacity: number) {}

  add (rtt: number): void {
    let ring = this.ring
    if (ring === undefined) ring = this.ring = new Array<number>(Math.min(this.capacity, FIRST_SLOTS))
    else if (this.size === ring.length && this.size < this.capacity) ring = this.ring = widened(ring, Math.min(this.capacity, 2 * ring.length))
    // until the ring is full, `next` is `size`: the first free slot
    ring[this.next] = rtt
    this.next = (this.next + 1) % this.capacity
    if (this.size < this.capacity) this.size++
    this.last = rtt
  }

  /** The `q` quantile (0–1) of the kept samples, nearest-rank. */
  quantile (q: number): number | undefined {
    const ring = this.ring
    if (ring === undefined || this.size === 0) return undefined
    const rank = Math.max(0, Math.min(this.size - 1, Math.ceil(q * this.size) - 1))
    if (rank === this.size - 1) {
      // with fewer than 100 samples the nearest-rank p99 is the largest: no copy, no sort
      let max = -Infinity
      for (let i = 0; i < this.size; i++) if (ring[i] > max) max = ring[i]
      return max
    }
    return this.sorted(ring)[rank]
  }

  /** Samples kept. */
  get samples (): number {
    return this.size
  }

  /** The 10th, 50th and 90th percentiles (nearest rank) from one sort; `undefined` before the first sample. */
  spread (): { p10: number, p50: number, p90: number } | undefined {
    const ring = this.ring
    if (ring === undefined || this.size === 0) return undefined
    const sorted = this.sorted(ring)
    const at = (q: number): number => sorted[Math.max(0, Math.ceil(q * this.size) - 1)]
    return { p10: at(0.1), p50: at(0.5), p90: at(0.9) }
  }

  /** The kept samples, sorted (a copy: the ring's slots past `size` are empty). */
  private sorted (ring: number[]): Float64Array {
    const out = new Float64Array(this.size)
    for (let i = 0; i < this.size; i++) out[i] = ring[i]
    return out.sort()
  }

  stats (): RttStats {
    if (this.ring === undefined || this.size === 0) return { last: undefined, min: undefined, mean: undefined, p99: undefined, samples: 0 }
    let min = Infinity
    let sum = 0
    for (let i = 0; i < this.size; i++) {
      const v = this.ring[i]
      if (v < min) min = v
      sum += v
    }
    return { last: this.last, min, mean: sum / this.size, p99: this.quantile(0.99), samples: this.size }
  }
}

/** `ring`'s samples in a new array of exactly `slots` slots. */
function widened (ring: number[], slots: number): number[] {
  const out = new Array<number>(slots)
  for (let i = 0; i < ring.length; i++) out[i] = ring[i]
  return out
}

/**
 * Our pings that still wait for a pong. With sequence bodies a pong is matched by its body; with a fixed
 * body pongs are matched in order (the peer answers in order over one stream). The oldest is kept in two
 * fields, the rest (a peer more than one pong behind) in an array made only then: most connections never
 * have more than one ping out, and two arrays per connection cost 0.4 KiB of heap.
 */
export class OutstandingPings {
  private count = 0
  private firstSeq = 0
  private firstAt = 0
  /** The pings after the oldest, oldest first, as `seq, sentAt` pairs; `undefined` while there are none. */
  private more: number[] | undefined
  private seq = 0

  get length (): number {
    return this.count
  }

  /** The sequence number of the last body made by `nextBody()`. */
  get lastSeq (): number {
    return this.seq
  }

  /** When the oldest ping still unanswered was sent (`undefined`: none). */
  get oldestSentAt (): number | undefined {
    return this.count > 0 ? this.firstAt : undefined
  }

  /**
   * The body of the next sequence ping: the sequence number as u64 big-endian, followed by `interval` as u32
   * when given (an adaptive connection, docs/PROTOCOL.md §3.4).
   */
  nextBody (interval?: number): Uint8Array {
    const seq = ++this.seq
    const body = new Uint8Array(interval === undefined ? PING_BODY_LENGTH : ANNOUNCED_PING_BODY_LENGTH)
    writeU32(body, 0, Math.floor(seq / 0x1_0000_0000))
    writeU32(body, 4, seq >>> 0)
    if (interval !== undefined) writeU32(body, 8, interval)
    return body
  }

  /** Records a ping handed to the connection at `at`. Forgets the oldest beyond the limit. */
  sent (seq: number, at: number): void {
    if (this.count >= MAX_OUTSTANDING_PINGS) this.dropOldest()
    if (this.count === 0) {
      this.firstSeq = seq
      this.firstAt = at
    } else {
      (this.more ??= []).push(seq, at)
    }
    this.count++
  }

  /** Matches a pong; returns when its ping was sent, or `undefined` if it matches none. */
  match (body: Uint8Array, bySequence: boolean): number | undefined {
    if (this.count === 0) return undefined
    let i = 0
    if (bySequence) {
      if (body.byteLength !== PING_BODY_LENGTH && body.byteLength !== ANNOUNCED_PING_BODY_LENGTH) return undefined
      const seq = readU32(body, 0) * 0x1_0000_0000 + readU32(body, 4)
      i = this.indexOf(seq)
      if (i < 0) return undefined
    }
    const at = i === 0 ? this.firstAt : (this.more as number[])[2 * i - 1]
    // everything older than the matched ping is unanswered for good: pongs come in order
    for (let k = 0; k <= i; k++) this.dropOldest()
    return at
  }

  /** The position (0 = oldest) of the ping with sequence number `seq`, or -1. */
  private indexOf (seq: number): number {
    if (this.firstSeq === seq) return 0
    const more = this.more
    if (more !== undefined) {
      for (let k = 0; k < more.length; k += 2) if (more[k] === seq) return k / 2 + 1
    }
    return -1
  }

  private dropOldest (): void {
    if (this.count === 0) return
    this.count--
    const more = this.more
    if (more === undefined) return
    this.firstSeq = more[0]
    this.firstAt = more[1]
    if (more.length === 2) this.more = undefined
    else more.splice(0, 2)
  }
}

function writeU32 (b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24
  b[at + 1] = v >>> 16
  b[at + 2] = v >>> 8
  b[at + 3] = v
}

/** The interval an announced PING body carries (docs/PROTOCOL.md §3.4), or `undefined` for a body without one. */
export function announcedInterval (body: Uint8Array): number | undefined {
  return body.byteLength === ANNOUNCED_PING_BODY_LENGTH ? readU32(body, 8) : undefined
}

function readU32 (b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0
}
