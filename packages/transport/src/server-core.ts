import net from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { ConnectionAddress, TypedEventTarget } from '@proto/interface'
import { formatAddress, tcpAddress, validate } from '@proto/interface'
import type { ConnectionConfig, ConnectionOwner } from './config.js'
import { connectionConfig } from './config.js'
import { DEFAULT_BACKLOG, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_IPV6_SOURCE_PREFIX, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_SOURCE, DEFAULT_NO_DELAY, DEFAULT_SERVER_CLOSE_DEADLINE } from './constants.js'
import { ConnectionCore } from './core.js'
import { HandlerError, IdleTimeoutError, ListenError, ServerClosedError, ServerClosingError, TooManyConnectionsError } from './errors.js'
import { goAway, ServerConnectionHandle } from './handle.js'
import { watchIdle } from './idle.js'
import type { HandshakeOwner } from './server-tls.js'
import { tlsAcceptor } from './server-tls.js'
import type { ConnectionRegistry, DropReason, ListenInit, ServerCloseOptions, ServerEvents } from './server-types.js'
import { SocketCarrier } from './socket-carrier.js'
import { SourceLimit } from './source-limit.js'
import type { Connection, DisconnectInfo } from './types.js'
import { keepAliveDelay } from './validate.js'

/** Handles one accepted connection. A throw or rejection closes that connection only. */
export type ConnectionHandler = (conn: Connection) => void | Promise<void>

interface Live {
  core: ConnectionCore
  handle: ServerConnectionHandle
  /** Cancels the idle watch, when there is one. */
  unwatch: (() => void) | undefined
}

/**
 * Everything a listening server does; the public `Server` object is a thin `EventTarget` over it.
 * Sockets are accepted by a `net.Server`; each is admitted (closing? source full? server full?) before
 * anything else is spent on it, then becomes a connection at once (TCP, Unix) or after its TLS handshake.
 */
export class ServerCore implements ConnectionOwner, HandshakeOwner {
  readonly registry: ConnectionRegistry
  goingAwayReason: Error | undefined
  private readonly server: net.Server
  private readonly live = new Map<string, Live>()
  /** Admitted sockets still open, when they are counted one by one (TLS, or a per-source limit). */
  private readonly tracked = new Set<net.Socket>()
  /** Set at the close deadline (or when the close is aborted): what is still open is aborted with it. */
  private closedWith: Error | undefined
  private readonly sources: SourceLimit
  private readonly config: ConnectionConfig
  private readonly handshake: ((raw: net.Socket) => void) | undefined
  private readonly maxConnections: number
  private readonly idleTimeout: number
  private readonly keepAlive: false | number
  private addr: ConnectionAddress | undefined
  private closing: Promise<void> | undefined
  private onEmpty: (() => void) | undefined

  constructor (private readonly init: ListenInit, private readonly handler: ConnectionHandler | undefined, private readonly events: TypedEventTarget<ServerEvents>) {
    this.config = connectionConfig(init, { idPrefix: 's', tls: init.tls != null, owner: this })
    this.maxConnections = validate.integer('maxConnections', init.maxConnections, DEFAULT_MAX_CONNECTIONS, { min: 1, infinity: true })
    this.sources = new SourceLimit(
      validate.integer('maxConnectionsPerSource', init.maxConnectionsPerSource, DEFAULT_MAX_CONNECTIONS_PER_SOURCE, { min: 1, infinity: true }),
      validate.integer('ipv6SourcePrefix', init.ipv6SourcePrefix, DEFAULT_IPV6_SOURCE_PREFIX, { min: 1, max: 128 }))
    this.idleTimeout = validate.duration('idleTimeout', init.idleTimeout, DEFAULT_IDLE_TIMEOUT)
    this.keepAlive = keepAliveDelay(init.keepAlive)
    const handshakeTimeout = validate.duration('handshakeTimeout', init.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT, { exclusiveMin: true })
    this.handshake = init.tls != null ? tlsAcceptor(init.tls, handshakeTimeout, init.path, this) : undefined
    // TLS sockets stay whole-duplex until the handshake is done, so a client's FIN ends the handshake;
    // plain sockets become half-open connections at once.
    this.server = net.createServer({ allowHalfOpen: init.tls == null })
    this.server.on('connection', (raw: net.Socket) => { this.accept(raw) })
    const live = this.live
    this.registry = {
      get size () { return live.size },
      get: id => live.get(id)?.handle,
      has: id => live.has(id),
      values: () => handles(live),
      [Symbol.iterator]: () => handles(live)
    }
  }

  get address (): ConnectionAddress {
    if (this.addr == null) throw new ListenError('the server is not listening')
    return this.addr
  }

  get isClosing (): boolean {
    return this.closing != null
  }

  async start (): Promise<void> {
    const init = this.init
    const where = init.path ?? formatAddress(tcpAddress(net.isIPv6(init.host ?? '') ? 'IPv6' : 'IPv4', init.host ?? '127.0.0.1', init.port ?? 0))
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new ListenError(`expected to listen on ${where}, but Node refused (${(err as { code?: string }).code ?? err.message}); pick a free port or path`, { cause: err }))
      }
      this.server.once('error', onError)
      const opts: net.ListenOptions = { backlog: validate.integer('backlog', init.backlog, DEFAULT_BACKLOG, { max: 0x7FFFFFFF }) }
      if (init.path != null) opts.path = init.path
      else {
        opts.host = init.host ?? '127.0.0.1'
        opts.port = init.port ?? 0
      }
      this.server.listen(opts, () => {
        this.server.off('error', onError)
        resolve()
      })
    })
    this.server.on('error', (error: Error) => { this.emitError(error) })
    const a = this.server.address()
    this.addr = typeof a === 'string' ? { family: 'unix', path: a } : tcpAddress(a?.family, a?.address, a?.port)
    if (this.config.log.enabled) this.config.log.debug('listening on %s', formatAddress(this.addr))
  }

  async close (options: ServerCloseOptions = {}): Promise<void> {
    const deadline = validate.duration('deadline', options.deadline, DEFAULT_SERVER_CLOSE_DEADLINE)
    const signal = options.signal
    const onAbort = (): void => { this.abortAll(new ServerClosedError('server.close() was aborted through its signal; aborted the remaining connections', { cause: signal?.reason })) }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      this.closing ??= this.runClose(deadline)
      // a signal aborted already is the same as one aborting now: the server closes, its connections are aborted
      if (signal?.aborted === true) onAbort()
      await this.closing
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
    signal?.throwIfAborted()
  }

  /**
   * The close sequence: stop accepting; every connection is asked to go away (`goingAway` aborts with a
   * `ServerClosingError`; FIN at once where no sink runs; a running sink is the stage above's to end);
   * handshakes still running finish (and are asked to go away at once) or fail; at the deadline whatever
   * is left is aborted with `ServerClosedError`.
   */
  private async runClose (deadline: number): Promise<void> {
    const stopped = new Promise<void>((resolve) => { this.server.close(() => { resolve() }) })
    this.goingAwayReason = new ServerClosingError('the server is closing: finish what was accepted, tell the peer, and end the connection; it is aborted at the close deadline')
    const timer = this.config.timers.setTimeout(() => {
      this.abortAll(new ServerClosedError(`expected every connection to finish within the close deadline (${deadline} ms), but some were still open; aborted them`))
    }, deadline, { ref: true }) // the close is awaited: it settles even if paused sockets are all that is left
    try {
      for (const { handle } of this.live.values()) goAway(handle)
      if (!this.empty()) await new Promise<void>((resolve) => { this.onEmpty = resolve })
      await stopped
      // The listening handle is released in the loop's close phase, after the 'close' callback; two
      // check-phase turns later it is gone for certain.
      await new Promise(resolve => setImmediate(resolve))
      await new Promise(resolve => setImmediate(resolve))
    } finally {
      timer.cancel()
    }
    if (this.config.log.enabled) this.config.log.debug('server closed')
    this.events.safeDispatchEvent('close', undefined)
  }

  private abortAll (err: Error): void {
    this.closedWith = err
    for (const { core } of this.live.values()) core.terminate(err, 'server-closed', true)
    // handshakes still running: RST, as for the connections; their failure is the close's, not the client's
    for (const raw of this.tracked) {
      if (!raw.destroyed) reset(raw)
    }
  }

  private empty (): boolean {
    return this.live.size === 0 && (this.handshake === undefined || this.tracked.size === 0)
  }

  private checkEmpty (): void {
    if (this.onEmpty != null && this.empty()) {
      const resolve = this.onEmpty
      this.onEmpty = undefined
      resolve()
    }
  }

  private accept (raw: net.Socket): void {
    const path = this.init.path
    const address: ConnectionAddress | undefined = path != null ? { family: 'unix', path } : tcpAddress(raw.remoteFamily, raw.remoteAddress, raw.remotePort)
    if (this.closing != null) {
      this.refuse(raw, 'server-closing', new ServerClosingError('expected no new connections while the server closes, but one arrived; reset it'), address)
      return
    }
    const key = this.sources.keyOf(raw.remoteAddress)
    if (key !== undefined && this.sources.full(key)) {
      this.refuse(raw, 'max-connections-per-source', new TooManyConnectionsError(`expected at most maxConnectionsPerSource (${this.sources.max}) connections from ${key}, but one more arrived; reset it (raise maxConnectionsPerSource if many clients share that address)`), address)
      return
    }
    if ((this.handshake === undefined ? this.live.size : this.tracked.size) >= this.maxConnections) {
      this.refuse(raw, 'max-connections', new TooManyConnectionsError(`expected at most maxConnections (${this.maxConnections}) live connections, but one more arrived; reset it (raise maxConnections or shed load)`), address)
      return
    }
    raw.setNoDelay(this.init.noDelay ?? DEFAULT_NO_DELAY)
    if (this.keepAlive !== false) raw.setKeepAlive(true, this.keepAlive)
    if (this.handshake !== undefined || key !== undefined) this.track(raw, key)
    if (this.handshake === undefined) this.secured(raw)
    else this.handshake(raw)
  }

  /** Counts an admitted socket until it closes (however its handshake or connection ends). */
  private track (raw: net.Socket, key: string | undefined): void {
    this.tracked.add(raw)
    if (key !== undefined) this.sources.add(key)
    raw.once('close', () => {
      this.tracked.delete(raw)
      if (key !== undefined) this.sources.remove(key)
      this.checkEmpty()
    })
  }

  private refuse (raw: net.Socket, reason: DropReason, error: Error, address: ConnectionAddress | undefined): void {
    reset(raw)
    this.drop(reason, error, address)
  }

  handshakeFailed (reason: DropReason, error: Error, address: ConnectionAddress | undefined): void {
    if (this.closedWith !== undefined) this.drop('server-closed', this.closedWith, address)
    else this.drop(reason, error, address)
  }

  private drop (reason: DropReason, error: Error, remoteAddress: ConnectionAddress | undefined): void {
    if (this.config.log.enabled) this.config.log.debug('dropped a connection from %s: %s', formatAddress(remoteAddress), reason)
    this.events.safeDispatchEvent('drop', { reason, error, remoteAddress })
  }

  secured (socket: net.Socket | TLSSocket): void {
    const core = new ConnectionCore(new SocketCarrier(socket, this.init.path), this.config)
    const handle = new ServerConnectionHandle(core)
    const idle = this.idleTimeout
    const unwatch = idle > 0
      ? watchIdle(idle, () => core.lastActivity(), this.config.clock, this.config.timers, () => {
          core.terminate(new IdleTimeoutError(`expected traffic on connection ${core.id} at least every idleTimeout (${idle} ms), but it was silent; closed it`), 'idle-timeout', false)
        })
      : undefined
    this.live.set(core.id, { core, handle, unwatch })
    this.events.safeDispatchEvent('connection', handle)
    // A handshake that finished while the server was closing: ask it to go away with the others.
    if (this.closing != null) goAway(handle)
    else if (this.handler != null) this.runHandler(core, handle, this.handler)
  }

  connectionGone (id: string, info: DisconnectInfo): void {
    const entry = this.live.get(id)
    if (entry === undefined) return
    this.live.delete(id)
    entry.unwatch?.()
    this.events.safeDispatchEvent('disconnect', { connection: entry.handle, info })
    this.checkEmpty()
  }

  private runHandler (core: ConnectionCore, handle: Connection, handler: ConnectionHandler): void {
    const failed = (cause: unknown): void => {
      // the connection failed first (a dead peer, a reset, the server's close deadline) and the handler
      // rejected with that failure, as an awaited pipe does: not the handler's fault, and the disconnect
      // already says why
      const own = core.sinkFailure()
      if (own !== undefined && causedBy(cause, own)) {
        this.config.log.debug('handler of %s ended with its connection\'s failure: %s', core.id, own.message)
        return
      }
      const message = cause instanceof Error ? cause.message : String(cause)
      const error = new HandlerError(`expected the connection handler to handle ${core.id}, but it threw: ${message}; closed that connection only`, { cause })
      this.emitError(error, handle)
      core.terminate(error, 'handler-error', true)
    }
    try {
      const result = handler(handle)
      if (result != null && typeof result.then === 'function') result.then(undefined, failed)
    } catch (err) {
      failed(err)
    }
  }

  private emitError (error: Error, connection?: Connection): void {
    const event = connection == null ? { error } : { error, connection }
    if (!this.events.safeDispatchEvent('error', event)) this.config.log.error('%s', error.message)
  }
}

/** Whether `err` is `failure` or was caused by it (a few `cause` links deep). */
function causedBy (err: unknown, failure: Error): boolean {
  let e: unknown = err
  for (let depth = 0; depth < 8 && e instanceof Error; depth++) {
    if (e === failure) return true
    e = e.cause
  }
  return false
}

function * handles (live: Map<string, Live>): IterableIterator<Connection> {
  for (const { handle } of live.values()) yield handle
}

/** RST (a Unix socket, which has none, is closed): the client learns at once, and nothing lingers in TIME_WAIT here. */
function reset (raw: net.Socket): void {
  raw.on('error', () => {})
  try { raw.resetAndDestroy() } catch { raw.destroy() }
}
