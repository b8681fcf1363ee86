import type { Frame, Hello } from '@proto/codec'
import { decodeHello } from '@proto/codec'
import { PING_INTERVAL_TOLERANCE } from './constants.js'
import { ProtocolVersionError, TooManyPingsError } from './errors.js'
import type { Emitter } from './events.js'
import type { HeartbeatConfig } from './options.js'
import type { Outbound } from './outbound.js'
import { OutstandingPings, RttRing } from './rtt.js'
import type { HeartbeatStats } from './types.js'

/** What the protocol half needs from the stage. */
export interface PeerOwner {
  readonly cfg: HeartbeatConfig
  fail(err: Error, drain: boolean): void
  tooManyPings(err: TooManyPingsError): void
  timeoutChanged(): void
  /** The peer's HELLO was accepted (the negotiated values are in force). */
  helloAccepted(hello: Hello): void
}

/** The part of `HeartbeatStats` the ping/pong protocol keeps. */
export type PeerStats = Pick<HeartbeatStats, 'rtt' | 'pingsSent' | 'pongsReceived' | 'pingsReceived' | 'pongsSent' | 'missed' | 'interval' | 'timeout'>

/**
 * The per-frame protocol of the stage: answers pings, matches pongs (RTT, adaptive timeout), reads the
 * peer's HELLO and enforces `minPingInterval`. Holds no timer; the stage asks it when a ping is due.
 */
export class Peer {
  interval: number
  timeout: number
  /** A ping is queued and not yet handed to the connection: no other is due until it is. */
  pingQueued = false
  private queuedPing: Frame | undefined
  private queuedSeq = 0
  /** With `hello: true`, until the peer's first frame. */
  awaitingHello: boolean
  readonly pingType: number
  readonly pongType: number
  private readonly rtt: RttRing
  private readonly pings = new OutstandingPings()
  private pingsSent = 0
  private pongsReceived = 0
  private pingsReceived = 0
  private pongsSent = 0
  private missed = 0
  private lastPingAt: number | undefined
  private strikes = 0
  private dataSentAtLastPing = 0

  constructor (private readonly owner: PeerOwner, private readonly outbound: Outbound, private readonly emitter: Emitter) {
    const cfg = owner.cfg
    this.interval = cfg.interval
    this.timeout = cfg.timeout
    this.awaitingHello = cfg.hello
    this.pingType = cfg.pingType
    this.pongType = cfg.pongType
    this.rtt = new RttRing(cfg.rttSamples)
  }

  /** Handles one inbound frame; `true` if it is data for the user. */
  receive (frame: Frame, now: number): boolean {
    const cfg = this.owner.cfg
    if (this.awaitingHello) {
      this.hello(frame)
      return false
    }
    if (frame.type === cfg.pingType) {
      this.pingsReceived++
      if (cfg.minPingInterval > 0 && this.tooEarly(now)) return false
      this.outbound.send({ type: cfg.pongType, body: cfg.pongBody ?? frame.body })
      return false
    }
    if (frame.type === cfg.pongType) {
      this.pong(frame, now)
      return false
    }
    return true
  }

  /** Queues a ping (the stage found nothing sent for `interval`). */
  sendPing (): void {
    const cfg = this.owner.cfg
    let body = cfg.pingBody
    if (body === undefined) {
      body = this.pings.nextBody()
      this.queuedSeq = this.pings.lastSeq
    }
    const frame = { type: cfg.pingType, body }
    // set first: the outbound may hand the frame down (controlSent) before send() returns
    this.pingQueued = true
    this.queuedPing = frame
    if (!this.outbound.send(frame)) {
      this.pingQueued = false
      this.queuedPing = undefined
    }
  }

  /** A control frame was handed to the connection at `now`. */
  controlSent (frame: Frame, now: number): void {
    if (frame === this.queuedPing) {
      this.pingQueued = false
      this.queuedPing = undefined
      if (this.pings.length > 0) this.missed++
      this.pings.sent(this.queuedSeq, now)
      this.pingsSent++
      if (this.emitter.has('ping')) this.emitter.emit('ping', { outstanding: this.pings.length })
    } else if (frame.type === this.owner.cfg.pongType) {
      this.pongsSent++
    }
  }

  stats (): PeerStats {
    return {
      rtt: this.rtt.stats(),
      pingsSent: this.pingsSent,
      pongsReceived: this.pongsReceived,
      pingsReceived: this.pingsReceived,
      pongsSent: this.pongsSent,
      missed: this.missed,
      interval: this.interval,
      timeout: this.timeout
    }
  }

  private pong (frame: Frame, now: number): void {
    this.pongsReceived++
    const sentAt = this.pings.match(frame.body, this.owner.cfg.pingBody === undefined)
    if (sentAt === undefined) return
    const rtt = Math.max(0, now - sentAt)
    this.rtt.add(rtt)
    if (this.owner.cfg.adaptive !== undefined) this.adapt()
    if (this.emitter.has('rtt')) this.emitter.emit('rtt', { rtt })
  }

  /**
   * `timeout = clamp(interval + multiplier × p99(RTT), min, max)`. On an idle link the next proof of life
   * is the pong to a ping sent at most `interval` after our last send, so `interval + RTT` is the normal
   * worst case; the multiplier is the slack for RTT spikes. If HELLO raised the interval, both bounds are
   * raised by the same amount.
   */
  private adapt (): void {
    const a = this.owner.cfg.adaptive
    const p99 = this.rtt.quantile(0.99)
    if (a === undefined || p99 === undefined) return
    const shift = this.interval - this.owner.cfg.interval
    const next = Math.min(a.max + shift, Math.max(a.min + shift, this.interval + a.multiplier * p99))
    const shorter = next < this.timeout
    this.timeout = next
    if (shorter) this.owner.timeoutChanged()
  }

  /** The ping guard: `true` if the connection is being closed for pinging too often. */
  private tooEarly (now: number): boolean {
    const cfg = this.owner.cfg
    const dataSent = this.outbound.dataSent
    if (dataSent !== this.dataSentAtLastPing) {
      // like gRPC, sending data forgives earlier strikes: the peer may ping to measure an active link
      this.strikes = 0
      this.dataSentAtLastPing = dataSent
    }
    const last = this.lastPingAt
    this.lastPingAt = now
    if (last === undefined) return false
    const gap = now - last
    if (gap >= cfg.minPingInterval * (1 - PING_INTERVAL_TOLERANCE)) return false
    if (++this.strikes <= cfg.maxPingStrikes) return false
    this.owner.tooManyPings(new TooManyPingsError(gap, cfg.minPingInterval))
    return true
  }

  /** The peer's first frame, with `hello: true`: adopt the larger interval and timeout. */
  private hello (frame: Frame): void {
    const cfg = this.owner.cfg
    this.awaitingHello = false
    if (frame.type !== cfg.helloType) {
      this.owner.fail(new ProtocolVersionError(`Expected a HELLO (type ${cfg.helloType}) as the peer's first frame; got type ${frame.type}. Enable hello on both sides or on neither`), false)
      return
    }
    let peer
    try {
      peer = decodeHello(frame.body)
    } catch (err) {
      this.owner.fail(new ProtocolVersionError(`The peer's HELLO was refused: ${(err as Error).message}`, { cause: err }), false)
      return
    }
    const interval = Math.max(cfg.interval, peer.interval)
    const timeout = Math.max(cfg.timeout, peer.timeout)
    if (timeout !== 0 && interval !== 0 && timeout <= interval) {
      this.owner.fail(new ProtocolVersionError(`Negotiated heartbeat is unusable: timeout ${timeout} ms is not above interval ${interval} ms (ours ${cfg.interval}/${cfg.timeout}, peer's ${peer.interval}/${peer.timeout})`), false)
      return
    }
    this.interval = interval
    if (cfg.adaptive === undefined || this.rtt.stats().samples === 0) this.timeout = timeout
    else this.adapt()
    this.owner.timeoutChanged()
    this.owner.helloAccepted(peer)
  }
}
