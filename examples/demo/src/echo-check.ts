import type { Frame } from '@proto/codec'
import { readMessage } from './message.js'

/** What the echo server's application saw. Counts are per message; `byEpoch` is indexed by the client's connection number. */
export interface ServerTally {
  /** Intact messages received for the first time. */
  received: number
  receivedByEpoch: number[]
  /** Echoes written back, by the epoch of the message. */
  echoedByEpoch: number[]
  duplicates: number
  /**
   * Messages whose sequence number was not above the previous one in the same stream: on the same
   * connection without sessions, in the same session with them.
   */
  outOfOrder: number
  /**
   * Without sessions: messages that arrived after a message with a higher sequence number had arrived on
   * a newer connection (an old connection's bytes flushed late). Allowed: order is kept per connection.
   */
  late: number
  corrupted: number
  /** TCP connections the server accepted. */
  connections: number
  heartbeatTimeouts: number
  /** When each message first reached the server (ms since the start of the run; `NaN`: never), by sequence number. */
  receivedAt: Float64Array
}

export function newServerTally (messages: number): ServerTally {
  return {
    received: 0, receivedByEpoch: [], echoedByEpoch: [], duplicates: 0, outOfOrder: 0, late: 0, corrupted: 0, connections: 0, heartbeatTimeouts: 0,
    receivedAt: new Float64Array(messages).fill(NaN)
  }
}

function bump (list: number[], i: number): void {
  list[i] = (list[i] ?? 0) + 1
}

/**
 * The echo application's check, shared by both servers: each message must be intact (size and CRC-32),
 * new, and above the previous one in its stream; every intact new message is echoed as it came. One
 * stream is one connection without sessions, one session with them. `now()`: ms since the start;
 * `onReceived` is told of each intact new message before it is echoed.
 */
export function echoChecker (
  tally: ServerTally, messages: number, size: number, now: () => number, onReceived?: (seq: number, epoch: number) => void
): (source: AsyncIterable<Frame>) => AsyncGenerator<Frame> {
  const seen = new Uint8Array(messages)
  let highest = -1
  return async function * check (source) {
    let last = -1
    for await (const frame of source) {
      const m = readMessage(frame.body, size)
      if (!m.intact || m.seq >= messages) { tally.corrupted++; continue }
      if (seen[m.seq] === 1) { tally.duplicates++; continue }
      seen[m.seq] = 1
      onReceived?.(m.seq, m.epoch)
      tally.received++
      tally.receivedAt[m.seq] = now()
      bump(tally.receivedByEpoch, m.epoch)
      if (m.seq <= last) tally.outOfOrder++
      if (m.seq < highest) tally.late++
      last = m.seq
      if (m.seq > highest) highest = m.seq
      bump(tally.echoedByEpoch, m.epoch)
      yield frame
    }
  }
}
