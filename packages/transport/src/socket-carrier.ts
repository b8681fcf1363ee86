import { Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import type { ConnectionAddress } from '@proto/interface'
import { tcpAddress } from '@proto/interface'
import type { Carrier, CarrierEvents } from './carrier.js'
import type { TLSInfo } from './types.js'

/** The reset TCP socket under a TLS one may report the reset it sent: the TLS socket reports for both. */
function ignore (): void {}

/** A TLS socket whose TCP socket was reset: destroyed, if that did not close it already. */
function destroyLater (socket: Socket): void {
  if (!socket.destroyed) socket.destroy()
}

/** Where a socket's listeners find their carrier: one set of listener functions serves every socket. */
const kCarrier = Symbol('proto.carrier')
type OwnedSocket = Socket & { [kCarrier]: SocketCarrier }

function carrierOf (socket: Socket): SocketCarrier {
  return (socket as OwnedSocket)[kCarrier]
}

function onConnect (this: Socket): void { carrierOf(this).snapshotAddresses() }
function onData (this: Socket, chunk: Uint8Array | string): void {
  carrierOf(this).events?.onCarrierData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
}
function onEnd (this: Socket): void { carrierOf(this).events?.onCarrierEnd() }
function onFinish (this: Socket): void { carrierOf(this).events?.onCarrierFinish() }
function onDrain (this: Socket): void {
  const carrier = carrierOf(this)
  carrier.drainArmed = false
  carrier.events?.onCarrierDrain()
}
function onError (this: Socket, err: Error): void { carrierOf(this).events?.onCarrierError(err) }
function onClose (this: Socket): void {
  const carrier = carrierOf(this)
  carrier.snapshotAddresses()
  carrier.events?.onCarrierClose()
}

/** Node's stream handle (libuv's), read for write progress only; not in Node's typings, so read defensively. */
interface StreamHandle {
  /** Bytes handed to libuv so far. */
  bytesWritten?: unknown
  /** Bytes libuv still holds, not yet taken by the kernel (kept current as partial writes go out). */
  writeQueueSize?: unknown
  /** Under a TLS handle: the TCP or pipe handle that writes the encrypted bytes. */
  _parent?: StreamHandle
}

/** A `net.Socket` or `tls.TLSSocket` as a carrier. `path` names the Unix socket, where there is one. */
export class SocketCarrier implements Carrier {
  events: CarrierEvents | undefined
  /** A `'drain'` listener is registered (only while a write waits for one). */
  drainArmed = false
  private local: ConnectionAddress | undefined
  private remote: ConnectionAddress | undefined

  constructor (readonly socket: Socket, private readonly path?: string) {
    // Half-close is ours to manage (the connection decides when to end): never let Node end our side when
    // the peer ends theirs.
    socket.allowHalfOpen = true
  }

  attach (events: CarrierEvents): void {
    const s = this.socket
    this.events = events;
    (s as OwnedSocket)[kCarrier] = this
    if (s.connecting) s.once('connect', onConnect)
    else this.snapshotAddresses()
    // 'drain' and 'finish' are listened to only when they can matter (after a blocked write, after end()),
    // which keeps an idle socket's listener table small.
    s.on('data', onData)
    s.on('end', onEnd)
    s.on('error', onError)
    s.on('close', onClose)
    // A socket paused by its previous owner would never flow; the read queue decides from now on.
    if (s.isPaused()) s.resume()
  }

  write (data: Uint8Array): boolean {
    const ok = this.socket.write(data)
    if (!ok) this.armDrain()
    return ok
  }

  writev (data: Uint8Array[]): boolean {
    const s = this.socket
    s.cork()
    let ok = true
    for (const buf of data) ok = s.write(buf)
    s.uncork()
    if (!ok) this.armDrain()
    return ok
  }

  end (): void {
    this.socket.once('finish', onFinish)
    this.socket.end()
  }

  private armDrain (): void {
    if (this.drainArmed) return
    this.drainArmed = true
    this.socket.once('drain', onDrain)
  }

  pause (): void {
    this.socket.pause()
  }

  resume (): void {
    this.socket.resume()
  }

  reset (): void {
    this.snapshotAddresses()
    const s = this.socket
    // RST only exists for TCP handles; Unix sockets and half-connected sockets just close. A TLS socket
    // wraps the TCP socket it runs on (`_parent`: the one a server accepted, or the one `connect()` made):
    // that one is reset, so the peer learns of an abort rather than reading a clean end (a TLS close
    // without close_notify reads as one in Node), and the TLS socket closes with it. Destroying the TLS
    // socket in the same step as that reset crashes Node 20 (a segmentation fault): it is destroyed on
    // the next turn of the event loop, if it has not closed by then.
    if (s.destroyed) return
    if (!s.connecting && !s.writableEnded) {
      const raw = (s as { _parent?: unknown })._parent
      try {
        if (raw instanceof Socket) {
          if (!raw.destroyed) {
            raw.on('error', ignore)
            raw.resetAndDestroy()
          }
          setImmediate(destroyLater, s)
          return
        }
        s.resetAndDestroy()
        return
      } catch {}
    }
    s.destroy()
  }

  destroy (): void {
    this.snapshotAddresses()
    this.socket.destroy()
  }

  get destroyed (): boolean {
    return this.socket.destroyed
  }

  localAddress (): ConnectionAddress | undefined {
    this.snapshotAddresses()
    return this.local
  }

  remoteAddress (): ConnectionAddress | undefined {
    this.snapshotAddresses()
    if (this.remote !== undefined) return this.remote
    const s = this.socket
    this.remote = this.path != null ? { family: 'unix', path: this.path } : tcpAddress(s.remoteFamily, s.remoteAddress, s.remotePort)
    return this.remote
  }

  /**
   * The bytes the kernel took so far: handed to libuv minus still queued there. A single large write moves
   * this long before `'drain'` (which waits for all of it), and `writableLength` does not move at all.
   */
  progress (): number | undefined {
    const handle = (this.socket as Socket & { _handle?: StreamHandle | null })._handle
    const h = handle?._parent ?? handle
    const handed = h?.bytesWritten
    const queued = h?.writeQueueSize
    return typeof handed === 'number' && typeof queued === 'number' ? handed - queued : undefined
  }

  tlsInfo (): TLSInfo | undefined {
    const s = this.socket
    if (!(s instanceof TLSSocket)) return undefined
    const cert = s.destroyed ? undefined : s.getPeerCertificate()
    return {
      authorized: s.authorized,
      // Node's typings say Error; at run time it is the verification code (a string) or null.
      authorizationError: (s.authorizationError as unknown as string | null) ?? undefined,
      alpnProtocol: s.alpnProtocol ?? false,
      protocol: s.getProtocol() ?? undefined,
      peerCertificate: cert != null && Object.keys(cert).length > 0 ? cert : undefined
    }
  }

  /**
   * Keeps the addresses past the handle's close, the first time they are known. Node forgets the local one
   * then (`localAddress` reads `undefined`): it is copied here, and Node's own copy dropped (Node reads it
   * again if asked while the handle is open). The remote one Node keeps once read: it is read here so that
   * Node has it, and made into a `ConnectionAddress` only when asked for. An idle connection holds one
   * address object, not four.
   */
  snapshotAddresses (): void {
    if (this.local != null) return
    if (this.path != null) {
      this.local = { family: 'unix', path: this.path }
      return
    }
    const s = this.socket
    this.local = sharedLocal(s.localFamily, s.localAddress, s.localPort)
    if (this.local === undefined) return
    ;(s as Socket & { _sockname: unknown })._sockname = null
    void s.remotePort // read while the handle is open: Node keeps it from now on
  }
}

/** The last local address made, frozen: shared by every connection with the same local end. */
let lastLocal: { address: string, port: number } & ConnectionAddress | undefined

/**
 * `tcpAddress`, sharing one object between the connections whose local end is the same (all the connections
 * of one listener): an idle server connection keeps no address object and string of its own (80 B).
 */
function sharedLocal (family: string | number | undefined, address: string | undefined, port: number | undefined): ConnectionAddress | undefined {
  const last = lastLocal
  // an address's text tells its family: the same text and port is the same local end
  if (last !== undefined && last.port === port && last.address === address) return last
  const made = tcpAddress(family, address, port) as typeof lastLocal
  if (made !== undefined) lastLocal = Object.freeze(made)
  return made
}
