import type { AddressInfo, Server, Socket } from 'node:net'
import { createServer } from 'node:net'
import type { Clock, Logger, TimerHandle, Timers } from '@proto/interface'
import { createLogger, systemClock, systemTimers, validate } from '@proto/interface'
import {
  DEFAULT_BLACK_HOLE_HOLD_BYTES, DEFAULT_FIN_LINGER_MS, DEFAULT_HIGH_WATER_MARK, DEFAULT_LISTEN_HOST
} from './constants.js'
import type { LinkContext } from './context.js'
import { InvalidParametersError } from './errors.js'
import { Link, reset } from './link.js'
import type { PlanRunner } from './plan-runner.js'
import { runPlan } from './plan-runner.js'
import type { Random } from './random.js'
import { randomSeed, seededRandom, toSeed } from './random.js'
import { faultSchedule, RANDOM_STREAM } from './schedule.js'
import type {
  CloseReason, CutMode, FaultAction, FaultEvent, FaultPlan, FaultProxy, FaultProxyInit, FaultProxyStats,
  FaultProxyTarget, FaultProxyTargetChooser, Fragmentation, LinkSettings
} from './types.js'
import {
  checkFragmentation, checkLoopback, checkMs, checkPlan, checkPort, checkPositiveInt, checkTarget, checkThrottle, unbracket
} from './validate.js'

function emptyStats (): FaultProxyStats {
  return {
    connections: 0, activeConnections: 0, refused: 0, bufferedBytes: 0, bytesReadUp: 0, bytesReadDown: 0, readsUp: 0, readsDown: 0, bytesUp: 0, bytesDown: 0, writesUp: 0, writesDown: 0,
    cuts: 0, connectionsCut: 0, blackHoles: 0, discardedBytes: 0, faults: 0
  }
}

class FaultProxyImpl implements FaultProxy, LinkContext {
  readonly seed: number
  readonly clock: Clock
  readonly timers: Timers
  readonly fragmentRandom: Random
  readonly highWaterMark: number
  readonly blackHoleHoldBytes: number
  readonly finLingerMs: number
  readonly log: Logger
  blackHoled = false
  private readonly current: LinkSettings
  private readonly counters = emptyStats()
  private readonly links = new Set<Link>()
  private readonly refusing = new Set<Promise<void>>()
  private readonly listeners = new Set<(event: FaultEvent) => void>()
  private readonly server: Server
  private readonly startedAt: number
  private holeTimer: TimerHandle | undefined
  private plan: PlanRunner | undefined
  private nextId = 0
  private closing: Promise<void> | undefined

  constructor (private readonly init: FaultProxyInit, private readonly target: FaultProxyTarget | FaultProxyTargetChooser) {
    const faults: FaultPlan = init.faults ?? {}
    this.seed = toSeed(init.seed ?? randomSeed())
    this.clock = init.clock ?? systemClock
    this.timers = init.timers ?? systemTimers
    this.fragmentRandom = seededRandom(this.seed).fork(RANDOM_STREAM.fragments)
    this.highWaterMark = init.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
    this.blackHoleHoldBytes = init.blackHoleHoldBytes ?? DEFAULT_BLACK_HOLE_HOLD_BYTES
    this.finLingerMs = init.finLingerMs ?? DEFAULT_FIN_LINGER_MS
    this.log = createLogger('fault-proxy')
    this.current = {
      delayMs: faults.delayMs ?? 0,
      throttle: faults.throttle !== undefined && faults.throttle > 0 ? faults.throttle : Infinity,
      fragment: faults.fragment,
      coalesceMs: faults.coalesceMs ?? 0,
      refusing: false
    }
    this.startedAt = this.clock.now()
    this.server = createServer({ allowHalfOpen: true }, (socket) => { this.accept(socket) })
  }

  async listen (host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen({ host: unbracket(host), port }, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    this.server.on('error', (err) => { this.log.error('listener failed', err) })
    const faults = this.init.faults ?? {}
    if (faults.cutEvery !== undefined || faults.blackHoleEvery !== undefined) {
      this.plan = runPlan(faultSchedule(faults, this.seed), this.startedAt, this.clock, this.timers,
        (action, index) => { this.runFault(action, index) })
    }
  }

  get address (): { host: string, port: number } {
    const info = this.server.address() as AddressInfo
    return { host: info.address, port: info.port }
  }

  get port (): number { return this.address.port }

  get settings (): Readonly<LinkSettings> { return this.current }

  stats (): FaultProxyStats {
    let bufferedBytes = 0
    for (const link of this.links) bufferedBytes += link.buffered()
    return { ...this.counters, activeConnections: this.links.size, bufferedBytes }
  }

  onEvent (listener: (event: FaultEvent) => void): () => void {
    if (typeof listener !== 'function') validate.invalid('listener', 'a function', listener)
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  read (direction: 'up' | 'down', bytes: number): void {
    if (direction === 'up') { this.counters.bytesReadUp += bytes; this.counters.readsUp++ } else { this.counters.bytesReadDown += bytes; this.counters.readsDown++ }
  }

  count (direction: 'up' | 'down', bytes: number, writes: number): void {
    if (direction === 'up') { this.counters.bytesUp += bytes; this.counters.writesUp += writes } else { this.counters.bytesDown += bytes; this.counters.writesDown += writes }
  }

  discard (bytes: number): void { this.counters.discardedBytes += bytes }

  cutAll (options: { mode?: CutMode } = {}): number {
    const mode = validate.options('options', options).mode ?? 'fin'
    if (mode !== 'fin' && mode !== 'reset') throw new InvalidParametersError(`cut mode must be 'fin' or 'reset', got ${String(mode)}`)
    if (this.closing !== undefined) return 0
    // a connection still lingering from an earlier cut is not cut again
    let n = 0
    for (const link of this.links) if (link.cut(mode)) n++
    this.counters.cuts++
    this.counters.connectionsCut += n
    this.emit({ type: 'cut', atMs: this.elapsed(), mode, connections: n })
    return n
  }

  /**
   * Stops the random fault plan: no further scheduled cut or black hole starts. A black hole already in
   * force ends as planned (or with `restore()`); link conditions (delay, throttle, fragmentation,
   * coalescing) stay as they are. Idempotent.
   */
  stopFaults (): void {
    this.plan?.stop()
    this.plan = undefined
  }

  blackHole (ms?: number): void {
    if (ms !== undefined) checkMs('black hole duration', ms)
    if (this.closing !== undefined) return
    this.holeTimer?.cancel()
    this.holeTimer = undefined
    if (ms !== undefined) this.holeTimer = this.timers.setTimeout(() => { this.holeTimer = undefined; this.restore() }, ms)
    this.emit({ type: 'black-hole', atMs: this.elapsed(), durationMs: ms })
    if (this.blackHoled) return
    this.blackHoled = true
    this.counters.blackHoles++
    for (const link of this.links) link.blackHoleStarted()
  }

  restore (): void {
    this.holeTimer?.cancel()
    this.holeTimer = undefined
    if (!this.blackHoled) return
    this.blackHoled = false
    this.emit({ type: 'restore', atMs: this.elapsed() })
    for (const link of [...this.links]) link.restored()
  }

  setDelay (ms: number): void { this.change({ delayMs: checkMs('delay', ms) }) }

  setThrottle (bytesPerSecond: number): void {
    checkThrottle(bytesPerSecond)
    this.change({ throttle: bytesPerSecond > 0 ? bytesPerSecond : Infinity })
  }

  setFragmentation (fragment: Fragmentation | undefined): void {
    checkFragmentation(fragment)
    this.change({ fragment: fragment === undefined ? undefined : { min: fragment.min, max: fragment.max } })
  }

  setCoalesce (ms: number): void { this.change({ coalesceMs: checkMs('coalesce window', ms) }) }

  refuse (on: boolean): void {
    if (typeof on !== 'boolean') validate.invalid('refuse(on)', 'true or false', on)
    this.change({ refusing: on })
  }

  async close (): Promise<void> {
    this.closing ??= this.shutdown()
    await this.closing
  }

  private async shutdown (): Promise<void> {
    this.plan?.stop()
    this.holeTimer?.cancel()
    this.holeTimer = undefined
    const listenerClosed = new Promise<void>((resolve) => { this.server.close(() => { resolve() }) })
    const links = [...this.links]
    for (const link of links) link.destroy()
    await Promise.all([listenerClosed, ...links.map(async (link) => { await link.closed }), ...this.refusing])
    this.emit({ type: 'close', atMs: this.elapsed() })
    this.listeners.clear()
  }

  private accept (socket: Socket): void {
    const id = ++this.nextId
    socket.on('error', () => {})
    if (this.closing !== undefined || this.current.refusing) {
      const closed = new Promise<void>((resolve) => { socket.once('close', () => { resolve() }) })
      this.refusing.add(closed)
      void closed.then(() => { this.refusing.delete(closed) })
      reset(socket)
      if (this.closing !== undefined) return
      this.counters.refused++
      this.emit({ type: 'refused', atMs: this.elapsed(), id })
      return
    }
    const target = this.chooseTarget(id)
    if (target === undefined) {
      reset(socket)
      this.emit({ type: 'connection-close', atMs: this.elapsed(), id, reason: 'target-unreachable' })
      return
    }
    this.counters.connections++
    const link = new Link(this, id, socket, target, (done, reason) => { this.closed(done, reason) })
    this.links.add(link)
    if (this.blackHoled) link.blackHoleStarted()
    this.emit({ type: 'connection', atMs: this.elapsed(), id, target })
  }

  /** The fixed target, or the chooser's pick for connection `id` (`undefined` if it threw or picked a bad one). */
  private chooseTarget (id: number): FaultProxyTarget | undefined {
    if (typeof this.target !== 'function') return this.target
    try {
      const target = this.target(id)
      checkTarget(target)
      return target
    } catch (err) {
      this.log.error('connection %d: the target chooser failed, resetting the connection', id, err)
      return undefined
    }
  }

  private closed (link: Link, reason: CloseReason): void {
    this.links.delete(link)
    this.emit({ type: 'connection-close', atMs: this.elapsed(), id: link.id, reason })
  }

  private runFault (action: FaultAction, index: number): void {
    this.counters.faults++
    this.emit({ type: 'fault', atMs: this.elapsed(), index, action })
    if (action.type === 'cut') this.cutAll({ mode: action.mode })
    else this.blackHole(action.durationMs)
  }

  private change (patch: Partial<LinkSettings>): void {
    if (this.closing !== undefined) return
    Object.assign(this.current, patch)
    this.emit({ type: 'settings', atMs: this.elapsed(), settings: { ...this.current } })
    for (const link of this.links) link.settingsChanged()
  }

  private elapsed (): number { return this.clock.now() - this.startedAt }

  private emit (event: FaultEvent): void {
    for (const listener of [this.init.onEvent, ...this.listeners]) {
      if (listener === undefined) continue
      try {
        listener(event)
      } catch (err) {
        this.log.error('event listener threw', err)
      }
    }
  }
}

function checkInit (init: FaultProxyInit): { host: string, port: number } {
  if (init == null || typeof init !== 'object') throw new InvalidParametersError('startFaultProxy needs { target }')
  checkTarget(init.target)
  validate.hook('clock', init.clock, 'now')
  validate.hook('timers', init.timers, 'setTimeout')
  validate.fn('onEvent', init.onEvent)
  const host = init.listen?.host ?? DEFAULT_LISTEN_HOST
  const port = init.listen?.port ?? 0
  checkLoopback('listen.host', host)
  checkPort('listen.port', port, true)
  if (init.seed !== undefined && (typeof init.seed !== 'number' || !Number.isFinite(init.seed))) {
    throw new InvalidParametersError(`seed must be a finite number, got ${String(init.seed)}`)
  }
  if (init.faults !== undefined) checkPlan(init.faults)
  if (init.highWaterMark !== undefined) checkPositiveInt('highWaterMark', init.highWaterMark)
  if (init.blackHoleHoldBytes !== undefined) checkPositiveInt('blackHoleHoldBytes', init.blackHoleHoldBytes)
  if (init.finLingerMs !== undefined) checkMs('finLingerMs', init.finLingerMs)
  return { host, port }
}

/**
 * Starts a fault-injecting TCP proxy on loopback that forwards every accepted connection to `target`.
 * Rejects with `InvalidParametersError` for bad options or a non-loopback address, or with the
 * listener's error (e.g. `EADDRINUSE`).
 */
export async function startFaultProxy (init: FaultProxyInit): Promise<FaultProxy> {
  const { host, port } = checkInit(init)
  const proxy = new FaultProxyImpl(init, init.target)
  await proxy.listen(host, port)
  return proxy
}
