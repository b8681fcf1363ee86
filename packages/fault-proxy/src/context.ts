import type { Clock, Logger, Timers } from '@proto/interface'
import type { Random } from './random.js'
import type { LinkSettings } from './types.js'

/** What every proxied connection reads from its proxy: the live settings and shared resources. */
export interface LinkContext {
  readonly settings: Readonly<LinkSettings>
  readonly blackHoled: boolean
  readonly clock: Clock
  readonly timers: Timers
  /** Draws fragment sizes; one stream for the whole proxy, forked from the seed. */
  readonly fragmentRandom: Random
  readonly highWaterMark: number
  readonly blackHoleHoldBytes: number
  readonly finLingerMs: number
  readonly log: Logger
  /** Counts one chunk of `bytes` read in one direction. */
  read(direction: 'up' | 'down', bytes: number): void
  /** Counts `bytes` forwarded in `writes` socket writes in one direction. */
  count(direction: 'up' | 'down', bytes: number, writes: number): void
  /** Counts bytes dropped because a black hole's hold was full. */
  discard(bytes: number): void
}
