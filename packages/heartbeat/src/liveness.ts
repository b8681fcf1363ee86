import type { Clock, Timers } from '@proto/interface'
import { createLogger, systemClock, systemTimers } from '@proto/interface'
import type { Clocks, Gates, KeepAlivePolicy } from './decide.js'
import { decide, nextDue } from './decide.js'
import type { EventSink } from './events.js'
import { sharedGrid } from './grid.js'
import type { PeerTiming } from './peer.js'
import type { PumpClocks } from './pump.js'
import type { TimerOwner } from './timer.js'
import { Timer } from './timer.js'

const log = createLogger('heartbeat')

/**
 * The gates of a decision, filled just before it and read only within it: decisions are synchronous and
 * call nothing that decides in turn, so every stage shares this one object instead of making one per timer
 * firing and per re-arm.
 */
const GATES: { -readonly [K in keyof Gates]: Gates[K] } = { canPing: false, watching: false, stalled: false, inputReadAt: -Infinity, deadline: Infinity }

/** What the time-keeping part needs from its stage. */
export interface LivenessOwner {
  /** Writing is open and no ping is waiting to go out. */
  readonly canPing: boolean
  /** The receive clock runs: reading is open and not paused by our own backpressure. */
  readonly watching: boolean
  /** When a closing stage gives up (`Infinity` when not closing). */
  readonly closeDeadline: number
  /** Whether the stage has failed or finished: time no longer matters, except for `graceOver`. */
  readonly over: boolean
  /** A ping is due: queue one. */
  ping(): void
  /** How far the frame the lower duplex is receiving has come (grows with its bytes); `0` when it cannot tell. */
  readonly frameProgress: number
  /** The peer was silent for `silence` ms. */
  dead(silence: number): void
  /** The close deadline passed. */
  expired(): void
  /** A failed stage's grace period (see `graceUntil`) is over. */
  graceOver(): void
}

/**
 * The stage's sense of time: the two clocks (last sent, last received), the one timer, event-loop lag,
 * and the application of `decide()` — the only place where time-based decisions are acted upon.
 */
export class Liveness implements Clocks, TimerOwner, Pick<PeerTiming, 'timingChanged' | 'sentDataSince'>, PumpClocks {
  // the clocks set at every ping or pong start as numbers (set in the constructor): a field that starts
  // `undefined` would take a freshly allocated number at every store, twice per ping on every connection.
  // Those set only under backpressure or a stalled loop start `undefined` instead: a number field holds a
  // box of its own (16 B) on every connection from the start.
  lastReceivedAt = -Infinity
  private lastControlAt = -Infinity
  /**
   * The progress of the frame being received, as last noted (see `tick`); `-1` after a frame arrived, until
   * the next tick notes it. A frame still arriving is life too: a peer sending one large frame over a slow
   * link is busy, not dead.
   */
  private progressSeen = -1
  /** When a user frame was last handed down (a lower bound during bursts). */
  lastDataAt = -Infinity
  /** When reading last resumed after our own backpressure (`undefined`: never stopped). */
  private resumedFrom: number | undefined
  lastLag = 0
  maxLag = 0
  stalls = 0
  /**
   * From when the last completed yield gave pending input a chance to be read: the moment it started
   * (every phase of the event loop, timers included, ran at least once after that); `undefined` before the
   * first. See `Gates.inputReadAt`.
   */
  private inputReadAt: number | undefined
  /** When the yield now in progress started. */
  private yieldFrom: number | undefined
  private readonly timer: Timer

  constructor (
    private readonly clock: Clock,
    timers: Timers,
    private readonly policy: KeepAlivePolicy,
    private readonly stallThreshold: number,
    private readonly owner: LivenessOwner,
    private readonly events: EventSink
  ) {
    // on the system clock and timers, the stage's timer waits on the process's shared grid
    this.timer = new Timer(clock, timers, this, clock === systemClock && timers === systemTimers ? sharedGrid() : undefined)
    this.lastControlAt = this.lastReceivedAt = clock.now()
  }

  /** When we last handed anything down (for data during bursts, a slightly early lower bound). */
  get lastSentAt (): number {
    return Math.max(this.lastControlAt, this.lastDataAt)
  }

  /** Frames from the peer were read at `now`. */
  received (now: number): void {
    this.lastReceivedAt = now
    this.progressSeen = -1
  }

  /** When reading last resumed after our own backpressure (`-Infinity`: never stopped). */
  get resumedAt (): number {
    return this.resumedFrom ?? -Infinity
  }

  /** Reading resumed at `now` after our own backpressure: the receive clock restarts (the silence was ours). */
  resumed (now: number): void {
    this.resumedFrom = now
    if (now > this.lastReceivedAt) this.lastReceivedAt = now
    this.rearm(now)
  }

  /** User frames were handed down at `now` (a lower bound during bursts). */
  dataSent (now: number): void {
    this.lastDataAt = now
  }

  sentDataSince (at: number): boolean {
    return this.lastDataAt >= at
  }

  timingChanged (): void {
    this.rearm(this.clock.now())
  }

  /** A control frame was handed down at `now`. */
  controlSent (now: number): void {
    this.lastControlAt = now
    this.rearm(now)
  }

  /** Decides at once (the stage started, or its state changed in a way that may make something due). */
  check (): void {
    this.tick(this.clock.now(), false)
  }

  /** Makes sure the timer fires by the earliest moment anything is due (activity only moves that later). */
  rearm (now: number): void {
    if (this.owner.over) return
    const policy = this.policy
    const due = nextDue(this, policy, this.gates(false))
    this.timer.arm(policy.wakeAt === undefined ? due : Math.min(due, policy.wakeAt(now)), now)
  }

  /** After a failure: the timer fires only for `graceOver` at `at` (clock ms). */
  graceUntil (at: number): void {
    this.timer.cancel()
    this.timer.arm(at, this.clock.now())
  }

  dispose (): void {
    this.timer.dispose()
  }

  fired (now: number, lag: number): void {
    this.lastLag = lag
    if (lag > this.maxLag) this.maxLag = lag
    const stalled = lag > this.stallThreshold
    if (stalled) {
      this.stalls++
      log.debug('timer fired %d ms late: event loop stalled', Math.round(lag))
      this.events.safeDispatchEvent('stall', { lag })
    }
    this.tick(now, stalled)
  }

  yielded (now: number): void {
    this.inputReadAt = this.yieldFrom
    this.tick(now, false)
  }

  /** What the stage allows now, in the one `GATES` object (read only within the decision it is made for). */
  private gates (stalled: boolean): Gates {
    const owner = this.owner
    const g = GATES
    g.canPing = owner.canPing
    g.watching = owner.watching
    g.stalled = stalled || this.timer.yielding
    g.inputReadAt = this.inputReadAt ?? -Infinity
    g.deadline = owner.closeDeadline
    return g
  }

  private tick (now: number, stalled: boolean): void {
    const owner = this.owner
    if (owner.over) {
      owner.graceOver()
      return
    }
    const d = decide(now, this, this.policy, this.gates(stalled))
    if (d.action === 'dead') {
      // bytes of a frame still arriving since the last look: the peer is sending, not silent (with no tick
      // since the last frame, as without pings, any progress counts once)
      const progress = owner.frameProgress
      if (progress > 0 && progress > this.progressSeen) {
        this.progressSeen = progress
        this.lastReceivedAt = now
        this.rearm(now)
        return
      }
      owner.dead(d.silence)
      return
    }
    // note where the frame in progress stood, once after each frame (a tick comes at least every interval)
    if (this.progressSeen < 0) this.progressSeen = owner.frameProgress
    switch (d.action) {
      case 'expire':
        owner.expired()
        return
      case 'yield':
        // a stage about to judge its peer still proves itself alive: its own due ping goes out first
        if (d.ping) owner.ping()
        if (!this.timer.yielding) this.yieldFrom = now
        this.timer.yieldToInput()
        return
      case 'ping':
        owner.ping()
        this.timer.arm(this.until(d.until, now), now)
        return
      case 'wait':
        this.timer.arm(this.until(d.until, now), now)
    }
  }

  /** `until`, or sooner when the policy asks to look again (an adaptive interval watching a queued ping). */
  private until (until: number, now: number): number {
    const policy = this.policy
    return policy.wakeAt === undefined ? until : Math.min(until, policy.wakeAt(now))
  }
}
