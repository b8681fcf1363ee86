import type { AbortOptions, ConnectionAddress } from '@proto/interface'
import { InvalidParametersError, onAbortOf, TypedEventTarget, validate } from '@proto/interface'
import type { ConnectionHandler } from './server-core.js'
import { ServerCore } from './server-core.js'
import type { ConnectionRegistry, ListenInit, Server, ServerCloseOptions, ServerEvents } from './server-types.js'
import { checkEndpoint } from './validate.js'

/** The `Server` users hold: an `EventTarget` of {@link ServerEvents} over a core they cannot reach. */
class ListeningServer extends TypedEventTarget<ServerEvents> implements Server {
  readonly #core: ServerCore

  constructor (init: ListenInit, handler: ConnectionHandler | undefined) {
    super()
    this.#core = new ServerCore(init, handler, this)
  }

  get address (): ConnectionAddress {
    return this.#core.address
  }

  get connections (): ConnectionRegistry {
    return this.#core.registry
  }

  async close (options?: ServerCloseOptions): Promise<void> {
    await this.#core.close(options)
  }

  /** Builds and starts a server; `signal` is its lifetime (aborting it closes the server). */
  static async open (init: ListenInit, handler: ConnectionHandler | undefined, signal: AbortSignal | undefined): Promise<ListeningServer> {
    const server = new ListeningServer(init, handler)
    const core = server.#core
    await core.start()
    if (signal == null) return server
    if (signal.aborted) {
      await core.close()
      signal.throwIfAborted()
    }
    const onAbort = (): void => { core.close().catch(() => {}) }
    const unwatch = onAbortOf(signal, onAbort)
    server.addEventListener('close', unwatch, { once: true })
    return server
  }
}

/** Validates `init` before any socket exists (the rest is checked as the server is built). */
function checkListenInit (init: ListenInit): void {
  validate.options('init', init)
  checkEndpoint(init, 0)
  if (init.tls != null && (init.tls.cert == null || init.tls.key == null)) {
    throw new InvalidParametersError('expected tls.cert and tls.key for a TLS server, but one is missing; pass both as PEM')
  }
}

/**
 * Listens for TCP, TLS or Unix-socket connections and hands each to `handler` as a `Connection`.
 * `options.signal` is the server's lifetime: aborting it before the server listens rejects with
 * `signal.reason`; aborting it later closes the server (as `close()` with the default deadline).
 * Rejects with `InvalidParametersError` for bad options and `ListenError` when Node cannot listen.
 */
export async function listen (init: ListenInit = {}, handler?: ConnectionHandler, options: AbortOptions = {}): Promise<Server> {
  checkListenInit(init)
  if (handler !== undefined) validate.fn('handler', handler)
  validate.options('options', options)
  const signal = validate.signal('options.signal', options.signal)
  signal?.throwIfAborted()
  return await ListeningServer.open(init, handler, signal)
}
