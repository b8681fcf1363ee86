import type { Frame, Hello } from '@proto/codec'
import { decodeGoAway, FrameType } from '@proto/codec'
import type { Source } from 'it-stream-types'
import type { Resume, SessionFrames } from '../../src/index.js'
import { decodeAck, decodeEnd, decodeResume, encodeAck, encodeEnd, encodeResume, SESSION_FLAG, SessionFrameType } from '../../src/index.js'

/**
 * The far side of a session connection, played by hand: `frames` is what the side under test runs over
 * (in place of heartbeat over codec); `send` delivers frames to it, `written` records what it wrote.
 */
export interface FakeFrames {
  frames: SessionFrames
  written: Frame[]
  aborted: Error | undefined
  closed: boolean
  send(...frames: Frame[]): void
  /** The far side ends its writing (FIN). */
  end(): void
  /** Resolves with the first written frame (from `from` on) that `match` accepts. */
  next(match?: (f: Frame) => boolean, from?: number): Promise<Frame>
  /** The far side stops reading what is written (a full socket) until `release()`. */
  hold(): void
  release(): void
  /** Frames sent to the side under test that it has not read yet. */
  unread(): number
  /** A GOAWAY from the far side as a real heartbeat reports it: an event, dispatched when the frame is read. */
  goAwayEvent(code: number, reason?: string): void
}

export interface FakeInit {
  /** The far side's HELLO flags (`undefined`: it never sends a HELLO). @default SESSION_FLAG */
  flags?: number | undefined
}

export function fakeFrames (init: FakeInit = {}): FakeFrames {
  const queue: Frame[] = []
  let ended = false
  let failure: Error | undefined
  let wakeReader: (() => void) | undefined
  const watchers: Array<() => void> = []
  const flags = 'flags' in init ? init.flags : SESSION_FLAG
  const wake = (): void => { const w = wakeReader; wakeReader = undefined; w?.() }
  let gate: Promise<void> | undefined
  let open: (() => void) | undefined
  const notify = (): void => { for (const w of watchers.splice(0)) w() }
  const fake: FakeFrames = {
    written: [],
    aborted: undefined,
    closed: false,
    send (...frames) { queue.push(...frames); wake() },
    end () { ended = true; wake() },
    async next (match = () => true, from = 0) {
      for (;;) {
        const found = fake.written.slice(from).find(match)
        if (found !== undefined) return found
        await new Promise<void>((resolve) => { watchers.push(resolve) })
      }
    },
    hold () { gate ??= new Promise<void>((resolve) => { open = resolve }) },
    release () { const o = open; gate = undefined; open = undefined; o?.() },
    unread () { return queue.length },
    goAwayEvent (code, reason = '') { events.dispatchEvent(new CustomEvent('goaway', { detail: { code, reason } })) },
    frames: undefined as unknown as SessionFrames
  }
  const source = {
    [Symbol.asyncIterator] () { return source },
    async next (): Promise<IteratorResult<Frame>> {
      const batch = await source.nextBatch()
      if (batch === undefined) return { done: true, value: undefined }
      queue.unshift(...batch.slice(1))
      return { done: false, value: batch[0] }
    },
    async nextBatch (): Promise<Frame[] | undefined> {
      while (queue.length === 0 && !ended && failure === undefined) await new Promise<void>((resolve) => { wakeReader = resolve })
      if (queue.length > 0) return queue.splice(0)
      if (failure !== undefined) throw failure
      return undefined
    },
    async return (): Promise<IteratorResult<Frame>> { return { done: true, value: undefined } }
  }
  let settleHello!: (h: Hello | undefined) => void
  const peerHello = new Promise<Hello | undefined>((resolve) => { settleHello = resolve })
  if (flags !== undefined) settleHello({ version: 1, flags, interval: 0, timeout: 0 })
  // the hand-played peer sends its GOAWAYs as frames, or as the event a real heartbeat dispatches (goAwayEvent)
  const events = new EventTarget()
  fake.frames = {
    source: source as unknown as SessionFrames['source'],
    peerHello,
    addEventListener: events.addEventListener.bind(events) as SessionFrames['addEventListener'],
    removeEventListener: events.removeEventListener.bind(events) as SessionFrames['removeEventListener'],
    async sink (frames: Source<Frame>) {
      const it: AsyncIterator<Frame> | Iterator<Frame> = Symbol.asyncIterator in frames ? frames[Symbol.asyncIterator]() : frames[Symbol.iterator]()
      for (;;) {
        if (gate !== undefined) await gate
        const r = await it.next()
        if (r.done === true) return
        fake.written.push(r.value)
        notify()
      }
    },
    async close () { fake.closed = true; ended = true; wake(); settleHello(undefined) },
    abort (err: Error) { fake.aborted ??= err; failure ??= err; wake(); settleHello(undefined); notify() }
  }
  return fake
}

// ---- frames the tests send, and what they read back ----

export const NO_TOKEN = new Uint8Array(16)
export const NO_ID = new Uint8Array(8)

export function resumeFrame (r: Partial<Resume> = {}): Frame {
  return {
    type: SessionFrameType.RESUME,
    body: encodeResume({ fresh: r.token === undefined, token: r.token ?? NO_TOKEN, id: r.id ?? NO_ID, next: r.next ?? 1, maxAckDelay: r.maxAckDelay ?? 25, windowMessages: r.windowMessages ?? 4096, windowBytes: r.windowBytes ?? 1048576, ttl: r.ttl ?? 0 })
  }
}

export const ackFrame = (position: number, end = false): Frame => ({ type: SessionFrameType.ACK, body: encodeAck({ position, end }) })
export const endFrame = (last: number): Frame => ({ type: SessionFrameType.END, body: encodeEnd(last) })
export const data = (n: number): Frame => ({ type: 0x40, body: Uint8Array.of(n) })

export const isType = (type: number) => (f: Frame): boolean => f.type === type
export const isResume = isType(SessionFrameType.RESUME)
export const isAck = isType(SessionFrameType.ACK)
export const isGoAway = isType(FrameType.GOAWAY)
export const readResume = (f: Frame): Resume => decodeResume(f.body)
export const readAck = (f: Frame): { position: number, end: boolean } => decodeAck(f.body)
export const readEnd = (f: Frame): number => decodeEnd(f.body)
export const goAwayCode = (f: Frame): number => decodeGoAway(f.body).code
