import type net from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { Clock, Logger, Timers } from '@proto/interface'
import { createLogger, systemTimers } from '@proto/interface'
import type { ConnectionOwner, CoreInit } from './connection.js'
import { CarrierConnection, wallClock } from './connection.js'
import { DEFAULT_BACKLOG, DEFAULT_IDLE_TIMEOUT, DEFAULT_SERVER_CLOSE_DEADLINE } from './constants.js'
import { Emitter } from './emitter.js'
import { HandlerError, IdleTimeoutError, ListenError, ServerClosedError, TLSError, TooManyConnectionsError } from './errors.js'
import { InvalidParametersError } from './errors.js'
import { watchIdle } from './idle.js'
import { createNodeServer, tuneAccepted } from './server-socket.js'
import { SocketCarrier } from './socket-carrier.js'
import type { Connection, ConnectionAddress, ConnectionRegistry, DisconnectInfo, ListenInit, Server, ServerCloseOptions, ServerEvents } from './types.js'
import { checkConnectionInit, checkEndpoint, checkInt, checkMs, keepAliveDelay } from './validate.js'

/** Handles one accepted connection. A throw or rejection closes that connection only. */
export type ConnectionHandler = (conn: Connection) => void | Promise<void>

function rawAddress (raw: net.Socket): ConnectionAddress | undefined {
  if (raw.remoteAddress == null || raw.remotePort == null) return undefined
  return { family: raw.remoteFamily === 'IPv6' ? 'IPv6' : 'IPv4', address: raw.remoteAddress, port: raw.remotePort }
}

class ListeningServer implements Server, ConnectionOwner {
  readonly connections: ConnectionRegistry
  private readonly server: net.Server
  private readonly live = new Map<string, CarrierConnection>()
  /** Accepted raw sockets whose TLS handshake has not finished. */
  private readonly handshaking = new Set<net.Socket>()
  private readonly emitter = new Emitter<ServerEvents>()
  private readonly idleWatches = new Map<string, () => void>()
  private readonly clock: Clock
  private readonly timers: Timers
  private readonly log: Logger
  private readonly maxConnections: number
  private readonly idleTimeout: number
  private addr: ConnectionAddress | undefined
  private closing: Promise<void> | undefined
  private onEmpty: (() => void) | undefined
  /** What every accepted connection is made with (one object per server, not per connection). */
  private readonly connectionInit: CoreInit

  constructor (private readonly init: ListenInit, private readonly handler?: ConnectionHandler) {
    this.clock = init.clock ?? wallClock
    this.timers = init.timers ?? systemTimers
    this.log = init.logger ?? createLogger('transport')
    this.maxConnections = init.maxConnections ?? Infinity
    this.idleTimeout = init.idleTimeout ?? DEFAULT_IDLE_TIMEOUT
    this.server = createNodeServer(init)
    this.connectionInit = { ...init, tls: init.tls != null, idPrefix: 's', owner: this }
    const live = this.live
    this.connections = {
      get size () { return live.size },
      get: id => live.get(id),
      has: id => live.has(id),
      values: () => live.values(),
      [Symbol.iterator]: () => live.values()
    }
    this.server.on('connection', (raw: net.Socket) => { this.onRaw(raw) })
    if (init.tls != null) {
      this.server.on('secureConnection', (socket: TLSSocket) => { this.onSocket(socket) })
      this.server.on('tlsClientError', (err: Error, socket: TLSSocket) => { this.onTLSClientError(err, socket) })
    }
  }

  get address (): ConnectionAddress {
    if (this.addr == null) throw new ListenError('the server is not listening')
    return this.addr
  }

  on<K extends keyof ServerEvents> (type: K, listener: (event: ServerEvents[K]) => void): () => void {
    return this.emitter.on(type, listener)
  }

  off<K extends keyof ServerEvents> (type: K, listener: (event: ServerEvents[K]) => void): void {
    this.emitter.off(type, listener)
  }

  async start (): Promise<void> {
    const init = this.init
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new ListenError(`expected to listen on ${init.path ?? `${init.host ?? '127.0.0.1'}:${init.port ?? 0}`}, but Node refused (${(err as { code?: string }).code ?? err.message}); pick a free port or path`, { cause: err }))
      }
      this.server.once('error', onError)
      const opts: net.ListenOptions = { backlog: init.backlog ?? DEFAULT_BACKLOG }
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
    if (typeof a === 'string') this.addr = { family: 'unix', path: a }
    else if (a != null) this.addr = { family: a.family === 'IPv6' ? 'IPv6' : 'IPv4', address: a.address, port: a.port }
    if (this.log.enabled) this.log.debug('listening on %o', this.addr)
  }

  async close (options: ServerCloseOptions = {}): Promise<void> {
    checkMs('deadline', options.deadline)
    options.signal?.throwIfAborted()
    const signal = options.signal
    const onAbort = (): void => { this.abortAll(new ServerClosedError('server.close() was aborted through its signal; aborted the remaining connections', { cause: signal?.reason })) }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      this.closing ??= this.runClose(options.deadline ?? DEFAULT_SERVER_CLOSE_DEADLINE)
      await this.closing
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
    signal?.throwIfAborted()
  }

  private async runClose (deadline: number): Promise<void> {
    const stopped = new Promise<void>((resolve) => { this.server.close(() => { resolve() }) })
    const timer = this.timers.setTimeout(() => {
      this.abortAll(new ServerClosedError(`expected every connection to finish within the close deadline (${deadline} ms), but some were still open; aborted them`))
    }, deadline)
    try {
      for (const conn of this.live.values()) conn.closeUnbounded().then(undefined, () => {})
      for (const raw of this.handshaking) raw.destroy()
      if (this.live.size > 0 || this.handshaking.size > 0) await new Promise<void>((resolve) => { this.onEmpty = resolve })
      await stopped
      // The listening handle is released in the loop's close phase, after the 'close' callback; two
      // check-phase turns later it is gone for certain.
      await new Promise(resolve => setImmediate(resolve))
      await new Promise(resolve => setImmediate(resolve))
    } finally {
      timer.cancel()
    }
    if (this.log.enabled) this.log.debug('server closed')
    this.emitter.emit('close', undefined)
  }

  private abortAll (err: Error): void {
    for (const conn of this.live.values()) conn.terminate(err, 'server-closed', true)
    for (const raw of this.handshaking) raw.destroy()
  }

  private checkEmpty (): void {
    if (this.onEmpty != null && this.live.size === 0 && this.handshaking.size === 0) {
      const resolve = this.onEmpty
      this.onEmpty = undefined
      resolve()
    }
  }

  private onRaw (raw: net.Socket): void {
    if (this.closing != null) {
      this.drop('server-closing', new ServerClosedError('the server is closing; connection dropped'), raw)
      raw.destroy()
      return
    }
    if (this.live.size + this.handshaking.size >= this.maxConnections) {
      this.drop('max-connections', new TooManyConnectionsError(`expected at most maxConnections (${this.maxConnections}) live connections, but one more arrived; dropped it (raise maxConnections or shed load)`), raw)
      raw.on('error', () => {})
      try { raw.resetAndDestroy() } catch { raw.destroy() }
      return
    }
    tuneAccepted(raw, this.init)
    if (this.init.tls == null) {
      this.onSocket(raw)
      return
    }
    this.handshaking.add(raw)
    raw.once('close', () => {
      this.handshaking.delete(raw)
      this.checkEmpty()
    })
  }

  private onTLSClientError (err: Error, socket: TLSSocket): void {
    const raw = (socket as unknown as { _parent?: net.Socket })._parent
    this.drop('tls-handshake', new TLSError(`expected a client to complete the TLS handshake${this.init.tls?.requestCert === true ? ' with a verified certificate' : ''}, but it failed (${(err as { code?: string }).code ?? err.message}); the client never reached the handler`, { cause: err }), raw ?? socket)
  }

  private drop (reason: 'max-connections' | 'tls-handshake' | 'server-closing', error: Error, raw: net.Socket): void {
    if (this.log.enabled) this.log.debug('dropped a connection: %s', reason)
    this.emitter.emit('drop', { reason, error, remoteAddress: rawAddress(raw) })
  }

  private onSocket (socket: net.Socket): void {
    const raw = (socket as unknown as { _parent?: net.Socket })._parent
    if (raw != null) this.handshaking.delete(raw)
    const conn = new CarrierConnection(new SocketCarrier(socket, this.init.path), this.connectionInit)
    this.live.set(conn.id, conn)
    if (this.idleTimeout > 0) {
      const idle = this.idleTimeout
      this.idleWatches.set(conn.id, watchIdle(idle, () => conn.lastActivityAt, this.clock, this.timers, () => {
        conn.terminate(new IdleTimeoutError(`expected traffic on connection ${conn.id} at least every idleTimeout (${idle} ms), but it was silent; closed it`), 'idle-timeout', false)
      }))
    }
    this.emitter.emit('connection', conn)
    // A TLS handshake that finished while the server was closing: close it with the others.
    if (this.closing != null) conn.closeUnbounded().then(undefined, () => {})
    else if (this.handler != null) this.runHandler(conn, this.handler)
  }

  connectionGone (conn: CarrierConnection, info: DisconnectInfo): void {
    this.live.delete(conn.id)
    const unwatch = this.idleWatches.get(conn.id)
    if (unwatch != null) {
      unwatch()
      this.idleWatches.delete(conn.id)
    }
    this.emitter.emit('disconnect', { connection: conn, info })
    this.checkEmpty()
  }

  private runHandler (conn: CarrierConnection, handler: ConnectionHandler): void {
    const failed = (cause: unknown): void => {
      const message = cause instanceof Error ? cause.message : String(cause)
      const error = new HandlerError(`expected the connection handler to handle ${conn.id}, but it threw: ${message}; closed that connection only`, { cause })
      this.emitError(error, conn)
      conn.terminate(error, 'handler-error', true)
    }
    try {
      const result = handler(conn)
      if (result != null && typeof result.then === 'function') result.then(undefined, failed)
    } catch (err) {
      failed(err)
    }
  }

  private emitError (error: Error, connection?: Connection): void {
    const event = connection == null ? { error } : { error, connection }
    if (!this.emitter.emit('error', event)) this.log.error('%s', error.message)
  }
}

/** Validates `init` before any socket exists. */
function checkListenInit (init: ListenInit): void {
  checkEndpoint(init, 0)
  checkConnectionInit(init)
  checkMs('idleTimeout', init.idleTimeout)
  checkInt('backlog', init.backlog, 0, 0x7fffffff)
  if (init.maxConnections !== undefined && init.maxConnections !== Infinity) checkInt('maxConnections', init.maxConnections, 1, Number.MAX_SAFE_INTEGER)
  keepAliveDelay(init.keepAlive)
  if (init.tls != null && (init.tls.cert == null || init.tls.key == null)) {
    throw new InvalidParametersError('expected tls.cert and tls.key for a TLS server, but one is missing; pass both as PEM')
  }
}

/**
 * Listens for TCP, TLS or Unix-socket connections and hands each to `handler` as a `Connection`.
 * Rejects with `InvalidParametersError` for bad options and `ListenError` when Node cannot listen.
 */
export async function listen (init: ListenInit = {}, handler?: ConnectionHandler): Promise<Server> {
  checkListenInit(init)
  const server = new ListeningServer(init, handler)
  await server.start()
  return server
}
