import type { AbortOptions, ByteChunk, Clock, Logger, Timers } from '@proto/interface'
import { createLogger, raceSignal, systemTimers } from '@proto/interface'
import type { Source } from 'it-stream-types'
import type { Carrier, CarrierEvents } from './carrier.js'
import { DEFAULT_CLOSE_TIMEOUT, READ_HIGH_WATER_MARK, READ_LOW_WATER_MARK } from './constants.js'
import { ConnectionClosedError, ConnectionResetError } from './errors.js'
import { mapSocketError } from './map-error.js'
import { ReadQueue } from './read-queue.js'
import type { SinkOwner } from './sink.js'
import { runSink } from './sink.js'
import type { Connection, ConnectionAddress, ConnectionInit, ConnectionStats, DisconnectInfo, DisconnectReason } from './types.js'
import type { WriteObserver } from './writer.js'
import { Writer } from './writer.js'

/** Turns a settled sink promise into the `Promise<void>` callers get. */
function settled (): void {}

/** Epoch milliseconds, looked up at call time so fake timers apply. */
export const wallClock: Clock = { now: () => Date.now() }

let nextId = 1

/** Told once when a connection is gone (a server's registry), without a promise per connection. */
export interface ConnectionOwner {
  connectionGone(conn: CarrierConnection, info: DisconnectInfo): void
}

/** Options the connection core needs beyond the public ones. */
export interface CoreInit extends ConnectionInit {
  /** Whether the carrier speaks TLS (for error mapping). */
  tls?: boolean
  /** Prefix of the connection id. */
  idPrefix?: string
  /** Told when the connection is gone, before `closed` resolves. */
  owner?: ConnectionOwner
}

interface Failure {
  error: Error
  reason: DisconnectReason
  initiator: 'local' | 'remote'
}

/**
 * The connection logic over any carrier: bounded reads, batched writes, half-close, abort, lifecycle.
 *
 * An idle connection costs little: the carrier reports to the connection's own methods (no closure per
 * event), and the writer, the `closed` promise and the `signal` (with its controller) are only made when
 * first needed.
 */
export class CarrierConnection implements Connection, CarrierEvents, WriteObserver, SinkOwner {
  readonly id: string
  readonly source: ReadQueue
  /** Called on every read or write; the server's idle watch reads `lastActivityAt`. */
  lastActivityAt: number
  private writerInstance: Writer | undefined
  private boundSink: ((source: Source<ByteChunk>) => Promise<void>) | undefined
  private controller: AbortController | undefined
  private closedPromise: Promise<DisconnectInfo> | undefined
  private resolveClosed: ((info: DisconnectInfo) => void) | undefined
  /** How the connection ended, once it is gone. */
  private info: DisconnectInfo | undefined
  private readonly owner: ConnectionOwner | undefined
  private readonly clock: Clock
  private readonly timers: Timers
  private readonly log: Logger
  private readonly closeTimeout: number
  private readonly tls: boolean
  private readonly connectedAt: number
  private bytesIn = 0
  private chunksIn = 0
  private lastReadAt: number | undefined
  private lastWriteAt: number | undefined
  private readEnded = false
  private writeEnded = false
  private finSent = false
  private firstFin: 'local' | 'remote' | undefined
  private failure: Failure | undefined
  private gone = false
  private sinkState: 'idle' | 'running' | 'done' = 'idle'
  /** The running sink's promise and its resolvers. */
  private sinkPromise: Promise<void> | undefined
  private sinkResolve: (() => void) | undefined
  private sinkReject: ((err: Error) => void) | undefined
  private finishWaiter: { resolve(): void, reject(err: Error): void } | undefined
  private closing: Promise<void> | undefined

  constructor (private readonly carrier: Carrier, init: CoreInit = {}) {
    this.id = `${init.idPrefix ?? ''}${nextId++}`
    this.clock = init.clock ?? wallClock
    this.timers = init.timers ?? systemTimers
    this.log = init.logger ?? createLogger('transport')
    this.closeTimeout = init.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT
    this.tls = init.tls ?? false
    this.connectedAt = this.clock.now()
    this.lastActivityAt = this.connectedAt
    this.owner = init.owner
    this.source = new ReadQueue(carrier, READ_HIGH_WATER_MARK, READ_LOW_WATER_MARK)
    carrier.attach(this)
  }

  /** Resolves (never rejects) once the socket is gone. Made on first use. */
  get closed (): Promise<DisconnectInfo> {
    if (this.closedPromise == null) {
      const info = this.info
      this.closedPromise = info != null
        ? Promise.resolve(info)
        : new Promise((resolve) => { this.resolveClosed = resolve })
    }
    return this.closedPromise
  }

  get localAddress (): ConnectionAddress | undefined {
    return this.carrier.localAddress()
  }

  get remoteAddress (): ConnectionAddress | undefined {
    return this.carrier.remoteAddress()
  }

  /** Aborted once the socket is gone. The controller is made on first use (already aborted if gone). */
  get signal (): AbortSignal {
    if (this.controller == null) {
      this.controller = new AbortController()
      if (this.info != null) this.controller.abort(this.goneReason(this.info))
    }
    return this.controller.signal
  }

  stats (): ConnectionStats {
    const w = this.writerInstance
    return {
      bytesIn: this.bytesIn,
      bytesOut: w?.bytes ?? 0,
      chunksIn: this.chunksIn,
      chunksOut: w?.chunks ?? 0,
      writes: w?.writes ?? 0,
      connectedAt: this.connectedAt,
      lastReadAt: this.lastReadAt,
      lastWriteAt: this.lastWriteAt
    }
  }

  /**
   * The sink, bound to this connection (pipelines call it detached, as `it-pipe` does). Made on first
   * use, so a connection nobody writes to does not carry it.
   */
  get sink (): (source: Source<ByteChunk>) => Promise<void> {
    // `.then(settled)` hands the outcome on one microtask later, as an `async` wrapper would, without
    // parking an async function frame for the sink's lifetime.
    this.boundSink ??= source => this.startSink(source).then(settled)
    return this.boundSink
  }

  private startSink (source: Source<ByteChunk>): Promise<void> {
    if (this.sinkState !== 'idle') return Promise.reject(new ConnectionClosedError(`expected one sink per connection ${this.id}, but sink() was called again; pipe everything through one source`))
    if (this.failure != null) return Promise.reject(this.failure.error)
    if (this.closing != null || this.finSent) return Promise.reject(new ConnectionClosedError(`expected an open connection ${this.id}, but close() was already called; write before closing`))
    this.sinkState = 'running'
    const done = new Promise<void>((resolve, reject) => {
      this.sinkResolve = resolve
      this.sinkReject = reject
    })
    this.sinkPromise = done
    void runSink(source, this.writer(), this)
    return done
  }

  abort (err: Error): void {
    this.terminate(err, 'aborted', true)
  }

  async close (options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    this.closing ??= this.runClose(this.closeTimeout)
    if (options.signal == null) { await this.closing; return }
    const signal = options.signal
    try {
      await raceSignal(this.closing, signal)
    } catch (err) {
      if (signal.aborted) this.abort(signal.reason as Error)
      throw err
    }
  }

  /** Ends the connection now with `reason`: at once for the consumer, RST on the wire if `reset`. */
  terminate (err: Error, reason: DisconnectReason, reset: boolean): void {
    if (this.gone) return
    this.fail({ error: err, reason, initiator: 'local' }, true)
    if (this.log.enabled) this.log.debug('%s %s: %s', this.id, reason, err.message)
    if (reset) this.carrier.reset()
    else this.carrier.destroy()
  }

  /**
   * Starts a graceful close whose deadline someone else enforces (a closing server): no timer of its
   * own. Returns the same promise as `close()`.
   */
  closeUnbounded (): Promise<void> {
    this.closing ??= this.runClose(undefined)
    return this.closing
  }

  private async runClose (timeout: number | undefined): Promise<void> {
    if (this.gone) return
    const timer = timeout === undefined
      ? undefined
      : this.timers.setTimeout(() => {
          this.terminate(new ConnectionClosedError(`expected the peer to finish within closeTimeout (${timeout} ms) of close() on connection ${this.id}, but it did not; destroyed the socket`), 'close-timeout', false)
        }, timeout)
    try {
      if (this.sinkState === 'running') await this.sinkPromise?.then(undefined, () => {})
      if (this.sinkState === 'idle') {
        this.sinkState = 'done'
        this.sendFin()
      }
      await this.closed
    } finally {
      timer?.cancel()
    }
  }

  /** The sink's source threw: abort with its error unless the connection already failed. */
  abortFromSource (err: Error): void {
    if (this.failure == null) this.abort(err)
  }

  /** The connection's failure, once there is one. */
  sinkFailure (): Error | undefined {
    return this.failure?.error
  }

  /** The sink's source ended: FIN, then wait until it is handed to the kernel. */
  async finishSink (): Promise<void> {
    this.sendFin()
    await this.waitFinish()
  }

  /** Ends the running sink with `err` (or success); later calls do nothing. */
  settleSink (err: Error | undefined): void {
    if (this.sinkState !== 'running') return
    this.sinkState = 'done'
    const resolve = this.sinkResolve
    const reject = this.sinkReject
    this.sinkResolve = undefined
    this.sinkReject = undefined
    if (err === undefined) resolve?.()
    else reject?.(err)
  }

  /** The writer, made when the first sink starts. */
  private writer (): Writer {
    this.writerInstance ??= new Writer(this.carrier, this)
    return this.writerInstance
  }

  private sendFin (): void {
    if (this.finSent || this.failure != null) return
    this.finSent = true
    this.firstFin ??= 'local'
    if (this.writerInstance != null) this.writerInstance.end()
    else this.carrier.end()
  }

  private async waitFinish (): Promise<void> {
    if (this.writeEnded) return
    if (this.failure != null) throw this.failure.error
    await new Promise<void>((resolve, reject) => { this.finishWaiter = { resolve, reject } })
  }

  onWrite (): void {
    const now = this.clock.now()
    this.lastWriteAt = now
    this.lastActivityAt = now
  }

  onCarrierData (chunk: Uint8Array): void {
    const now = this.clock.now()
    this.bytesIn += chunk.byteLength
    this.chunksIn++
    this.lastReadAt = now
    this.lastActivityAt = now
    this.source.push(chunk)
  }

  onCarrierEnd (): void {
    this.readEnded = true
    this.firstFin ??= 'remote'
    this.source.end()
  }

  onCarrierFinish (): void {
    this.writeEnded = true
    const waiter = this.finishWaiter
    this.finishWaiter = undefined
    waiter?.resolve()
  }

  onCarrierDrain (): void {
    this.writerInstance?.onDrain()
  }

  onCarrierError (err: Error): void {
    const { error, reason } = mapSocketError(err, this.peerName(), this.tls)
    this.fail({ error, reason, initiator: 'remote' }, false)
  }

  onCarrierClose (): void {
    if (this.gone) return
    if (this.failure == null && !(this.readEnded && this.writeEnded)) {
      this.fail({
        error: new ConnectionResetError(`expected both sides of connection ${this.id} to finish before the socket closed, but it closed with read ${this.readEnded ? 'ended' : 'open'} and write ${this.writeEnded ? 'ended' : 'open'}; treated as a reset`),
        reason: 'reset',
        initiator: 'remote'
      }, false)
    }
    this.gone = true
    const failure = this.failure
    const info: DisconnectInfo = failure != null
      ? { reason: failure.reason, error: failure.error, initiator: failure.initiator, stats: this.stats() }
      : { reason: 'closed', initiator: this.firstFin ?? 'local', stats: this.stats() }
    this.info = info
    if (this.log.enabled) this.log.debug('%s gone: %s', this.id, info.reason)
    this.controller?.abort(this.goneReason(info))
    this.owner?.connectionGone(this, info)
    const resolve = this.resolveClosed
    this.resolveClosed = undefined
    resolve?.(info)
  }

  private goneReason (info: DisconnectInfo): Error {
    return info.error ?? new ConnectionClosedError(`connection ${this.id} closed`)
  }

  private fail (failure: Failure, discard: boolean): void {
    if (this.failure != null || this.gone) return
    this.failure = failure
    this.source.fail(failure.error, discard)
    this.writerInstance?.fail(failure.error)
    const waiter = this.finishWaiter
    this.finishWaiter = undefined
    waiter?.reject(failure.error)
    this.settleSink(failure.error)
  }

  private peerName (): string {
    const r = this.remoteAddress
    if (r == null) return `connection ${this.id}`
    if (r.family === 'unix') return r.path
    if (r.family === 'memory') return r.name
    return r.family === 'IPv6' ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`
  }
}
