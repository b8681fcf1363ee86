import type { Frame, FrameDuplex } from '@proto/codec'
import type { Source } from 'it-stream-types'

/** Which way a frame travels: from the stage on end `a` to the one on `b`, or back. */
export type Direction = 'a→b' | 'b→a'

/**
 * Two frame duplexes joined by a scripted network, for two stages under fake timers: each frame is
 * delivered `delay(direction, frame)` ms after it was written (never before an earlier one: a stream keeps
 * its order), or dropped while the link is black-holed (nothing arrives, nothing ends: a NAT that lost its
 * mapping). Records what crossed it.
 */
export interface ScriptedLink {
  a: FrameDuplex
  b: FrameDuplex
  /** One-way delay of each frame written from now on; default 0. */
  delay: (direction: Direction, frame: Frame) => number
  /** Whether a frame written now gets onto the link at all (called first; may black-hole the link); default yes. */
  admit: (direction: Direction, frame: Frame) => boolean
  /** Drops every frame written from now on, both ways (`false` restores the link). */
  blackHole(on: boolean): void
  /** Frames written to the link, with when (and `deliveredAt`: when they arrived; `NaN` while in flight or dropped). */
  log: Array<{ direction: Direction, frame: Frame, sentAt: number, deliveredAt: number }>
  /** Ends both sides (as if both sockets closed) and drops what is in flight. */
  end(): void
}

interface End {
  queue: Frame[]
  wake: (() => void) | undefined
  ended: boolean
  failure: Error | undefined
  lastAt: number
}

export function scriptedLink (): ScriptedLink {
  const ends: Record<'a' | 'b', End> = {
    a: { queue: [], wake: undefined, ended: false, failure: undefined, lastAt: 0 },
    b: { queue: [], wake: undefined, ended: false, failure: undefined, lastAt: 0 }
  }
  let holed = false
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const wake = (end: End): void => {
    const w = end.wake
    end.wake = undefined
    w?.()
  }

  function source (end: End): AsyncIterableIterator<Frame> & { nextBatch: () => Promise<Frame[] | undefined> } {
    const wait = async (): Promise<void> => {
      while (end.queue.length === 0 && !end.ended && end.failure === undefined) await new Promise<void>((resolve) => { end.wake = resolve })
      if (end.failure !== undefined && end.queue.length === 0) throw end.failure
    }
    const it = {
      [Symbol.asyncIterator]: () => it,
      async next (): Promise<IteratorResult<Frame>> {
        await wait()
        const frame = end.queue.shift()
        return frame === undefined ? { done: true, value: undefined } : { done: false, value: frame }
      },
      async nextBatch (): Promise<Frame[] | undefined> {
        await wait()
        return end.queue.length === 0 ? undefined : end.queue.splice(0)
      },
      async return (): Promise<IteratorResult<Frame>> {
        end.ended = true
        wake(end)
        return { done: true, value: undefined }
      }
    }
    return it
  }

  function side (self: 'a' | 'b'): FrameDuplex {
    const other = ends[self === 'a' ? 'b' : 'a']
    const direction: Direction = self === 'a' ? 'a→b' : 'b→a'
    return {
      source: source(ends[self]),
      async sink (frames: Source<Frame>): Promise<void> {
        for await (const frame of frames) {
          if (ends[self].failure !== undefined) continue
          const entry = { direction, frame, sentAt: performance.now(), deliveredAt: Number.NaN }
          link.log.push(entry)
          if (!link.admit(direction, frame) || holed) continue
          const at = Math.max(other.lastAt, entry.sentAt + link.delay(direction, frame))
          other.lastAt = at
          const t = setTimeout(() => {
            timers.delete(t)
            entry.deliveredAt = performance.now()
            other.queue.push(frame)
            wake(other)
          }, at - entry.sentAt)
          timers.add(t)
        }
      },
      abort (err: Error): void {
        ends[self].failure ??= err
        wake(ends[self])
      }
    }
  }

  const link: ScriptedLink = {
    a: side('a'),
    b: side('b'),
    delay: () => 0,
    admit: () => true,
    blackHole (on) {
      holed = on
      if (on) {
        for (const t of timers) clearTimeout(t)
        timers.clear()
      }
    },
    log: [],
    end () {
      for (const t of timers) clearTimeout(t)
      timers.clear()
      for (const end of Object.values(ends)) {
        end.ended = true
        wake(end)
      }
    }
  }
  return link
}

/** A deterministic pseudo-random generator in [0, 1) (mulberry32), for scripted jitter. */
export function seeded (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6D2B79F5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
