import type { AbortOptions, ByteChunk, PushSource, SinkWatcher } from '@proto/interface'
import { abortReason, formatAddress, isPushSource, raceSignal, settleSinkRun, tellSinkEnd, toError, validate } from '@proto/interface'
import type { Source } from 'it-stream-types'
import type { Carrier, CarrierEvents } from './carrier.js'
import type { ConnectionConfig } from './config.js'
import { READ_HIGH_WATER_MARK, READ_LOW_WATER_MARK } from './constants.js'
import type { Deferred } from './deferred.js'
import { deferred } from './deferred.js'
import { ConnectionClosedError, ConnectionResetError, WriteStallError } from './errors.js'
import { mapSocketError } from './map-error.js'
import { ReadQueue } from './read-queue.js'
import type { SinkOwner } from './sink.js'
import { PushSink, runSink } from './sink.js'
import type { ConnectionStats, DisconnectInfo, DisconnectReason, TLSInfo } from './types.js'
import type { WriterOwner } from './writer.js'
import { Writer } from './writer.js'

// State bits, kept in one small integer (a connection holds many of these and most are false).
const READ_ENDED = 1 // the peer's FIN arrived
const WRITE_ENDED = 2 // our FIN was handed over ('finish')
const FIN_SENT = 4 // we asked the carrier to end
const GONE = 8 // the carrier closed
const REMOTE_ENDED_FIRST = 16 // the peer's FIN came before ours
const SINK_STARTED = 32 // sink() was called
const SINK_RUNNING = 64
const GOING_AWAY = 128 // the owner asked this connection to end

interface Failure {
  error: Error
  reason: DisconnectReason
  initiator: 'local' | 'remote'
}

function ignore (): void {}

let nextId = 1

/**
 * The connection logic over any carrier: bounded reads, batched writes, half-close, abort, timeouts,
 * lifecycle. Internal: users hold a handle (`handle.ts`) that reaches none of this.
 *
 * An idle connection costs little: the carrier reports to this object's methods (no closure per event),
 * options live in the shared `config`, state flags share one integer, and the writer (with its stall
 * watch), the `closed` promise and the signals are made when first needed.
 */
export class ConnectionCore implements CarrierEvents, SinkOwner, WriterOwner {
  readonly id: string
  readonly source: ReadQueue
  private flags = 0
  private readonly connectedAt: number
  private bytesIn = 0
  private chunksIn = 0
  /**
   * When bytes were last read (clock time), `-Infinity` before any. Every timestamp that moves with traffic
   * starts as a number: a field that starts `undefined` takes a freshly allocated number at every store.
   */
  private lastReadAt = -Infinity
  private writer: Writer | undefined
  private failure: Failure | undefined
  private info: DisconnectInfo | undefined
  private controller: AbortController | undefined
  private closedPromise: Promise<DisconnectInfo> | undefined
  private resolveClosed: ((info: DisconnectInfo) => void) | undefined
  private sinkRun: Deferred | undefined
  /** Told how the sink ended, for a sink started by `startPushSink`. */
  private sinkWatcher: SinkWatcher | undefined
  /** The running sink, when its source pushes (see `PushSink`). */
  private pushSink: PushSink | undefined
  private finishWaiter: Deferred | undefined
  private closing: Promise<void> | undefined

  constructor (readonly carrier: Carrier, readonly config: ConnectionConfig) {
    this.id = `${config.idPrefix}${nextId++}`
    this.connectedAt = config.clock.now()
    this.source = new ReadQueue(carrier, READ_HIGH_WATER_MARK, READ_LOW_WATER_MARK)
    carrier.attach(this)
  }

  get closed (): Promise<DisconnectInfo> {
    this.closedPromise ??= this.info != null
      ? Promise.resolve(this.info)
      : new Promise((resolve) => { this.resolveClosed = resolve })
    return this.closedPromise
  }

  get signal (): AbortSignal {
    if (this.controller == null) {
      this.controller = new AbortController()
      if (this.info != null) this.controller.abort(this.goneReason(this.info))
    }
    return this.controller.signal
  }

  /** Whether the owner asked this connection to go away. */
  get goingAway (): boolean {
    return (this.flags & GOING_AWAY) !== 0
  }

  get tls (): TLSInfo | undefined {
    return this.carrier.tlsInfo?.()
  }

  stats (): ConnectionStats {
    const w = this.writer
    const epoch = this.config.epochOffset
    return {
      bytesIn: this.bytesIn,
      bytesOut: w?.bytes ?? 0,
      chunksIn: this.chunksIn,
      chunksOut: w?.chunks ?? 0,
      writes: w?.writes ?? 0,
      connectedAt: this.connectedAt + epoch,
      lastReadAt: this.lastReadAt === -Infinity ? undefined : this.lastReadAt + epoch,
      lastWriteAt: w === undefined || w.lastWriteAt === -Infinity ? undefined : w.lastWriteAt + epoch
    }
  }

  /** When bytes last moved either way (clock time); the server's idle watch reads it. */
  lastActivity (): number {
    return Math.max(this.connectedAt, this.lastReadAt, this.writer?.lastWriteAt ?? -Infinity)
  }

  startSink (source: Source<ByteChunk>): Promise<void> {
    const refused = validate.sourceRefusal(source) ?? this.sinkRefusal()
    if (refused !== undefined) return Promise.reject(refused)
    this.flags |= SINK_STARTED | SINK_RUNNING
    const run = this.sinkRun = deferred()
    if (isPushSource<ByteChunk>(source)) {
      const sink = this.pushSink = new PushSink(source, this.ownWriter(), this)
      sink.start()
    } else {
      void runSink(source, this.ownWriter(), this)
    }
    return run.promise
  }

  /**
   * `startSink` for a source that pushes, with its outcome told to `watcher` (from a microtask, as a
   * promise's reaction would run) rather than through a promise: nothing is parked for the run.
   */
  startPushSink (source: PushSource<ByteChunk>, watcher: SinkWatcher): void {
    const refused = this.sinkRefusal()
    if (refused !== undefined) {
      tellSinkEnd(watcher, refused)
      return
    }
    this.flags |= SINK_STARTED | SINK_RUNNING
    this.sinkWatcher = watcher
    const sink = this.pushSink = new PushSink(source, this.ownWriter(), this)
    sink.start()
  }

  /** Why a sink cannot start now, or `undefined`. */
  private sinkRefusal (): Error | undefined {
    if ((this.flags & SINK_STARTED) !== 0) return new ConnectionClosedError(`expected one sink per connection ${this.id}, but sink() was called again; pipe everything through one source`)
    if (this.failure != null) return this.failure.error
    if (this.closing != null || (this.flags & FIN_SENT) !== 0) return new ConnectionClosedError(`expected the write side of connection ${this.id} to be open, but it already ended (close(), the server going away, or the peer ending a socket that is not half-open); write before that`)
    return undefined
  }

  abort (err: Error): void {
    this.terminate(abortReason(err), 'aborted', true)
  }

  async close (options: AbortOptions = {}): Promise<void> {
    const signal = options.signal
    if (signal == null) {
      await (this.closing ??= this.runClose())
      return
    }
    // a signal aborted already is the same as one aborting now: the connection goes with its reason
    if (signal.aborted) this.abort(toError(signal.reason))
    signal.throwIfAborted()
    this.closing ??= this.runClose()
    try {
      await raceSignal(this.closing, signal)
    } catch (err) {
      if (signal.aborted) this.abort(toError(signal.reason))
      throw err
    }
  }

  /**
   * Ends the connection now with `reason`: at once for the consumer, RST on the wire if `reset`. The first
   * call decides: a stage above that aborts the connection as it is told of the failure (from within this
   * call) changes neither the reason nor how the socket ends (an idle timeout stays a FIN).
   */
  terminate (err: Error, reason: DisconnectReason, reset: boolean): void {
    if ((this.flags & GONE) !== 0 || this.failure != null) return
    this.fail({ error: err, reason, initiator: 'local' }, true)
    if (this.config.log.enabled) this.config.log.debug('%s %s: %s', this.id, reason, err.message)
    if (reset) this.carrier.reset()
    else this.carrier.destroy()
  }

  /**
   * The owner asks the connection to end gracefully: `goingAway` aborts; without a running sink, FIN goes
   * out at once; a running sink is left to the stage above, which reacts to `goingAway`. The owner's
   * deadline aborts whatever is still open.
   */
  goAway (): void {
    if ((this.flags & (GONE | GOING_AWAY)) !== 0) return
    this.flags |= GOING_AWAY
    if ((this.flags & SINK_RUNNING) === 0) this.sendFin()
  }

  private async runClose (): Promise<void> {
    if ((this.flags & GONE) !== 0) return
    const timeout = this.config.closeTimeout
    const timer = this.config.timers.setTimeout(() => {
      this.terminate(new ConnectionClosedError(`expected the peer to finish within closeTimeout (${timeout} ms) of close() on connection ${this.id}, but it did not; destroyed the socket`), 'close-timeout', false)
    }, timeout, { ref: true }) // the close is awaited: it settles even if a paused socket is all that is left
    try {
      // a watched sink has no promise of its own: one is made for this wait
      if ((this.flags & SINK_RUNNING) !== 0) await (this.sinkRun ??= deferred()).promise.then(undefined, ignore)
      this.sendFin()
      await this.closed
    } finally {
      timer.cancel()
    }
  }

  // --- the sink loop's view (SinkOwner) ---

  sinkFailure (): Error | undefined {
    return this.failure?.error
  }

  abortFromSource (err: Error): void {
    if (this.failure == null) this.abort(err)
  }

  async finishSink (): Promise<void> {
    this.sendFin()
    if ((this.flags & WRITE_ENDED) !== 0) return
    if (this.failure != null) throw this.failure.error
    this.finishWaiter ??= deferred()
    await this.finishWaiter.promise
  }

  settleSink (err: Error | undefined): void {
    if ((this.flags & SINK_RUNNING) === 0) return
    this.flags &= ~SINK_RUNNING
    this.pushSink = undefined
    const run = this.sinkRun
    const watcher = this.sinkWatcher
    this.sinkRun = undefined
    this.sinkWatcher = undefined
    settleSinkRun(run, watcher, err)
  }

  // --- the writer's view (WriterOwner) ---

  writeStalled (waited: number): void {
    this.terminate(new WriteStallError(`expected ${this.peerName()} to read what was queued for it, but nothing moved for ${Math.round(waited)} ms (writeStallTimeout ${this.config.writeStallTimeout} ms); reset the connection`), 'write-stall', true)
  }

  writeFailed (err: Error): void {
    const { error, reason } = mapSocketError(err, this.peerName(), this.config.tls)
    this.terminate(error, reason, true)
  }

  private ownWriter (): Writer {
    this.writer ??= new Writer(this.carrier, this.config, this)
    return this.writer
  }

  private sendFin (): void {
    if ((this.flags & FIN_SENT) !== 0 || this.failure != null) return
    this.flags |= FIN_SENT
    this.ownWriter().end()
  }

  // --- the carrier's view (CarrierEvents) ---

  onCarrierData (chunk: Uint8Array): void {
    this.bytesIn += chunk.length
    this.chunksIn++
    this.lastReadAt = this.config.clock.now()
    this.source.push(chunk)
  }

  onCarrierEnd (): void {
    this.flags |= READ_ENDED
    if ((this.flags & FIN_SENT) === 0) this.flags |= REMOTE_ENDED_FIRST
    this.source.end()
    if (this.config.endWithPeer && (this.flags & SINK_RUNNING) === 0) this.sendFin()
  }

  onCarrierFinish (): void {
    this.flags |= WRITE_ENDED
    this.writer?.onFinish()
    const waiter = this.finishWaiter
    this.finishWaiter = undefined
    waiter?.resolve()
  }

  onCarrierDrain (): void {
    const writer = this.writer
    if (writer === undefined) return
    writer.onDrain()
    if (!writer.blocked) this.pushSink?.drained()
  }

  onCarrierError (err: Error): void {
    const { error, reason } = mapSocketError(err, this.peerName(), this.config.tls)
    this.fail({ error, reason, initiator: 'remote' }, false)
    // A TCP socket is destroyed before it reports an error; a half-open TLS socket that fails on an open
    // connection (a TLS 1.3 alert, a corrupt record) is not, and would never close: it goes now
    if (!this.carrier.destroyed) this.carrier.destroy()
  }

  onCarrierClose (): void {
    if ((this.flags & GONE) !== 0) return
    if (this.failure == null && (this.flags & (READ_ENDED | WRITE_ENDED)) !== (READ_ENDED | WRITE_ENDED)) {
      const read = (this.flags & READ_ENDED) !== 0 ? 'ended' : 'open'
      const write = (this.flags & WRITE_ENDED) !== 0 ? 'ended' : 'open'
      this.fail({
        error: new ConnectionResetError(`expected both sides of connection ${this.id} to finish before the socket closed, but it closed with read ${read} and write ${write}; treated as a reset`),
        reason: 'reset',
        initiator: 'remote'
      }, false)
    }
    this.flags |= GONE
    this.writer?.cancel()
    const failure = this.failure
    const info: DisconnectInfo = failure != null
      ? { reason: failure.reason, error: failure.error, initiator: failure.initiator, stats: this.stats() }
      : { reason: 'closed', initiator: (this.flags & REMOTE_ENDED_FIRST) !== 0 ? 'remote' : 'local', stats: this.stats() }
    this.info = info
    if (this.config.log.enabled) this.config.log.debug('%s gone: %s', this.id, info.reason)
    this.controller?.abort(this.goneReason(info))
    this.config.owner?.connectionGone(this.id, info)
    const resolve = this.resolveClosed
    this.resolveClosed = undefined
    resolve?.(info)
  }

  private goneReason (info: DisconnectInfo): Error {
    return info.error ?? new ConnectionClosedError(`connection ${this.id} closed`)
  }

  private fail (failure: Failure, discard: boolean): void {
    if (this.failure != null || (this.flags & GONE) !== 0) return
    this.failure = failure
    this.source.fail(failure.error, discard)
    this.writer?.fail(failure.error)
    this.pushSink?.stop()
    const waiter = this.finishWaiter
    this.finishWaiter = undefined
    waiter?.reject(failure.error)
    this.settleSink(failure.error)
  }

  private peerName (): string {
    const r = this.carrier.remoteAddress()
    return r == null ? `the peer of connection ${this.id}` : formatAddress(r)
  }
}
