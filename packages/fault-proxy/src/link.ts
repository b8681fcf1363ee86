import type { Socket } from 'node:net'
import { connect } from 'node:net'
import type { TimerHandle } from '@proto/interface'
import type { LinkContext } from './context.js'
import { Pump } from './pump.js'
import type { CloseReason, CutMode, FaultProxyTarget } from './types.js'
import { unbracket } from './validate.js'

/**
 * Ends a socket with a TCP RST where the handle allows it, otherwise destroys it. A socket whose write
 * side was already ended (FIN sent or pending) is destroyed instead: Node 20 then fails the RST inside
 * `resetAndDestroy()` and never emits 'close' for it.
 */
export function reset (socket: Socket): void {
  if (socket.destroyed) return
  if (socket.connecting || socket.writableEnded) { socket.destroy(); return }
  try {
    socket.resetAndDestroy()
  } catch {
    socket.destroy()
  }
}

/**
 * One proxied connection: the accepted client socket, the socket to the target, and a pump each way.
 * A reset or error on one side resets the other, except during a black hole, when it is held back
 * until restore. `closed` resolves once both sockets have closed and the linger timer is cancelled.
 */
export class Link {
  readonly closed: Promise<void>
  private readonly upstream: Socket
  private readonly up: Pump
  private readonly down: Pump
  private reason: CloseReason | undefined
  private connected = false
  private cutting = false
  private pendingReset = false
  private open = 2
  private linger: TimerHandle | undefined
  private resolveClosed!: () => void

  constructor (
    private readonly ctx: LinkContext,
    readonly id: number,
    private readonly client: Socket,
    target: FaultProxyTarget,
    private readonly onClose: (link: Link, reason: CloseReason) => void
  ) {
    this.closed = new Promise((resolve) => { this.resolveClosed = resolve })
    this.upstream = 'path' in target
      ? connect({ path: target.path, allowHalfOpen: true })
      : connect({ host: unbracket(target.host), port: target.port, allowHalfOpen: true })
    client.setNoDelay(true)
    this.upstream.setNoDelay(true)
    const fail = (err: unknown): void => {
      ctx.log.error('connection %d: forwarding failed, resetting it', id, err)
      this.abort('reset')
    }
    this.up = new Pump(ctx, 'up', client, this.upstream, fail)
    this.down = new Pump(ctx, 'down', this.upstream, client, fail)
    this.upstream.once('connect', () => { this.connected = true })
    this.wire(client, this.up, this.down)
    this.wire(this.upstream, this.down, this.up)
  }

  private wire (socket: Socket, reading: Pump, writing: Pump): void {
    socket.on('data', (chunk: Buffer) => { reading.push(chunk) })
    socket.on('end', () => {
      if (this.cutting) socket.destroySoon()
      else reading.end()
    })
    socket.on('drain', () => { writing.kick(false) })
    socket.on('error', () => { this.onSocketError(socket) })
    socket.on('close', () => { this.onSocketClose() })
  }

  private onSocketError (socket: Socket): void {
    if (socket === this.upstream && !this.connected) {
      this.abort('target-unreachable')
      return
    }
    this.reason ??= 'reset'
    if (this.cutting) return
    if (this.ctx.blackHoled) {
      this.pendingReset = true
      return
    }
    this.up.stop()
    this.down.stop()
    reset(socket === this.client ? this.upstream : this.client)
  }

  private onSocketClose (): void {
    if (--this.open > 0) return
    this.linger?.cancel()
    this.linger = undefined
    this.up.stop()
    this.down.stop()
    this.onClose(this, this.reason ?? 'end')
    this.resolveClosed()
  }

  /**
   * Ends both sides now: FIN (lingering up to `finLingerMs` for the peers' FINs) or RST. `false` when it
   * was being cut already: a cut counts each connection once.
   */
  cut (mode: CutMode): boolean {
    if (this.cutting) return false
    this.cutting = true
    this.reason ??= mode === 'fin' ? 'cut-fin' : 'cut-reset'
    this.up.stop()
    this.down.stop()
    if (mode === 'reset') {
      reset(this.client)
      reset(this.upstream)
      return true
    }
    this.client.end()
    this.upstream.end()
    this.linger = this.ctx.timers.setTimeout(() => {
      this.linger = undefined
      this.client.destroy()
      this.upstream.destroy()
    }, this.ctx.finLingerMs)
    return true
  }

  /** Resets both sides, recording `reason` unless one is known already. */
  abort (reason: CloseReason): void {
    this.reason ??= reason
    this.cutting = true
    this.up.stop()
    this.down.stop()
    reset(this.client)
    reset(this.upstream)
  }

  /** Destroys both sockets at once (proxy shutdown). */
  destroy (): void {
    this.reason ??= 'proxy-closed'
    this.cutting = true
    this.up.stop()
    this.down.stop()
    this.client.destroy()
    this.upstream.destroy()
  }

  /** A black hole started: keep reading both sides into the bounded hold, stop writing. */
  blackHoleStarted (): void {
    this.up.updateFlow()
    this.down.updateFlow()
    this.up.kick(true)
    this.down.kick(true)
  }

  /**
   * The black hole ended: deliver held bytes and held closes, unless bytes were discarded, in which case
   * the stream cannot continue intact and both sides are reset.
   */
  restored (): void {
    if (this.cutting) return
    if (this.up.discarded + this.down.discarded > 0) { this.abort('black-hole-overflow'); return }
    if (this.pendingReset) { this.abort('reset'); return }
    this.blackHoleStarted()
  }

  /** Bytes held in memory for this connection: both queues, the chunks being written, and both sockets' unflushed writes. */
  buffered (): number {
    return this.up.queued + this.up.sending + this.down.queued + this.down.sending + this.client.writableLength + this.upstream.writableLength
  }

  /** Link settings changed: wake the pumps so they re-read them. */
  settingsChanged (): void {
    this.up.kick(true)
    this.down.kick(true)
  }
}
