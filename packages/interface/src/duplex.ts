import type { Duplex, Source } from 'it-stream-types'
import type { Uint8ArrayList } from 'uint8arraylist'

/** What a byte duplex carries: a plain view or a list of views that stand for one contiguous run of bytes. */
export type ByteChunk = Uint8Array | Uint8ArrayList

/** Options accepted last by every async method of the SDK. */
export interface AbortOptions {
  /** Abandons the operation; it rejects with `signal.reason`. */
  signal?: AbortSignal
}

/**
 * The three ways a stage duplex can end, kept apart:
 * - the upper `sink` finishing means "we are done writing" (half-close, FIN);
 * - the `source` ending means "the peer is done writing";
 * - `abort(err)` tears everything down now (RST): both directions fail with `err`.
 */
export interface Closeable {
  /**
   * Finish writing, wait for the peer to finish too (bounded by a deadline), then release everything.
   * Idempotent: every call returns the same promise.
   */
  close?(options?: AbortOptions): Promise<void>
  /** Tear down at once. Both directions fail with `err`. Idempotent; the first error wins. */
  abort?(err: Error): void
  /**
   * Aborted when whoever owns this duplex (a closing server) asks it to end gracefully; `reason` says why.
   * A stage forwards its lower duplex's `goingAway` to the stage above. When it fires, a stage with a
   * protocol of its own flushes what it accepted, tells its peer (GOAWAY `SHUTTING_DOWN`) and ends its sink;
   * the owner aborts whatever is still open at its deadline. Absent when nobody will ever ask.
   */
  readonly goingAway?: AbortSignal
}

/**
 * A duplex one stage of the stack produces: `source` yields what the peer sent, `sink` consumes what we
 * send and resolves when it has been handed down (or rejects with a typed error).
 */
export interface StageDuplex<TIn, TOut = TIn> extends Duplex<AsyncGenerator<TIn> | AsyncIterable<TIn>, Source<TOut>, Promise<void>>, Closeable {}

/**
 * The lowest layer of every stack: an `it-stream-types` duplex of bytes. Our TCP connections, `it-pair`,
 * libp2p-v2-era streams, WebSocket adapters and in-memory pairs all fit.
 */
export interface ByteDuplex extends Duplex<AsyncIterable<ByteChunk>, Source<ByteChunk>, Promise<void>>, Closeable {}
