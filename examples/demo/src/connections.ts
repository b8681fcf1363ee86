import type { DisconnectReason } from '@proto/reconnect'
import type { TimelineEvent } from './timeline.js'

/**
 * One client connection, from dial to end. Counts are messages. New per-connection counters (acknowledged,
 * replayed, de-duplicated, resumed) are added as new fields; the report's connection table lists its
 * columns as data (`CONNECTION_COLUMNS` in `report/tables.ts`).
 */
export interface ConnectionRecord {
  /** 1, 2, … in dial order: the epoch written into every message the connection carried. */
  id: number
  openedAtMs: number
  /** When reconnect declared it lost, or when the run closed it. */
  closedAtMs: number
  lifeMs: number
  /** Messages handed to it by the client. */
  handed: number
  /** Of those, the ones that reached the server (intact, first time). */
  receivedByServer: number
  /** Echoes the server sent back for messages this connection carried. */
  echoedByServer: number
  /** Of those, the ones that reached the client. */
  delivered: number
  /** `handed − receivedByServer`: lost on the way out. */
  lostOut: number
  /** `echoedByServer − delivered`: lost on the way back. */
  lostBack: number
  /** Reconnect declared it lost: what it carried counts as unconfirmed. */
  lost: boolean
  /** How it ended, in words. */
  ended: string
}

/** One outage: a connection lost, from the fault that broke it to the first echo after. Times in ms. */
export interface Outage {
  /** The connection that was lost. */
  connection: number
  /** What broke it: 'FIN cut', 'reset', 'black hole', or 'unknown'. */
  fault: string
  /** When the fault struck this connection (the later of the fault and the connection's start). */
  brokenAtMs: number
  /** When reconnect declared the connection lost, and how it noticed. */
  lostAtMs: number
  detectedBy: string
  /** When the next connection came up, and when the first echo after the loss arrived. */
  reconnectedAtMs: number | undefined
  restoredAtMs: number | undefined
  /** Fault → declared lost. */
  detectMs: number
  /** Declared lost → next connection up. */
  redialMs: number | undefined
  /** Fault → first echo after it: how long the application saw nothing come back. */
  totalMs: number | undefined
  /** Messages the connection lost, both ways. */
  lostMessages: number
}

/** Words for why reconnect declared a connection lost. */
export function describeDisconnect (reason: DisconnectReason, error: Error | undefined): string {
  const name = error?.name
  if (name === 'HeartbeatTimeoutError') return 'heartbeat timeout'
  if (name === 'ConnectionResetError' || (error as { code?: string } | undefined)?.code === 'ECONNRESET') return 'reset'
  if (reason === 'peer-ended') return 'closed by the peer (FIN)'
  if (reason === 'write-ended') return 'write side ended'
  return name === undefined ? reason : `${reason}: ${name}`
}

export interface ConnectionTallies {
  handedByEpoch: number[]
  receivedByEpoch: number[]
  echoedByEpoch: number[]
  deliveredByEpoch: number[]
}

/** How the connection still open at the end ended: the run's own outcome. */
export type RunEnd = 'complete' | 'interrupted' | 'failed'

const END_WORDS: Record<RunEnd, string> = { complete: 'closed cleanly (run complete)', interrupted: 'closed (run interrupted)', failed: 'aborted (run failed)' }

/** One record per connection the client made, from the events and the per-epoch tallies. */
export function connectionRecords (events: TimelineEvent[], t: ConnectionTallies, durationMs: number, end: RunEnd): ConnectionRecord[] {
  const out: ConnectionRecord[] = []
  for (const e of events) {
    if (e.type !== 'connected') continue
    const lostAt = events.find(d => d.type === 'disconnected' && d.connection === e.connection)
    const closedAtMs = lostAt?.atMs ?? durationMs
    const n = (list: number[]): number => list[e.connection] ?? 0
    out.push({
      id: e.connection,
      openedAtMs: e.atMs,
      closedAtMs,
      lifeMs: closedAtMs - e.atMs,
      handed: n(t.handedByEpoch),
      receivedByServer: n(t.receivedByEpoch),
      echoedByServer: n(t.echoedByEpoch),
      delivered: n(t.deliveredByEpoch),
      lostOut: Math.max(0, n(t.handedByEpoch) - n(t.receivedByEpoch)),
      lostBack: Math.max(0, n(t.echoedByEpoch) - n(t.deliveredByEpoch)),
      lost: lostAt !== undefined,
      ended: lostAt?.type === 'disconnected' ? lostAt.cause : END_WORDS[end]
    })
  }
  return out
}

/** The first value in ascending `sorted` that is above `t`. */
function firstAfter (sorted: ArrayLike<number>, t: number): number | undefined {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid] > t) hi = mid
    else lo = mid + 1
  }
  return lo < sorted.length ? sorted[lo] : undefined
}

/**
 * One outage per lost connection: the fault that most likely broke it (the last cut or black hole that
 * started no more than `window` ms before the loss), when reconnect noticed, when the next connection came
 * up, and when the first echo came back (`echoAt`: echo arrival times, ascending).
 */
export function outages (events: TimelineEvent[], connections: ConnectionRecord[], echoAt: ArrayLike<number>, window: number): Outage[] {
  const out: Outage[] = []
  for (const c of connections) {
    if (!c.lost) continue
    const lost = events.find(e => e.type === 'disconnected' && e.connection === c.id)
    if (lost?.type !== 'disconnected') continue
    let fault: TimelineEvent | undefined
    for (const e of events) {
      if (e.atMs > lost.atMs) break
      if ((e.type === 'cut' || e.type === 'black-hole') && e.atMs >= lost.atMs - window) fault = e
    }
    const brokenAtMs = fault === undefined ? lost.atMs : Math.max(fault.atMs, c.openedAtMs)
    const next = events.find(e => e.type === 'connected' && e.atMs >= lost.atMs)
    const restoredAtMs = firstAfter(echoAt, lost.atMs)
    out.push({
      connection: c.id,
      fault: fault === undefined ? 'unknown' : fault.type === 'cut' ? (fault.mode === 'fin' ? 'FIN cut' : 'reset') : 'black hole',
      brokenAtMs,
      lostAtMs: lost.atMs,
      detectedBy: lost.cause,
      reconnectedAtMs: next?.atMs,
      restoredAtMs,
      detectMs: lost.atMs - brokenAtMs,
      redialMs: next === undefined ? undefined : next.atMs - lost.atMs,
      totalMs: restoredAtMs === undefined ? undefined : restoredAtMs - brokenAtMs,
      lostMessages: c.lostOut + c.lostBack
    })
  }
  return out
}
