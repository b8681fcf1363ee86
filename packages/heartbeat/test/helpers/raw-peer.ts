import type { Frame, FrameDuplex } from '@proto/codec'
import type { GoingAwayWatchable, GoingAwayWatcher } from '@proto/interface'
import type { Source } from 'it-stream-types'

/**
 * The far end of a frame duplex, driven by the test: `send` delivers frames to the stage's lower source,
 * `written` records what the stage handed to its lower sink. `holdWrites()` makes the lower sink stop
 * pulling (a full socket); `aborted` is the error the stage destroyed the lower with.
 */
export interface RawPeer {
  lower: FrameDuplex
  /** Frames the stage wrote, in order. */
  written: Frame[]
  /** Frames the stage has pulled from the lower source so far. */
  pulled: number
  /** Batches read by a `batchedSink`. */
  batches: number
  /** The error passed to `lower.abort`, if any. */
  aborted: Error | undefined
  /** Whether the stage ended its writing (lower sink finished). */
  sinkEnded: boolean
  send(...frames: Frame[]): void
  end(): void
  fail(err: Error): void
  holdWrites(): void
  releaseWrites(): void
  /** While writes are held: lets exactly one more frame (or batch) be written. */
  releaseOne(): void
  /** Resolves once `written` holds at least `n` frames. */
  waitWritten(n: number): Promise<void>
  /** Resolves with the error the stage destroyed the lower with, once it has. */
  waitAborted(): Promise<Error>
  /** With `goingAway`: the owner asks the connection to end gracefully (tells the watchers, aborts `lower.goingAway`). */
  goAway(): void
  /** With `goingAway: 'watch'`: how many times `lower.goingAway` was read, and the watchers still registered. */
  signalReads: number
  goingAwayWatchers: Set<GoingAwayWatcher>
}

export interface RawPeerInit {
  /** Serve `nextBatch()` like the codec does (default true); false gives a plain async iterator. */
  batched?: boolean
  /** The lower sink reads with the stage's `nextBatch()` instead of `for await` (default false). */
  batchedSink?: boolean
  /**
   * `true`: the lower exposes a `goingAway` signal, aborted by `goAway()`. `'watch'`: it can also be watched
   * (`watchGoingAway`, as a server connection can), and its signal is made only when read. Default: neither.
   */
  goingAway?: boolean | 'watch'
}

export function rawPeer (init: RawPeerInit = {}): RawPeer {
  const queue: Frame[] = []
  let ended = false
  let failure: Error | undefined
  let wakeReader: (() => void) | undefined
  let holding = false
  /** Frames (or batches) that may be written while writes are held. */
  let credits = 0
  const mayWrite = async (): Promise<void> => {
    while (holding && credits === 0) await new Promise<void>((resolve) => { release = resolve })
    if (holding) credits--
  }
  let release: (() => void) | undefined
  const watchers: Array<{ n: number, resolve: () => void }> = []
  const abortWaiters: Array<(err: Error) => void> = []
  let owner = init.goingAway === true ? new AbortController() : undefined
  let gone = false

  const wake = (): void => {
    const w = wakeReader
    wakeReader = undefined
    w?.()
  }

  async function waitData (): Promise<void> {
    while (queue.length === 0 && !ended && failure == null) {
      await new Promise<void>((resolve) => { wakeReader = resolve })
    }
    if (failure != null && queue.length === 0) throw failure
  }

  const iterator: AsyncIterableIterator<Frame> & { nextBatch?: () => Promise<Frame[] | undefined> } = {
    [Symbol.asyncIterator]: () => iterator,
    async next (): Promise<IteratorResult<Frame>> {
      await waitData()
      const frame = queue.shift()
      if (frame === undefined) return { done: true, value: undefined }
      peer.pulled++
      return { done: false, value: frame }
    },
    async return (): Promise<IteratorResult<Frame>> {
      ended = true
      wake()
      return { done: true, value: undefined }
    }
  }
  if (init.batched !== false) {
    iterator.nextBatch = async () => {
      await waitData()
      if (queue.length === 0) return undefined
      const batch = queue.splice(0, queue.length)
      peer.pulled += batch.length
      return batch
    }
  }

  const peer: RawPeer = {
    written: [],
    pulled: 0,
    batches: 0,
    aborted: undefined,
    sinkEnded: false,
    lower: {
      source: iterator,
      async sink (source: Source<Frame>): Promise<void> {
        const written = (frame: Frame): void => {
          peer.written.push(frame)
          for (const w of watchers.slice()) {
            if (peer.written.length >= w.n) {
              watchers.splice(watchers.indexOf(w), 1)
              w.resolve()
            }
          }
        }
        const batches = source as { nextBatch?: () => Promise<Frame[] | undefined> }
        if (init.batchedSink === true && batches.nextBatch != null) {
          for (;;) {
            await mayWrite()
            const batch = await batches.nextBatch()
            if (batch === undefined) break
            peer.batches++
            batch.forEach(written)
          }
        } else {
          for await (const frame of source) {
            await mayWrite()
            written(frame)
          }
        }
        peer.sinkEnded = true
      },
      abort (err: Error): void {
        peer.aborted ??= err
        failure ??= err
        wake()
        for (const w of abortWaiters.splice(0)) w(peer.aborted)
      },
      ...(owner !== undefined ? { goingAway: owner.signal } : {})
    },
    send (...frames) {
      queue.push(...frames)
      wake()
    },
    end () {
      ended = true
      wake()
    },
    fail (err) {
      failure = err
      wake()
    },
    holdWrites () {
      holding = true
    },
    releaseWrites () {
      holding = false
      const r = release
      release = undefined
      r?.()
    },
    releaseOne () {
      credits++
      const r = release
      release = undefined
      r?.()
    },
    async waitWritten (n) {
      if (peer.written.length >= n) return
      await new Promise<void>(resolve => watchers.push({ n, resolve }))
    },
    async waitAborted () {
      if (peer.aborted !== undefined) return peer.aborted
      return await new Promise<Error>(resolve => abortWaiters.push(resolve))
    },
    goAway () {
      gone = true
      const watching = [...peer.goingAwayWatchers]
      peer.goingAwayWatchers.clear()
      for (const w of watching) w.onGoingAway()
      owner?.abort(new Error('going away'))
    },
    signalReads: 0,
    goingAwayWatchers: new Set()
  }
  if (init.goingAway === 'watch') {
    const watchable: GoingAwayWatchable = {
      watchGoingAway (watcher) {
        if (gone) watcher.onGoingAway()
        else peer.goingAwayWatchers.add(watcher)
        return true
      },
      unwatchGoingAway (watcher) {
        peer.goingAwayWatchers.delete(watcher)
      }
    }
    Object.assign(peer.lower, watchable)
    Object.defineProperty(peer.lower, 'goingAway', {
      get () {
        peer.signalReads++
        if (owner === undefined) {
          owner = new AbortController()
          if (gone) owner.abort(new Error('going away'))
        }
        return owner.signal
      }
    })
  }
  return peer
}

/** A frame of `type` with `body` (bytes or a string). */
export function f (type: number, body: Uint8Array | string = new Uint8Array(0)): Frame {
  return { type, body: typeof body === 'string' ? new TextEncoder().encode(body) : body }
}

/** Resolves with the outcome of `promise` without ever rejecting. */
export async function settle (promise: Promise<unknown>): Promise<{ ok: boolean, error?: any }> {
  try {
    await promise
    return { ok: true }
  } catch (error) {
    return { ok: false, error }
  }
}

/** A user source that never yields and never ends. */
export async function * forever<T> (): AsyncGenerator<T> {
  await new Promise(() => {})
  yield * []
}
