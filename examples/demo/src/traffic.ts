import type { Frame } from '@proto/codec'
import { FrameType } from '@proto/codec'
import { createMessage, readMessage } from './message.js'

/**
 * Where the client's session counters stood when a connection came up (with sessions): what happens
 * until the next one comes up is that connection's share.
 */
export interface SessionMark {
  /** The connection resumed the session (rather than opening it). */
  resumed: boolean
  /** The session's `sent`, `resent`, `link.confirmed` and `deduplicated` at that moment. */
  written: number
  replayed: number
  acked: number
  deduplicated: number
}

/** What the client saw. Times are ms since the start of the run; `byEpoch` lists are indexed by connection number. */
export interface ClientTally {
  /** Messages handed to each connection's heartbeat, first time or again. */
  handedByEpoch: number[]
  /** Echoes delivered, by the connection that carried the message to the server (the epoch it echoes). */
  deliveredByEpoch: number[]
  lostEpochs: Set<number>
  /** The last connection each message was written on (`0`: never), by sequence number. */
  lastEpoch: Uint32Array
  /** With sessions: where each connection's session counters stood when it came up, by connection number. */
  sessionAt: Array<SessionMark | undefined>
  delivered: number
  duplicates: number
  outOfOrder: number
  corrupted: number
  heartbeatTimeouts: number
  connections: number
  /** When each message was first handed to a connection (`NaN`: never), by sequence number. */
  handedAt: Float64Array
  /** When each message handed again to a later connection was handed again (sessions replay). */
  replayAt: number[]
  /** Each echo's arrival time and round trip, in arrival order. */
  echoAt: number[]
  echoRtt: number[]
  /** Each heartbeat pong's arrival time and round trip. */
  heartbeatAt: number[]
  heartbeatRtt: number[]
  /** The client's heartbeat ping interval: when it took each value (ms), the value (ms) and why. */
  intervalAt: number[]
  interval: number[]
  intervalReason: string[]
  /** Echo round trip, smoothed (for the progress line). */
  lastRtt: number | undefined
}

export function newClientTally (messages: number): ClientTally {
  return {
    handedByEpoch: [], deliveredByEpoch: [], lostEpochs: new Set(), lastEpoch: new Uint32Array(messages), sessionAt: [],
    delivered: 0, duplicates: 0, outOfOrder: 0, corrupted: 0, heartbeatTimeouts: 0, connections: 0,
    handedAt: new Float64Array(messages).fill(NaN), replayAt: [], echoAt: [], echoRtt: [], heartbeatAt: [], heartbeatRtt: [], intervalAt: [], interval: [], intervalReason: [], lastRtt: undefined
  }
}

const bump = (list: number[], i: number): void => { list[i] = (list[i] ?? 0) + 1 }

/** Records message `seq` written on connection `epoch` at `at`: the first time, or again (a replay). */
export function recordHanded (t: ClientTally, seq: number, epoch: number, at: number): void {
  if (seq < 0 || seq >= t.lastEpoch.length) return
  bump(t.handedByEpoch, epoch)
  if (t.lastEpoch[seq] === 0) t.handedAt[seq] = at
  else t.replayAt.push(at)
  t.lastEpoch[seq] = epoch
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

export interface ProduceInit {
  messages: number
  size: number
  seed: number
  /** Messages per second; 0 = as fast as the sink takes them. */
  rate: number
  /** Stops producing (the run was interrupted or hit its limit). */
  signal: AbortSignal
  /** Called once the last message has been produced. */
  onDone(): void
}

/** The messages, offered at `rate` per second (paced in 10 ms steps, catching up after an outage). */
export async function * produce (init: ProduceInit): AsyncGenerator<Frame> {
  const started = performance.now()
  for (let seq = 0; seq < init.messages; seq++) {
    if (init.rate > 0) {
      while (!init.signal.aborted && seq >= (performance.now() - started) * init.rate / 1000) await sleep(10)
    }
    if (init.signal.aborted) return
    yield { type: FrameType.DATA, body: createMessage(seq, init.size, init.seed) }
  }
  init.onDone()
}

/** Reads the echoes: each must be intact, new, and later than the one before. `now()`: ms since the start. */
export async function readEchoes (source: AsyncIterable<Frame>, messages: number, size: number, t: ClientTally, now: () => number): Promise<void> {
  const seen = new Uint8Array(messages)
  let last = -1
  for await (const frame of source) {
    const m = readMessage(frame.body, size)
    if (!m.intact || m.seq >= messages) { t.corrupted++; continue }
    if (seen[m.seq] === 1) { t.duplicates++; continue }
    seen[m.seq] = 1
    if (m.seq <= last) t.outOfOrder++
    last = m.seq
    t.delivered++
    bump(t.deliveredByEpoch, m.epoch)
    const at = now()
    const rtt = at - t.handedAt[m.seq]
    t.echoAt.push(at)
    t.echoRtt.push(rtt)
    t.lastRtt = t.lastRtt === undefined ? rtt : t.lastRtt + (rtt - t.lastRtt) / 16
  }
}
