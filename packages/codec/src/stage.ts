import type { AbortOptions, ByteChunk, ByteDuplex, GoingAwayWatchable, GoingAwayWatcher, PushSinkable, PushSource, SinkWatcher, StageDuplex } from '@proto/interface'
import { abortReason, asyncIteratorOf, isGoingAwayWatchable, isPushSource, sinkWatched, validate } from '@proto/interface'
import { FrameDecoder } from './decoder.js'
import { FrameEncoder } from './encoder.js'
import type { Layout } from './format.js'
import type { Frame, ListFrame } from './frame.js'
import type { FrameSource } from './frame-source.js'
import { DecodingSource } from './frame-source.js'
import type { CodecInit, CopyCodecInit, ListCodecInit } from './options.js'
import { toOptions } from './options.js'
import type { DecodeFailureOwner } from './push-decode.js'
import { PushEncoding } from './push-encode.js'
import { encodeWith } from './transforms.js'

/** What a stage's `sink` takes (it-stream-types' `Source`): an iterable or async iterable. */
type Source<T> = Parameters<StageDuplex<T>['sink']>[0]

/** A duplex of frames: what every stage above the codec consumes and produces. */
export interface FrameDuplex extends StageDuplex<Frame> {}

/**
 * A frame duplex that tells how far the frame it is receiving has come, so a stage above can tell a peer
 * sending one large frame over a slow link from a silent one (the heartbeat uses it).
 */
export interface FrameProgress {
  /** Grows with every byte of the frame in progress that arrives; `0` between frames. Only its changes mean anything. */
  readonly frameProgress: number
}

/**
 * The frame duplex the codec makes. Its source also serves whole batches; its sink takes `Frame`s and
 * `ListFrame`s alike. `F` is `ListFrame` when it was made with `bodyList: true`.
 */
export interface CodecDuplex<F extends ListFrame = Frame> extends StageDuplex<F, ListFrame>, GoingAwayWatchable, PushSinkable<ListFrame>, FrameProgress {
  /** The decoded frames, in order, with a single consumer (`for await`, or `nextBatch()` for whole batches); a decoding error is thrown after every frame before it. */
  source: FrameSource<F>
  close(options?: AbortOptions): Promise<void>
  abort(err: Error): void
  /** The lower duplex's `goingAway`, as it is (the codec has no protocol of its own to end). */
  readonly goingAway?: AbortSignal
}

/**
 * Turns any byte duplex into a frame duplex. Decoding errors abort the byte duplex beneath (that one
 * connection only) and are thrown from `source` after every frame completed before them; frames that
 * cannot be encoded reject `sink` and abort the connection.
 */
export function codec (lower: ByteDuplex, init?: CopyCodecInit): CodecDuplex
export function codec (lower: ByteDuplex, init: ListCodecInit | CodecInit): CodecDuplex<ListFrame>
export function codec (lower: ByteDuplex, init?: CodecInit): CodecDuplex<ListFrame> {
  validate.duplex('lower', lower)
  const { layout, bodyList } = toOptions(init)
  return new CodecStage(lower, layout, bodyList)
}

/**
 * Checks `init` as `codec()` does, throwing the same `InvalidParametersError`, without a connection: for
 * code that makes its codecs later, one per connection (e.g. `@proto/session`), and should refuse bad
 * options when it is set up rather than at every connection.
 */
export function checkCodecInit (init?: CodecInit): void {
  toOptions(init)
}

/**
 * The longest frame body these options let through: `maxFrameLength`, or less when the format's length
 * field cannot say more (a 1-byte length: 255, less whatever else it counts). Throws `InvalidParametersError`
 * for options `codec()` would refuse.
 */
export function maxBodyLength (init?: CodecInit): number {
  return toOptions(init).layout.maxBody
}

/**
 * A check of one frame against these options, throwing what encoding it would throw: `InvalidFrameError`
 * (a type that is no byte, or not `0` where the format has no type byte; a body that is not bytes) or
 * `FrameTooLongError` (a body over `maxBodyLength(init)`). Meant for `@proto/reconnect`'s `validate`: an item
 * the codec refuses fails every connection it is written on, so with retention it would be sent again on
 * each one; checked at the sink, it is refused there, typed and counted. Throws `InvalidParametersError` at
 * once for options `codec()` would refuse.
 */
export function frameCheck (init?: CodecInit): (frame: ListFrame) => void {
  const encoder = new FrameEncoder(toOptions(init).layout)
  return (frame) => { encoder.check(frame) }
}

/**
 * The codec over one byte duplex. A class with its methods on the prototype, so one connection costs this
 * object, its decoding source and, once written to, its encoder; `sink` is bound on first use.
 */
class CodecStage implements CodecDuplex<ListFrame>, DecodeFailureOwner {
  readonly source: DecodingSource<ListFrame>
  #sink: ((frames: Source<ListFrame>) => Promise<void>) | undefined

  constructor (private readonly lower: ByteDuplex, private readonly layout: Layout, bodyList: boolean) {
    this.source = new DecodingSource(lower.source[Symbol.asyncIterator](), new FrameDecoder<ListFrame>(layout, bodyList), this)
  }

  /** Bound: `it-pipe` calls `sink` detached from its duplex. */
  get sink (): (frames: Source<ListFrame>) => Promise<void> {
    return this.#sink ??= frames => this.write(frames)
  }

  async close (options?: AbortOptions): Promise<void> {
    await this.lower.close?.(options)
  }

  abort (err: Error): void {
    this.lower.abort?.(abortReason(err))
  }

  get frameProgress (): number {
    return this.source.frameProgress
  }

  /** The lower duplex's `goingAway`, read through (a lower duplex whose signal comes later is followed); `undefined` when it has none. */
  get goingAway (): AbortSignal {
    return this.lower.goingAway as AbortSignal
  }

  /** Watches the lower duplex's going away when it can be watched (see `GoingAwayWatchable`); `false` otherwise. */
  watchGoingAway (watcher: GoingAwayWatcher): boolean {
    const lower = this.lower
    return isGoingAwayWatchable(lower) && lower.watchGoingAway(watcher)
  }

  unwatchGoingAway (watcher: GoingAwayWatcher): void {
    const lower = this.lower
    if (isGoingAwayWatchable(lower)) lower.unwatchGoingAway(watcher)
  }

  /**
   * `sink` for a producer that pushes (a stage's outbound), with the outcome told to `watcher`: straight
   * into the lower duplex's own `sinkPush` when it has one, so nothing is parked for the run.
   */
  sinkPush (frames: PushSource<ListFrame>, watcher: SinkWatcher): void {
    sinkWatched<ByteChunk>(this.lower, new PushEncoding(frames, new FrameEncoder(this.layout)), watcher)
  }

  private write (frames: Source<ListFrame>): Promise<void> {
    const refused = validate.sourceRefusal(frames)
    if (refused !== undefined) return Promise.reject(refused)
    try {
      const encoder = new FrameEncoder(this.layout)
      const it = isSync(frames) ? undefined : asyncIteratorOf(frames)
      return this.lower.sink(it !== undefined && isPushSource<ListFrame>(it) ? new PushEncoding(it, encoder) : encodeWith(frames, encoder))
    } catch (err) {
      return Promise.reject(err)
    }
  }
}

function isSync<T> (source: Source<T>): source is Iterable<T> {
  return (source as Iterable<T>)[Symbol.iterator] != null && (source as AsyncIterable<T>)[Symbol.asyncIterator] == null
}
