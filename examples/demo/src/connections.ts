import type { DisconnectReason } from '@proto/reconnect'
import type { TimelineEvent } from './timeline.js'
import type { SessionMark } from './traffic.js'

/**
 * With sessions, a connection's share of the client session's counters: what they counted from the
 * moment it came up until the next connection came up (or the run ended).
 */
export interface ConnectionSession {
  /** It resumed the session (`false`: it opened it). */
  resumed: boolean
  /** Messages the session wrote on it, first time or again. */
  sent: number
  /** Of those, messages written again: an earlier connection was lost before the server acknowledged them. */
  replayed: number
  /** Messages the server acknowledged meanwhile (handed to its application). */
  acked: number
  /** Echoes that arrived again meanwhile, already delivered: dropped by the session. */
  deduplicated: number
}

/**
 * One client connection, from dial to end. Counts are messages. New per-connection counters are added as
 * new fields; the report's connection table lists its columns as data (`report/tables.ts`).
 */
export interface ConnectionRecord {
  /** 1, 2, … in the order they came up: the epoch written into every message the connection carried. */
  id: number
  openedAtMs: number
  /** When reconnect declared it lost, or when the run closed it. */
  closedAtMs: number
  lifeMs: number
  /** Messages handed to it by the client (with sessions: first time or again). */
  handed: number
  /** Messages that reached the server's application through it (intact, first time). */
  receivedByServer: number
  /** Echoes the server wrote for the messages that reached it through this connection. */
  echoedByServer: number
  /** Of those, the ones that reached the client (on whichever connection). */
  delivered: number
  /** Messages whose last trip out was on this connection and that never reached the server. */
  lostOut: number
  /** `echoedByServer − delivered`: lost on the way back. */
  lostBack: number
  /** With sessions: its share of the session's counters; `null` without sessions. */
  session: ConnectionSession | null
  /** Reconnect declared it lost: what it carried counts as unconfirmed. */
  lost: boolean
  /** How it ended, in words. */
  ended: string
  /** With `--servers`: the server it landed on (`null`: it carried no message, or one server in-process). */
  node: number | null
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
  /** With sessions: messages the next connection wrote again because this one was lost first; `null` without. */
  replayedAfter: number | null
}

/**
 * Words for why reconnect declared a connection lost. With sessions the stage under reconnect reports the
 * loss itself (`reported`): its error says what happened (a session's `ConnectionLostError` is a close
 * without the session's END, as the peer's FIN or a FIN cut both look).
 */
export function describeDisconnect (reason: DisconnectReason, error: Error | undefined): string {
  const name = error?.name
  if (name === 'HeartbeatTimeoutError') return 'heartbeat timeout'
  if (name === 'ConnectionResetError' || (error as { code?: string } | undefined)?.code === 'ECONNRESET') return 'reset'
  if (name === 'TruncatedFrameError') return 'closed by the peer (FIN) mid-frame'
  if (reason === 'peer-ended' || name === 'ConnectionLostError') return 'closed by the peer (FIN)'
  if (name === 'SessionTakenOverError') return 'taken over by a newer connection'
  if (name === 'SessionLostError') return 'session lost'
  if (reason === 'write-ended') return 'write side ended'
  return name === undefined ? reason : `${reason}: ${name}`
}

export interface ConnectionTallies {
  handedByEpoch: number[]
  receivedByEpoch: number[]
  echoedByEpoch: number[]
  deliveredByEpoch: number[]
  lostOutByEpoch: number[]
  /** With sessions: the client session's counters as each connection came up, and at the end of the run. */
  sessionAt?: Array<SessionMark | undefined>
  sessionEnd?: Omit<SessionMark, 'resumed'>
  /** With `--servers`: the server each connection's messages reached, by connection number. */
  nodeByEpoch?: Array<number | null>
}

/** Per connection, messages whose last trip out was on it and that never reached the server. */
export function lostOutByEpoch (lastEpoch: ArrayLike<number>, receivedAt: ArrayLike<number>): number[] {
  const out: number[] = []
  for (let seq = 0; seq < lastEpoch.length; seq++) {
    const e = lastEpoch[seq]
    if (e !== 0 && !Number.isFinite(receivedAt[seq])) out[e] = (out[e] ?? 0) + 1
  }
  return out
}

/** A connection's share of the session counters: from its mark to the next connection's (or the end). */
function sessionShare (t: ConnectionTallies, id: number): ConnectionSession | null {
  const from = t.sessionAt?.[id]
  const to = t.sessionAt?.[id + 1] ?? t.sessionEnd
  if (from === undefined || to === undefined) return null
  return {
    resumed: from.resumed,
    sent: to.written - from.written,
    replayed: to.replayed - from.replayed,
    acked: to.acked - from.acked,
    deduplicated: to.deduplicated - from.deduplicated
  }
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
      node: t.nodeByEpoch?.[e.connection] ?? null,
      id: e.connection,
      openedAtMs: e.atMs,
      closedAtMs,
      lifeMs: closedAtMs - e.atMs,
      handed: n(t.handedByEpoch),
      receivedByServer: n(t.receivedByEpoch),
      echoedByServer: n(t.echoedByEpoch),
      delivered: n(t.deliveredByEpoch),
      lostOut: n(t.lostOutByEpoch),
      lostBack: Math.max(0, n(t.echoedByEpoch) - n(t.deliveredByEpoch)),
      lost: lostAt !== undefined,
      ended: lostAt?.type === 'disconnected' ? lostAt.cause : END_WORDS[end],
      session: sessionShare(t, e.connection)
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
    const next = events.find((e): e is Extract<TimelineEvent, { type: 'connected' }> => e.type === 'connected' && e.atMs >= lost.atMs)
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
      lostMessages: c.lostOut + c.lostBack,
      replayedAfter: next === undefined ? (c.session === null ? null : 0) : connections.find(r => r.id === next.connection)?.session?.replayed ?? null
    })
  }
  return out
}
