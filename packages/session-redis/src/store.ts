import type { Logger } from '@proto/interface'
import { createLogger, toError, TypedEventTarget } from '@proto/interface'
import type { RestoreResult, SessionEnd, SessionSnapshot, SessionStore, StoredSession, StoreHost } from '@proto/session'
import type { RedisOptions } from 'ioredis'
import { Redis } from 'ioredis'
import { MAX_FLUSHES_IN_FLIGHT, MAX_OWED_FORGETS, RECONNECT_MAX_DELAY } from './constants.js'
import { SessionFencedError, StoreUnavailableError } from './errors.js'
import { Handovers } from './handover.js'
import type { StoreOptions } from './options.js'
import { encodeFrame, filledKey, laggedSnapshot, nodeKey, parseClaim, persistArgs, refillKey, sessionKeys } from './record.js'
import { CLAIM, FORGET, PERSIST, RELEASE } from './scripts.js'
import type { RedisStore, RedisStoreEvents, RedisStoreStats, StoreMode } from './types.js'

/** What this node knows of a session it holds. */
interface Held {
  keys: ReturnType<typeof sessionKeys>
  epoch: number
  /** Highest outbound position stored in Redis (-1: unknown, send the whole journal). */
  stored: number
  /** Highest outbound position sent in a PERSIST still in flight (-1: none), so the next one appends only what follows. */
  sending: number
  /** The snapshot the last flush took, for `laggedSnapshot`; `undefined` after a failure or an outage. */
  prev: SessionSnapshot | undefined
}

type Scripted = Redis & {
  persist(hash: string, list: string, ...args: Array<string | Buffer>): Promise<number>
  claimBuffer(hash: string, list: string, owner: string, ttl: string, expectedOwner: string): Promise<Buffer[] | number | null>
  forget(hash: string, list: string, epoch: string, markerTtl: string): Promise<number>
  release(hash: string, epoch: string, recovered: '0' | '1'): Promise<number>
}

/** A FORGET this node owes Redis for a session that ended while Redis was away. */
interface Owed {
  keys: ReturnType<typeof sessionKeys>
  epoch: number
  completed: boolean
  /** When its keys expire on their own (`performance.now()` ms): nothing is owed after that. */
  until: number
}

/** What `take()` answers for a session Redis lacks during a refill window. */
const REFILLING = Symbol('refilling')
/** `take()`: another node claimed the session between our read of its owner and our claim. */
const CONTENDED = Symbol('contended')
/** CLAIM's reply for a session that completed (its marker). */
const CLAIM_COMPLETED = -2

const hex = (d: Uint8Array): string => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex')

/**
 * The Redis session store: persists each session this node holds as it changes (one PERSIST script per
 * session per `persistInterval`, pipelined), hands sessions to other nodes on request and takes them from
 * other nodes (or from what a dead node persisted), and falls back to node-local while Redis is away.
 */
export class RedisSessionStore extends TypedEventTarget<RedisStoreEvents> implements SessionStore, RedisStore {
  readonly durable = true
  readonly nodeId: string
  readonly log: Logger = createLogger('session-redis')
  readonly redis: Scripted
  private host: StoreHost | undefined
  private readonly held = new Map<StoredSession, Held>()
  private readonly claims = new Map<string, { epoch: number, stored: number, recovered: boolean }>()
  private readonly dirty = new Set<StoredSession>()
  /** FORGETs owed for sessions that ended while Redis was away, by hash key; sent once it is back. */
  private readonly owed = new Map<string, Owed>()
  private readonly handovers: Handovers
  /** The next flush: a timer for the interval, or an immediate for a session whose ACKs wait. */
  private flushTimer: { cancel(): void } | undefined
  /** Flushes in flight (at most `MAX_FLUSHES_IN_FLIGHT`, and more than one only for `persistSoon`). */
  private readonly flushing = new Set<Promise<void>>()
  private readonly refreshTimer: NodeJS.Timeout
  private readonly livenessTimer: NodeJS.Timeout
  private modeNow: StoreMode = 'connecting'
  private downSince = performance.now()
  private closed = false
  /** A session asked for an early persist: the next flush does not wait for the interval. */
  private soon = false
  /** Connected to Redis before: a `filled` mark found gone since means Redis was emptied. */
  private seenRedis = false
  /** The `filled` mark this node last found or set. */
  private fillMark: string | undefined
  private readonly counts = { early: 0, lagged: 0, persists: 0, framesPersisted: 0, commands: 0, failures: 0, fenced: 0, contended: 0, completed: 0, handedOver: 0, restored: { handover: 0, recovered: 0 }, outages: 0 }

  constructor (readonly opts: StoreOptions) {
    super()
    this.nodeId = opts.nodeId
    this.redis = new Redis({ ...opts.redis, connectionName: `proto-session-${opts.nodeId}` } as RedisOptions as never) as Scripted
    this.redis.defineCommand('persist', { numberOfKeys: 2, lua: PERSIST })
    this.redis.defineCommand('claim', { numberOfKeys: 2, lua: CLAIM })
    this.redis.defineCommand('forget', { numberOfKeys: 2, lua: FORGET })
    this.redis.defineCommand('release', { numberOfKeys: 1, lua: RELEASE })
    this.redis.on('ready', () => { this.up() })
    this.redis.on('error', (err: Error) => { this.down(err) })
    this.redis.on('close', () => { this.down(new StoreUnavailableError('The connection to Redis closed')) })
    this.handovers = new Handovers(this, opts)
    this.refreshTimer = setInterval(() => { for (const s of this.held.keys()) this.changed(s) }, Math.max(1, Math.floor(opts.ttl / 3))).unref()
    this.livenessTimer = setInterval(() => { this.beat() }, Math.max(1, Math.floor(opts.nodeTtl / 3))).unref()
    this.redis.connect().catch((err: unknown) => { this.down(toError(err)) })
  }

  get mode (): StoreMode { return this.modeNow }

  async ready (): Promise<void> {
    if (this.modeNow === 'durable') return
    await new Promise<void>((resolve) => { this.addEventListener('available', () => { resolve() }, { once: true }) })
  }

  stats (): RedisStoreStats {
    return { mode: this.modeNow, held: this.held.size, dirty: this.dirty.size, owed: this.owed.size, ...this.counts, restored: { ...this.counts.restored }, handovers: this.handovers.stats() }
  }

  // ---- SessionStore ------------------------------------------------------------------------------

  bind (host: StoreHost): void {
    if (this.host !== undefined && this.host !== host) throw new Error('A Redis session store serves one session server')
    this.host = host
  }

  opened (session: StoredSession): void {
    const dhex = hex(session.digest)
    const claim = this.claims.get(dhex)
    this.claims.delete(dhex)
    this.held.set(session, { keys: sessionKeys(this.opts.prefix, dhex), epoch: claim?.epoch ?? 1, stored: claim?.stored ?? -1, sending: -1, prev: undefined })
    if (this.modeNow !== 'durable') session.persisted(Infinity)
    this.changed(session)
  }

  changed (session: StoredSession): void {
    if (!this.held.has(session)) return
    this.dirty.add(session)
    this.schedule()
  }

  /** A session's ACKs wait for a persist (its client's window is filling): the next flush starts at once. */
  persistSoon (session: StoredSession): void {
    if (!this.held.has(session) || this.modeNow !== 'durable' || this.closed) return
    this.dirty.add(session)
    if (!this.soon) this.counts.early++
    this.soon = true
    if (this.flushTimer !== undefined) {
      this.flushTimer.cancel()
      this.flushTimer = undefined
    }
    this.schedule()
  }

  ended (session: StoredSession, how: SessionEnd): void {
    const h = this.held.get(session)
    if (h === undefined) return
    this.held.delete(session)
    this.dirty.delete(session)
    if (how === 'completed') this.counts.completed++
    this.forget({ keys: h.keys, epoch: h.epoch, completed: how === 'completed', until: performance.now() + this.opts.ttl })
  }

  /**
   * Deletes a session's keys; a completed one leaves a marker for ttl (its client may resume on any node to
   * learn it is over). While Redis is away, or when the FORGET fails, it is owed and sent once Redis is back:
   * a copy left behind would be restored by another node as a live session.
   */
  private forget (o: Owed): void {
    if (this.modeNow !== 'durable' || this.closed) {
      this.owe(o)
      return
    }
    const left = Math.ceil(o.until - performance.now())
    if (left <= 0) return
    this.counts.commands++
    this.redis.forget(o.keys.hash, o.keys.list, String(o.epoch), o.completed ? String(left) : '').catch((err: unknown) => {
      this.owe(o)
      this.failed(toError(err))
    })
  }

  private owe (o: Owed): void {
    if (this.closed) return
    this.owed.delete(o.keys.hash)
    if (this.owed.size >= MAX_OWED_FORGETS) {
      const oldest = this.owed.keys().next()
      if (oldest.done !== true) this.owed.delete(oldest.value)
    }
    this.owed.set(o.keys.hash, o)
  }

  /**
   * A session `restore()` gave that the server did not take: released as it is, for the next node to take
   * as a handover (as recovered, if it was recovered here: its client has not heard so).
   */
  unused (digest: Uint8Array): void {
    const dhex = hex(digest)
    const claim = this.claims.get(dhex)
    this.claims.delete(dhex)
    if (claim === undefined || this.modeNow !== 'durable') return
    this.counts.commands++
    this.redis.release(sessionKeys(this.opts.prefix, dhex).hash, String(claim.epoch), claim.recovered ? '1' : '0').catch((err: unknown) => { this.failed(toError(err)) })
  }

  /** `restore()`'s work; `REFILLING` for a session Redis lacks while the live nodes write theirs back. */
  private async take (digest: Uint8Array): Promise<RestoreResult | typeof REFILLING | typeof CONTENDED> {
    if (this.modeNow !== 'durable') throw new StoreUnavailableError(`Redis is ${this.modeNow === 'local' ? 'unavailable' : 'not connected yet'}: a session held elsewhere cannot be taken now`)
    const dhex = hex(digest)
    const keys = sessionKeys(this.opts.prefix, dhex)
    try {
      this.counts.commands++
      const [owner, completed] = await this.redis.hmget(keys.hash, 'o', 'c')
      if (completed === '1') return 'completed'
      if (owner === null) {
        this.counts.commands++
        // emptied moments ago: its node may be alive and not have written it back yet (asked again later)
        if (await this.redis.exists(refillKey(this.opts.prefix)) === 1) return REFILLING
        return undefined
      }
      /** The live node asked to hand the session over: its handover releases the session (owner `''`). */
      let askedOf = ''
      /** The owner the claim expects to replace: any other means another node claimed it meanwhile. */
      let expected = owner
      if (owner !== '' && owner !== this.nodeId) {
        this.counts.commands++
        if (await this.redis.exists(nodeKey(this.opts.prefix, owner)) === 1) {
          askedOf = owner
          if (await this.handovers.request(owner, dhex)) expected = ''
        }
      }
      this.counts.commands++
      const reply = await this.redis.claimBuffer(keys.hash, keys.list, this.nodeId, String(this.opts.ttl), expected)
      if (reply === null) return undefined
      if (reply === CLAIM_COMPLETED) return 'completed'
      if (typeof reply === 'number') return CONTENDED // -1: its owner changed since we read it
      const claimed = parseClaim(reply, digest)
      const s = claimed.session
      this.claims.set(dhex, { epoch: claimed.epoch, stored: s.outAcked + s.journal.length, recovered: s.origin === 'recovered' })
      this.counts.restored[s.origin]++
      const from = claimed.previousOwner !== '' ? claimed.previousOwner : askedOf
      this.log.debug('session %s taken from %s (%s)', s.id, from === '' ? 'the store' : from, s.origin)
      this.safeDispatchEvent('restored', { id: s.id, origin: s.origin, from })
      return s
    } catch (err) {
      this.failed(toError(err))
      throw new StoreUnavailableError(`Redis failed while taking a session: ${toError(err).message}`, { cause: err })
    }
  }

  async restore (digest: Uint8Array): Promise<RestoreResult> {
    const r = await this.take(digest)
    if (r === REFILLING) throw new StoreUnavailableError('Redis was emptied moments ago (restarted or flushed), and the live nodes are writing their sessions back: this one may not be back yet; try again')
    if (r === CONTENDED) {
      this.counts.contended++
      throw new StoreUnavailableError('another node took this session at the same moment (the client dialled two nodes at once): it is not taken here; try again')
    }
    return r
  }

  /**
   * Another node asks for the session with this digest: stop serving it here and persist its final state,
   * released. Returns whether it was handed over.
   */
  async handOverTo (dhex: string, to: string): Promise<boolean> {
    const session = this.host?.find(Buffer.from(dhex, 'hex'))
    const h = session === undefined ? undefined : this.held.get(session)
    if (session === undefined || h === undefined) return false
    this.held.delete(session)
    this.dirty.delete(session)
    const snap = session.handOver()
    const ok = await this.persist(session, snap, h, true)
    if (ok) {
      this.counts.handedOver++
      this.safeDispatchEvent('handed-over', { id: snap.id, to, items: snap.journal.length })
    }
    return ok
  }

  /**
   * Hands every session this node holds to the store (released, exact), so their clients resume on other
   * nodes: each connection is sent GOAWAY `SHUTTING_DOWN`. For a graceful shutdown (SIGTERM). Returns how
   * many were persisted. While Redis is away it hands nothing over and throws `StoreUnavailableError`: a
   * session handed over then would exist nowhere, its client finding it unknown on the next node; the
   * sessions stay here (close the server to end them, counted, or wait for `available`).
   */
  async drain (): Promise<number> {
    const refused = (why: string): StoreUnavailableError => new StoreUnavailableError(`Redis is ${why}: no session was handed over (they stay on this node)`)
    if (this.modeNow !== 'durable' || this.closed) throw refused(this.closed ? 'closed for this store' : this.modeNow === 'local' ? 'unavailable' : 'not connected yet')
    // Redis may have gone away unnoticed (nothing was sent since): one round trip first, before anything moves
    try {
      this.counts.commands++
      await this.redis.ping()
    } catch (err) {
      this.failed(toError(err))
      throw refused(`unavailable (${toError(err).message})`)
    }
    if (this.modeNow !== 'durable' || this.closed) throw refused('unavailable')
    const all = [...this.held]
    this.held.clear()
    this.dirty.clear()
    const results = await Promise.all(all.map(async ([session, h]) => await this.persist(session, session.handOver(), h, true)))
    const n = results.filter(Boolean).length
    this.counts.handedOver += n
    if (n < all.length) {
      // Redis went away while they were handed over: their clients resume from the copy each last persisted
      throw new StoreUnavailableError(`Redis failed while the sessions were handed over: ${all.length - n} of ${all.length} could not be persisted; their clients resume elsewhere from the copy each last persisted (recovered: what they sent since is sent again, counted)`)
    }
    return n
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.refreshTimer)
    clearInterval(this.livenessTimer)
    this.flushTimer?.cancel()
    this.flushTimer = undefined
    await Promise.all(this.flushing)
    if (this.modeNow === 'durable') {
      // twice at most: a session persisted one interval behind is persisted as it is now by the second flush
      for (let i = 0; i < 2 && this.dirty.size > 0; i++) await this.flush()
      this.counts.commands++
      await this.redis.del(nodeKey(this.opts.prefix, this.nodeId)).catch(() => {})
    }
    await this.handovers.close()
    this.redis.disconnect()
  }

  // ---- persisting --------------------------------------------------------------------------------

  private schedule (): void {
    if (this.flushTimer !== undefined || this.modeNow !== 'durable' || this.closed) return
    if (this.flushing.size > 0 && (!this.soon || this.flushing.size >= MAX_FLUSHES_IN_FLIGHT)) return
    const run = (): void => {
      this.flushTimer = undefined
      this.soon = false
      this.track(this.flush(), () => { if (this.dirty.size > 0) this.schedule() })
    }
    // the interval batches changes; a session whose ACKs wait for it (persistSoon) does not wait for it:
    // its flush runs once this turn's reads are in (setImmediate, not a timer's 1 ms minimum)
    if (this.soon) {
      const immediate = setImmediate(run)
      this.flushTimer = { cancel: () => { clearImmediate(immediate) } }
    } else {
      const timer = setTimeout(run, this.opts.persistInterval)
      this.flushTimer = { cancel: () => { clearTimeout(timer) } }
    }
  }

  /** Counts `flush` in flight until it settles, then runs `after`. */
  private track (flush: Promise<void>, after: () => void): void {
    const p: Promise<void> = flush.finally(() => {
      this.flushing.delete(p)
      after()
    })
    this.flushing.add(p)
  }

  /** Persists every session that changed, pipelined (ioredis auto-pipelining batches one tick's commands). */
  private async flush (): Promise<void> {
    const batch = [...this.dirty]
    this.dirty.clear()
    await Promise.all(batch.map(async (session) => {
      const h = this.held.get(session)
      if (h === undefined) return
      const snap = session.snapshot()
      const lagged = laggedSnapshot(h.prev, snap)
      h.prev = snap
      // a writing session persisted one interval behind: it stays dirty, so the copy catches up once it pauses
      if (lagged !== undefined) {
        this.counts.lagged++
        this.dirty.add(session)
      }
      await this.persist(session, lagged ?? snap, h, false)
    }))
  }

  /** One PERSIST; on success the session may acknowledge what it holds. Returns whether it was stored. */
  private async persist (session: StoredSession, snap: SessionSnapshot, h: Held, release: boolean): Promise<boolean> {
    const base = snap.outAcked + 1
    // a release stands alone (it must hold everything); otherwise append only what follows the PERSISTs in flight
    const from = Math.max((release ? h.stored : Math.max(h.stored, h.sending)) + 1, base)
    const frames = snap.journal.slice(from - base).map(encodeFrame)
    const last = from + frames.length - 1
    if (!release && frames.length > 0) h.sending = Math.max(h.sending, last)
    try {
      this.counts.commands++
      this.counts.persists++
      const r = await this.redis.persist(h.keys.hash, h.keys.list, ...persistArgs(snap, h.epoch, this.nodeId, this.opts.ttl, release, from), ...frames)
      if (r === -1) {
        // each PERSIST in flight when the epoch moved comes back fenced: the session is fenced once
        if (this.held.get(session) === h) this.fence(session, snap.id)
        return false
      }
      if (h.sending <= last) h.sending = -1 // no later PERSIST in flight appends anything
      if (r === -2) {
        h.stored = -1
        h.sending = -1
        if (!release) this.changed(session)
        return false
      }
      this.counts.framesPersisted += frames.length
      h.stored = r
      if (!release && this.modeNow === 'durable' && this.held.get(session) === h) session.persisted(snap.received, snap)
      return true
    } catch (err) {
      h.stored = -1
      h.sending = -1
      h.prev = undefined
      if (!release && this.held.get(session) === h) this.dirty.add(session)
      this.failed(toError(err))
      return false
    }
  }

  private fence (session: StoredSession, id: string): void {
    this.counts.fenced++
    this.held.delete(session)
    this.dirty.delete(session)
    const error = new SessionFencedError(`Another node took session ${id} over; this node stops serving it`, { sessionId: id })
    this.log.debug(error.message)
    session.fenced()
    this.safeDispatchEvent('fenced', { id, error })
  }

  // ---- availability ------------------------------------------------------------------------------

  private failed (err: Error): void {
    this.counts.failures++
    this.down(err)
  }

  /** Redis went away (or a command failed or timed out): sessions acknowledge as on one node meanwhile. */
  private down (err: Error): void {
    if (this.modeNow === 'local' || this.closed) return
    const was = this.modeNow
    this.modeNow = 'local'
    this.counts.outages++
    this.downSince = performance.now()
    for (const [session, h] of this.held) {
      h.stored = -1
      h.sending = -1
      h.prev = undefined
      session.persisted(Infinity)
      this.dirty.add(session)
    }
    if (was === 'connecting') return
    const error = err instanceof StoreUnavailableError ? err : new StoreUnavailableError(`Redis is unavailable (${err.message}): sessions carry on node-local until it is back`, { cause: err })
    this.log.debug(error.message)
    this.safeDispatchEvent('unavailable', { error, sessions: this.held.size })
    // a command that failed on a live connection (a timeout): ioredis may not reconnect by itself
    if (this.redis.status === 'ready') setTimeout(() => { this.probe() }, this.opts.nodeTtl / 3).unref()
  }

  /** Checks whether a Redis that failed a command answers again. */
  private probe (): void {
    if (this.modeNow !== 'local' || this.closed) return
    this.counts.commands++
    this.redis.ping().then(() => { this.up() }, () => { setTimeout(() => { this.probe() }, this.opts.nodeTtl / 3).unref() })
  }

  /** The handover channel is subscribed (again), or lost: without it this node cannot hand sessions over. */
  listening (ready: boolean, err?: Error): void {
    if (ready) this.up()
    else this.down(err ?? new StoreUnavailableError('The Redis subscriber connection closed: handovers cannot be heard'))
  }

  /** Redis is back: everything this node holds is persisted again, then acknowledged against it. */
  private up (): void {
    if (this.modeNow === 'durable' || this.closed || this.redis.status !== 'ready' || !this.handovers.subscribed) return
    this.modeNow = 'durable'
    for (const s of this.held.keys()) this.dirty.add(s)
    this.beat()
    this.checkFilled()
    const owed = [...this.owed.values()]
    this.owed.clear()
    for (const o of owed) this.forget(o)
    const downtime = performance.now() - this.downSince
    this.track(Promise.all(this.flushing).then(async () => { await this.flush() }), () => {
      if (this.modeNow !== 'durable') return
      this.log.debug('Redis is available again after %d ms', Math.round(downtime))
      this.safeDispatchEvent('available', { downtime, sessions: this.held.size })
      if (this.dirty.size > 0) this.schedule()
    })
  }

  /**
   * Whether Redis may have been emptied (restarted without persistence, flushed): then every live node
   * writes its sessions back as it reconnects, and a session missing meanwhile may only be missing for
   * now. The `filled` mark holds a value of the node that set it. A node that finds no mark sets one and
   * opens the refill window (a reconnect's longest backoff and a node's ttl), in which a missing session
   * is refused as retryable rather than unknown: it cannot tell a first start from an emptied Redis (a
   * node that started while Redis was away may be the first back). A node that reconnects and finds a
   * mark other than the one it knew opens the window too: Redis was emptied and another node was first.
   */
  private checkFilled (): void {
    const reconnected = this.seenRedis
    this.seenRedis = true
    const prefix = this.opts.prefix
    const mark = `${this.nodeId}:${Date.now()}`
    this.counts.commands++
    this.redis.set(filledKey(prefix), mark, 'NX').then(async (set) => {
      let emptied = set === 'OK'
      if (emptied) this.fillMark = mark
      else {
        this.counts.commands++
        const found = await this.redis.get(filledKey(prefix))
        emptied = reconnected && found !== this.fillMark
        this.fillMark = found ?? undefined
      }
      if (!emptied) return
      this.counts.commands++
      this.log.debug('Redis %s: a missing session is retryable for %d ms, while the nodes write theirs back', reconnected ? 'was emptied' : 'holds nothing yet', this.refillWindow)
      await this.redis.set(refillKey(prefix), '1', 'PX', this.refillWindow)
    }).catch((err: unknown) => { this.failed(toError(err)) })
  }

  /** How long after Redis was emptied every live node has written its sessions back: its longest reconnect delay, then a beat. */
  private get refillWindow (): number { return RECONNECT_MAX_DELAY + this.opts.nodeTtl }

  /** This node is alive (other nodes ask it for handovers while this key exists). */
  private beat (): void {
    if (this.modeNow !== 'durable' || this.closed) return
    this.counts.commands++
    this.redis.set(nodeKey(this.opts.prefix, this.nodeId), String(Date.now()), 'PX', this.opts.nodeTtl).catch((err: unknown) => { this.failed(toError(err)) })
  }
}
