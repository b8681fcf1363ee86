import { MAX_THROTTLE_SLICE_BYTES, THROTTLE_SLICES_PER_SECOND } from './constants.js'

/**
 * A byte-rate limiter (the generic cell rate algorithm, a token bucket kept as one timestamp). Up to
 * `burst` bytes pass at once after idleness; beyond that, bytes pass at `rate` per second. Over any
 * interval of `t` ms, at most `burst + rate * t / 1000` bytes are granted.
 */
export interface Throttle {
  /** Bytes per second; `Infinity` means unlimited. */
  readonly rate: number
  /** Bytes that may pass at once. */
  readonly burst: number
  /** The largest write to make in one go, so data flows in small steps rather than long pauses. */
  readonly slice: number
  /**
   * Books `bytes` (at most `slice`) at time `now` (ms) and returns how long to wait, in ms, before
   * writing them. Bookings are cumulative: call once per write, in write order.
   */
  reserve(bytes: number, now: number): number
}

/** A throttle for `rate` bytes per second (0 or `Infinity`: unlimited). */
export function createThrottle (rate: number): Throttle {
  if (!(rate > 0) || rate === Infinity) {
    return { rate: Infinity, burst: Infinity, slice: Infinity, reserve: () => 0 }
  }
  const slice = Math.max(1, Math.min(MAX_THROTTLE_SLICE_BYTES, Math.floor(rate / THROTTLE_SLICES_PER_SECOND)))
  const burst = slice
  const msPerByte = 1000 / rate
  const burstMs = burst * msPerByte
  // Theoretical arrival time: when the link would be idle again if every booked byte went at `rate`.
  let tat = -Infinity
  return {
    rate,
    burst,
    slice,
    reserve (bytes, now) {
      tat = Math.max(tat, now) + bytes * msPerByte
      return Math.max(0, tat - now - burstMs)
    }
  }
}
