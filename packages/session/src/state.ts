import type { SessionLostReason } from './errors.js'

/** Our side's parameters, announced in RESUME. */
export interface SessionParams {
  /** The longest we delay an ACK (ms). */
  maxAckDelay: number
  /** Unacknowledged items we keep for replay at most. */
  windowMessages: number
  /** Unacknowledged body bytes we keep for replay at most. */
  windowBytes: number
  /** Server: how long a disconnected session is kept (ms); client: 0. */
  ttl: number
}

/** The hooks a session's current connection offers its state (for acknowledgements). */
export interface AckSink {
  /** `items` items of `bytes` body bytes in all were handed to the application. */
  delivered(items: number, bytes: number): void
  /** A duplicate was dropped: the peer is replaying what we have. */
  duplicate(): void
  /** The peer's END was handed to the application. */
  endDelivered(): void
  /** The application tore the session down: tell the peer (GOAWAY `SESSION_CLOSED`) and drop the connection. */
  endSession(err: Error): void
  /** The acknowledgement limit rose (a session store persisted more, our END included): acknowledge, and send END, as it allows now. */
  ackNow(): void
  /** The session leaves this node (handed over through a store): GOAWAY `SHUTTING_DOWN`, so the peer resumes elsewhere. */
  moveAway(err: Error): void
}

/** Counters of one session (or one client, across the sessions it made). */
export interface SessionCounters {
  /** Items handed to the application. */
  delivered: number
  /** Items dropped because the application already had them (replays after a resume). */
  deduplicated: number
  /** Items written to a connection, first time or again. */
  sent: number
  /** Items written again after a resume because the peer had not acknowledged them. */
  resent: number
  /**
   * Items a new connection was fed that the peer's RESUME said it had: not written again. (One an ACK on the
   * new connection covers beyond the RESUME is written all the same: the peer numbers what arrives from its
   * RESUME on, and drops it as a duplicate.)
   */
  skipped: number
  /** ACK frames we wrote to a connection. */
  acksSent: number
  /** ACK frames the peer sent us. */
  acksReceived: number
  /** Successful handshakes that resumed an existing session. */
  resumes: number
  /** Sessions that could not be resumed. */
  sessionsLost: number
  /** Unconfirmed items sent again into a new session after a loss (at-least-once: may be duplicates). */
  resentAfterLoss: number
  /** Unconfirmed items given up after a loss (`onLost: 'drop'`). */
  droppedAfterLoss: number
  /** Control frames of types this version does not know, ignored. */
  ignoredControl: number
  /**
   * Client: items re-sent to a server that restored the session from a store copy after the node holding
   * it died (RESUME flag `RECOVERED`): that node may have handed them to its application already, so the
   * server's application may see them twice (at-least-once at that boundary).
   */
  possibleDuplicates: number
}

export function createCounters (): SessionCounters {
  return { delivered: 0, deduplicated: 0, sent: 0, resent: 0, skipped: 0, acksSent: 0, acksReceived: 0, resumes: 0, sessionsLost: 0, resentAfterLoss: 0, droppedAfterLoss: 0, ignoredControl: 0, possibleDuplicates: 0 }
}

/**
 * Everything a session keeps across its connections, shared by the endpoint (which delivers items and
 * counts) and the current connection's stage (which numbers, acknowledges and resumes). Positions are
 * per incarnation (`gen`): a session lost and replaced by a new one starts again from 1.
 */
export class SessionState {
  /** The session's secret (client: the one the server issued; server: only while answering a RESUME). */
  token: Uint8Array | undefined
  /** Public id: 16 hex digits. */
  id: string | undefined
  /** Server's ttl, as announced (ms). */
  ttl = 0
  /** Incarnation: bumped when a lost session is replaced by a new one. */
  gen = 0
  // outbound, this incarnation
  /** Highest sequence number the peer acknowledged (and we confirmed). */
  outAcked = 0
  /** Highest sequence number handed to any connection. */
  outSent = 0
  /** Our END's position once our writing has ended. */
  endAt: number | undefined
  /** The peer acknowledged our END. */
  endAcked = false
  // inbound: the last item handed to the application, and its incarnation
  /** The incarnation of the last item handed to the application. */
  inGen = 0
  /** The sequence number of the last item handed to the application (in `inGen`). */
  inSeq = 0
  /** The peer's END position, once received, and the incarnation it belongs to. */
  peerEndAt: number | undefined
  /** The incarnation `peerEndAt` belongs to; -1 before any END. */
  peerEndGen = -1
  /** The application has been handed the peer's END. */
  inEnded = false
  /**
   * Client: a complete session lingers no more. The server is known to have our acknowledgement of its END
   * (its GOAWAY `SESSION_CLOSED`, or its answer to a RESUME), or the one RESUME a lingering session makes
   * after losing its connection was made (it carries that acknowledgement again), or waiting timed out.
   */
  lingerOver = false
  /**
   * Server: the session was restored from a store with the peer's direction complete (its END taken, every
   * item before it delivered, and possibly acknowledged): the peer sends no END again, so the connections of
   * this node end the application's source themselves.
   */
  peerEndRestored = false
  /**
   * The highest inbound position an ACK may carry: with a durable session store, what it has persisted
   * (so a node that dies never has acknowledged more than the next node restores); `Infinity` otherwise.
   */
  ackLimit = Infinity
  /**
   * Whether our END may go out: with a durable session store, only once the store persisted it (a node that
   * dies after its END reached the client must leave the next node a copy with that END); `true` otherwise.
   */
  endPersisted = true
  /**
   * Whether an ACK may acknowledge the peer's END: with a durable session store, only once the store
   * persisted that the END was delivered (`inEnded`): a client whose END was acknowledged never sends it
   * again, so a node restoring a copy without it would wait for it for good; `true` otherwise.
   */
  peerEndPersisted = true
  /** Server: restored from a store copy its previous node did not hand over; announced in RESUME until acknowledged. */
  recovered = false
  /** Called when positions move (a server session with a durable store persists them). */
  onChange: (() => void) | undefined
  /**
   * Called when an ACK goes out that `ackLimit` holds below what was received: the peer's window is filling
   * while the store has not persisted (a durable store is asked to persist at once).
   */
  onAckHeld: (() => void) | undefined
  /** The current connection's acknowledgement hooks. */
  stage: AckSink | undefined
  /** The session's counters (a client's run on across the sessions it makes). */
  readonly counters = createCounters()

  /**
   * @param role - which end of the session this is
   * @param params - our side's parameters, announced in RESUME
   */
  constructor (readonly role: 'client' | 'server', readonly params: SessionParams) {}

  /** The highest position handed to the application in this incarnation (what RESUME and ACK carry). */
  get received (): number {
    return this.inGen === this.gen ? this.inSeq : 0
  }

  /** The position an ACK carries now: what was handed to the application, within `ackLimit`. */
  get ackable (): number {
    const received = this.received
    return received < this.ackLimit ? received : this.ackLimit
  }

  /** Both directions have ended and both ENDs were acknowledged. */
  get complete (): boolean {
    return this.endAcked && this.inEnded
  }

  /** Starts a new incarnation after a loss: positions restart at 1 both ways, the token is forgotten. */
  renew (): void {
    this.gen++
    this.token = undefined
    this.id = undefined
    this.outAcked = 0
    this.outSent = 0
    this.endAt = undefined
    this.endAcked = false
    this.peerEndAt = undefined
    this.inEnded = false
    this.lingerOver = false
  }
}

/** What a connection's stage tells the session when the session cannot go on. */
export interface SessionLoss {
  reason: SessionLostReason
  message: string
  /**
   * The server answered our RESUME with `SESSION_CLOSED`: it completed the session (it had everything we
   * wrote, END included, and we had acknowledged its END) and remembers that it did (docs/PROTOCOL.md §6.5).
   */
  completed?: boolean
}
