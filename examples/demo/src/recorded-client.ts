import type { Frame } from '@proto/codec'
import type { DurableDuplex } from '@proto/reconnect'
import { createClient } from './client.js'
import { describeDisconnect } from './connections.js'
import { watchHeartbeat } from './heartbeat-events.js'
import { readMessage } from './message.js'
import type { TimelineEvent } from './timeline.js'
import type { ClientTally } from './traffic.js'

export interface RecordedClientInit {
  host: string
  port: number
  size: number
  heartbeatInterval: number
  heartbeatTimeout: number
  /** What the client saw, filled in as it happens. */
  tally: ClientTally
  events: TimelineEvent[]
  /** Milliseconds since the start of the run. */
  now(): number
}

/**
 * The demo's client stack with everything it does recorded: each connection's number, when it came up
 * and how it was lost, each message handed to it, each heartbeat timeout and RTT sample.
 */
export function createRecordedClient (init: RecordedClientInit): DurableDuplex<Frame> {
  const { tally: t, events, now } = init
  const durable = createClient({
    host: init.host,
    port: init.port,
    heartbeatInterval: init.heartbeatInterval,
    heartbeatTimeout: init.heartbeatTimeout,
    onConnection: (hb) => {
      t.connections++
      watchHeartbeat(hb, {
        timeout: () => { t.heartbeatTimeouts++; events.push({ type: 'heartbeat-timeout', atMs: now(), side: 'client' }) },
        rtt: (rtt) => { t.heartbeatAt.push(now()); t.heartbeatRtt.push(rtt) }
      })
    },
    onHanded: (frame, epoch) => {
      t.handedByEpoch[epoch] = (t.handedByEpoch[epoch] ?? 0) + 1
      t.handedAt[readMessage(frame.body, init.size).seq] = now()
    }
  })
  let epoch = 0
  durable.addEventListener('connected', (e) => {
    epoch = t.connections
    events.push({ type: 'connected', atMs: now(), connection: epoch, attempt: e.detail.attempt })
  })
  durable.addEventListener('disconnected', (e) => {
    t.lostEpochs.add(epoch)
    const { reason, error } = e.detail
    events.push({ type: 'disconnected', atMs: now(), connection: epoch, reason, error: error === undefined ? undefined : `${error.name}: ${error.message}`, cause: describeDisconnect(reason, error) })
  })
  return durable
}
