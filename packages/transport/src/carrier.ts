import type { ConnectionAddress } from './types.js'

/** What a carrier reports to the connection that owns it. Called synchronously from I/O callbacks. */
export interface CarrierEvents {
  onCarrierData(chunk: Uint8Array): void
  /** The peer finished writing (FIN). */
  onCarrierEnd(): void
  /** Everything we wrote (including FIN) was handed to the kernel. */
  onCarrierFinish(): void
  /** The write buffer emptied after a write returned `false`. */
  onCarrierDrain(): void
  onCarrierError(err: Error): void
  /** The carrier is gone; no further events. */
  onCarrierClose(): void
}

/**
 * The byte pipe beneath a connection: a socket, or one end of an in-memory pair. The connection logic
 * (read queue, write batching, close and abort) is written once against this.
 */
export interface Carrier {
  /** Starts delivering events to `events` (one object per carrier: no closure per event). */
  attach(events: CarrierEvents): void
  /** Writes one buffer; `false` means "wait for drain". */
  write(data: Uint8Array): boolean
  /** Writes several buffers as one vectored write; `false` means "wait for drain". */
  writev(data: Uint8Array[]): boolean
  /** Sends FIN after everything written so far. */
  end(): void
  pause(): void
  resume(): void
  /** Tears down at once, with RST where possible. */
  reset(): void
  /** Tears down at once, without RST. */
  destroy(): void
  /** True once `destroy`/`reset` ran or the carrier closed by itself. */
  readonly destroyed: boolean
  localAddress(): ConnectionAddress | undefined
  remoteAddress(): ConnectionAddress | undefined
}
