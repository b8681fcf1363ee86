import type { ByteChunk } from '@proto/interface'
import { InvalidParametersError, toError } from '@proto/interface'
import type { Carrier } from './carrier.js'
import type { ConnectionConfig } from './config.js'
import { COALESCE_BELOW, WRITE_FLUSH_THRESHOLD } from './constants.js'
import { StallWatch } from './stall.js'

/** Joins runs of small chunks into single buffers; large chunks pass through uncopied. */
function coalesce (parts: Uint8Array[], total: number, allSmall: boolean): Uint8Array[] {
  if (allSmall) return [concat(parts, 0, parts.length, total)]
  const out: Uint8Array[] = []
  let runStart = 0
  let runBytes = 0
  for (let i = 0; i <= parts.length; i++) {
    const p = parts[i]
    if (p != null && p.length < COALESCE_BELOW) {
      runBytes += p.length
      continue
    }
    if (i - runStart === 1) out.push(parts[runStart] as Uint8Array)
    else if (i - runStart > 1) out.push(concat(parts, runStart, i, runBytes))
    if (p != null) out.push(p)
    runStart = i + 1
    runBytes = 0
  }
  return out
}

function concat (parts: Uint8Array[], from: number, to: number, total: number): Uint8Array {
  const buf = Buffer.allocUnsafe(total)
  let off = 0
  for (let i = from; i < to; i++) {
    const p = parts[i] as Uint8Array
    buf.set(p, off)
    off += p.length
  }
  return buf
}

/** How `uint8arraylist` marks its lists (`isUint8ArrayList()` reads the same mark, of any copy of the package). */
const LIST_MARK = Symbol.for('@achingbrain/uint8arraylist')

function notBytes (chunk: unknown): InvalidParametersError {
  const got = chunk == null ? String(chunk) : typeof chunk === 'object' ? ((chunk as object).constructor?.name ?? 'an object') : typeof chunk
  return new InvalidParametersError(`expected every chunk given to sink() to be a Uint8Array (a Buffer is one) or a Uint8ArrayList, but got ${got}; encode it to bytes first (text: new TextEncoder().encode(s)). The connection was aborted`)
}

/** What the writer tells its connection. */
export interface WriterOwner {
  /** Data queued for the peer has not moved for `writeStallTimeout`. */
  writeStalled(waited: number): void
  /** The carrier threw from a write: the connection fails with it. */
  writeFailed(err: Error): void
}

/**
 * Writers with chunks queued in this synchronous run, written by one `process.nextTick` for all of them: a
 * timer that sends a ping on many connections schedules one tick, not one per connection. Slots from
 * `dueCount` on are empty; the array keeps its length for the next run.
 */
const due: Array<Writer | undefined> = []
let dueCount = 0
let dueNext = 0

function flushLater (writer: Writer): void {
  if (dueCount === 0) process.nextTick(flushDue)
  due[dueCount++] = writer
}

function flushDue (): void {
  try {
    while (dueNext < dueCount) {
      const writer = due[dueNext] as Writer
      due[dueNext++] = undefined
      try {
        writer.onTick()
      } catch (err) {
        // one writer's failure is its connection's, never the process's, and the writers after it still run
        writer.crashed(err)
      }
    }
  } finally {
    // should failing a connection throw too (a carrier whose reset() throws), the writers after it get a
    // tick of their own
    if (dueNext < dueCount) process.nextTick(flushDue)
    else dueCount = dueNext = 0
  }
}

/**
 * Batches outbound chunks into few socket writes. Chunks collect in a pending list that is written with
 * one `write` (small chunks copied together) or one corked `writev` when the producer's synchronous run
 * ends (one `process.nextTick` for every writer with chunks queued in that run; it runs after the current
 * microtask chain drains) or when the pending bytes pass `WRITE_FLUSH_THRESHOLD`. A `Uint8ArrayList`
 * always lands in a single write. While the socket reports backpressure, nothing more is written until
 * `'drain'`.
 *
 * Data waiting for the peer — a write that returned `false` until `'drain'`, or FIN until `'finish'` — is
 * watched: if it does not move for `writeStallTimeout` (the carrier's `progress()` says whether it moved),
 * the owner is told (a peer that never reads).
 */
export class Writer {
  /**
   * What waits for the next write: one chunk in `single` (nearly every flush of a ping, a pong or a small
   * message writes one), an array only from the second. An array made empty and pushed to would reserve
   * 17 slots at every flush.
   */
  private single: Uint8Array | undefined
  private pending: Uint8Array[] | undefined
  private pendingBytes = 0
  private pendingLarge = false
  private tickScheduled = false
  private failure: Error | undefined
  private drainWaiter: { resolve(): void, reject(err: Error): void } | undefined
  private ending = false
  private stall: StallWatch | undefined
  /** The last write returned `false`: wait for drain before producing more. */
  blocked = false
  writes = 0
  bytes = 0
  chunks = 0
  /** When bytes were last handed to the carrier (clock time); `-Infinity` before the first write (a number from the start: see `ConnectionCore.lastReadAt`). */
  lastWriteAt = -Infinity

  constructor (private readonly carrier: Carrier, private readonly config: ConnectionConfig, private readonly owner: WriterOwner) {}

  /**
   * Queues a chunk. Throws the connection's failure once there is one, and `InvalidParametersError` for a
   * chunk that is neither a `Uint8Array` nor a `Uint8ArrayList` (queuing nothing).
   */
  push (chunk: ByteChunk): void {
    if (this.failure != null) throw this.failure
    if (chunk instanceof Uint8Array) {
      this.chunks++
      if (chunk.length === 0) return
      this.add(chunk)
    } else {
      if ((chunk as { [LIST_MARK]?: unknown } | null)?.[LIST_MARK] !== true) throw notBytes(chunk)
      this.chunks++
      if (chunk.length === 0) return
      for (const buf of chunk) this.add(buf)
    }
    this.pendingBytes += chunk.length
    if (this.pendingBytes >= WRITE_FLUSH_THRESHOLD) {
      if (!this.blocked) this.flush()
    } else if (!this.tickScheduled) {
      this.tickScheduled = true
      flushLater(this)
    }
  }

  private add (buf: Uint8Array): void {
    if (this.pending !== undefined) this.pending.push(buf)
    else if (this.single === undefined) this.single = buf
    else {
      this.pending = [this.single, buf]
      this.single = undefined
    }
    if (buf.length >= COALESCE_BELOW) this.pendingLarge = true
  }

  /** Resolves at the next `'drain'`; rejects if the connection fails first. */
  async waitDrain (): Promise<void> {
    if (!this.blocked) return
    if (this.failure != null) throw this.failure
    await new Promise<void>((resolve, reject) => { this.drainWaiter = { resolve, reject } })
  }

  onDrain (): void {
    this.blocked = false
    this.flush()
    if (this.blocked) return
    if (!this.ending) this.stall?.stop()
    const waiter = this.drainWaiter
    this.drainWaiter = undefined
    waiter?.resolve()
  }

  /** Writes everything pending, backpressure or not (bounded by the flush threshold), then FIN. */
  end (): void {
    if (this.failure != null || this.ending) return
    this.ending = true
    this.flush()
    if (this.failure != null) return // the carrier threw from that write: the connection is gone
    this.carrier.end()
    // FIN waits behind whatever is still queued: a peer that never reads would hold it for good.
    this.watchStall()
  }

  /** FIN and everything before it were handed over. */
  onFinish (): void {
    this.stall?.stop()
  }

  /** The connection is gone: stop watching. */
  cancel (): void {
    this.stall?.cancel()
  }

  fail (err: Error): void {
    if (this.failure != null) return
    this.failure = err
    this.stall?.cancel()
    this.single = undefined
    this.pending = undefined
    this.pendingBytes = 0
    const waiter = this.drainWaiter
    this.drainWaiter = undefined
    waiter?.reject(err)
  }

  /** The producer's synchronous run ended: write what it queued. */
  onTick (): void {
    this.tickScheduled = false
    if (!this.blocked) this.flush()
  }

  /** Something threw while writing: the connection fails with it (nothing is thrown further). */
  crashed (err: unknown): void {
    if (this.failure == null) this.owner.writeFailed(toError(err))
  }

  private flush (): void {
    const single = this.single
    const parts = this.pending
    if ((single === undefined && parts === undefined) || this.failure != null) return
    const total = this.pendingBytes
    const allSmall = !this.pendingLarge
    this.single = undefined
    this.pending = undefined
    this.pendingBytes = 0
    this.pendingLarge = false
    let ok: boolean
    try {
      if (single !== undefined) {
        ok = this.carrier.write(single)
      } else {
        const out = coalesce(parts as Uint8Array[], total, allSmall)
        ok = out.length === 1 ? this.carrier.write(out[0] as Uint8Array) : this.carrier.writev(out)
      }
    } catch (err) {
      // a carrier that throws fails its connection, not whoever flushed (a shared tick, a 'drain' listener)
      this.crashed(err)
      return
    }
    this.writes++
    this.bytes += total
    this.lastWriteAt = this.config.clock.now()
    if (!ok) {
      this.blocked = true
      this.watchStall()
    }
  }

  private watchStall (): void {
    const c = this.config
    if (c.writeStallTimeout === 0 || this.failure != null) return
    this.stall ??= new StallWatch(c.writeStallTimeout, c.clock, c.timers, this.carrier, (waited) => { this.owner.writeStalled(waited) })
    this.stall.start()
  }
}
