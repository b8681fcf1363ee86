import type { ConnectionAddress } from '@proto/interface'
import type { TLSInfo } from './types.js'

/**
 * What a carrier reports to the connection that owns it. Called synchronously from the carrier's I/O
 * callbacks, never re-entrantly from a carrier method the connection called.
 */
export interface CarrierEvents {
  /** Bytes from the peer. The connection keeps the view, so it must not be reused by the carrier. */
  onCarrierData(chunk: Uint8Array): void
  /** The peer finished writing (FIN). */
  onCarrierEnd(): void
  /** Everything written before `end()`, and the end itself, was handed over. */
  onCarrierFinish(): void
  /** The write buffer drained after a write returned `false`. */
  onCarrierDrain(): void
  /** A failure (with Node's `code` where there is one); `onCarrierClose` follows. */
  onCarrierError(err: Error): void
  /** The carrier is gone; no further events. */
  onCarrierClose(): void
}

/**
 * The byte pipe beneath a connection: a TCP, TLS or Unix socket, one end of an in-memory pair, or anything
 * else that moves bytes in order with backpressure (a WebSocket, a QUIC stream). The connection logic —
 * bounded reads, batched writes, half-close, abort, timeouts, statistics — is written once against this;
 * `fromCarrier()` turns a carrier into a `Connection`.
 *
 * Contract: after `attach`, events go to the given object until `onCarrierClose`, which comes exactly once
 * (after `reset()`, `destroy()`, an error, or both directions ending). A write that returns `false` is
 * followed by `onCarrierDrain` once the carrier can take more. `end()` is followed by `onCarrierFinish`.
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
  /** Stops delivering `onCarrierData` until `resume()` (the peer then feels backpressure). */
  pause(): void
  /** Delivers `onCarrierData` again after `pause()`. */
  resume(): void
  /** Tears down at once, with RST where the carrier has one. */
  reset(): void
  /** Tears down at once, without RST. */
  destroy(): void
  /** True once `destroy`/`reset` ran or the carrier closed by itself. */
  readonly destroyed: boolean
  /** This end's address; kept after the carrier closes. */
  localAddress(): ConnectionAddress | undefined
  /** The peer's address; kept after the carrier closes. */
  remoteAddress(): ConnectionAddress | undefined
  /** TLS details, for carriers that speak TLS. */
  tlsInfo?(): TLSInfo | undefined
  /**
   * How far written bytes have moved on towards the peer: a count that only grows (for a socket, the bytes
   * the kernel took; it may count the carrier's own framing, such as TLS records), or `undefined` when
   * unknown. Read only when data has waited for the peer for `writeStallTimeout`, to tell a slow peer (the
   * count moved: wait on) from one that takes nothing. Without it, data counts as stalled from a write that
   * returned `false` until `onCarrierDrain`, however much of it the peer took meanwhile.
   */
  progress?(): number | undefined
}
