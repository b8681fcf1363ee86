import { toError } from './source-error.js'

/**
 * Push mode between stages. A source that is also a {@link PushSource} can hand its items to the stage
 * below or above it directly, synchronously, as they become ready, instead of being pulled one promise at
 * a time: a ping written by the heartbeat reaches the socket in one call chain, and a pong read from the
 * socket reaches the heartbeat the same way. An idle connection then keeps no pending read and no parked
 * promise between its layers. Any source stays a plain async iterable as well: a consumer that does not
 * know push mode pulls it as usual, and a stage that receives a source without `subscribe()` pulls it.
 */

/** Where a {@link PushSource} hands its items once subscribed. */
export interface PushTarget<T> {
  /**
   * Takes `items` (never empty), in order after everything pushed before. Returns `false` once it wants no
   * more for now; the items given are taken either way, and the source waits for `resume()` before pushing
   * again (as `Writable.write()` does).
   */
  push(items: T[]): boolean
  /** No more items: the source ended (`err` undefined) or failed with `err`. Called once. */
  end(err?: Error): void
}

/** A source that can push its items to one target instead of being pulled. */
export interface PushSource<T> {
  /**
   * Switches the source to push mode: from now on every item goes to `target.push()` as soon as it is
   * ready (items already waiting, at once), and the end or failure to `target.end()`. Called at most once,
   * and not while a `next()` is pending; the source is not pulled any more. A source that was already read
   * from may refuse (throw): a consumer that reads first (a handshake) then goes on pulling.
   */
  subscribe(target: PushTarget<T>): void
  /** The target has room again after `push()` returned `false`. */
  resume(): void
  /** The target stops taking items (it finished or failed): nothing more is pushed, the producer is released. */
  return?(): unknown
}

/** Whether `source` (an iterator or iterable) can push its items. */
export function isPushSource<T> (source: unknown): source is PushSource<T> {
  return source != null && typeof (source as Partial<PushSource<T>>).subscribe === 'function' && typeof (source as Partial<PushSource<T>>).resume === 'function'
}

/** Told how a sink's run ended; an object, so a stage passes itself and no closure is made per connection. */
export interface SinkWatcher {
  /** The sink finished (`err` undefined: everything was handed down and the write side ended) or failed with `err`. Called once, never synchronously from `sinkPush()` or from a call the watcher made. */
  onSinkEnd(err?: Error): void
}

/**
 * A duplex whose sink also takes a {@link PushSource} with a watcher for the outcome, instead of returning a
 * promise: for a stage that writes into the stage below for the connection's whole life, where a pending
 * promise and the reactions waiting on it cost about 0.5 KiB of heap per connection.
 */
export interface PushSinkable<T> {
  /** As `sink(source)` (call one or the other, once), with the outcome given to `watcher.onSinkEnd()` instead of a promise. */
  sinkPush(source: PushSource<T>, watcher: SinkWatcher): void
}

/** Whether `duplex` offers {@link PushSinkable}. */
export function isPushSinkable<T> (duplex: unknown): duplex is PushSinkable<T> {
  return duplex != null && typeof (duplex as Partial<PushSinkable<T>>).sinkPush === 'function'
}

/** Tells `watcher` how a sink's run ended, from a microtask: never from within the call that started or ended it. */
export function tellSinkEnd (watcher: SinkWatcher, err?: Error): void {
  queueMicrotask(() => { watcher.onSinkEnd(err) })
}

/**
 * Tells how a sink's run ended to whoever waits for it: the promise `sink()` returned (`run`, settled now)
 * and the watcher given to `sinkPush()` (from a microtask). Either may be absent.
 */
export function settleSinkRun (run: { resolve(): void, reject(err: Error): void } | undefined, watcher: SinkWatcher | undefined, err?: Error): void {
  if (err === undefined) run?.resolve()
  else run?.reject(err)
  if (watcher !== undefined) tellSinkEnd(watcher, err)
}

/**
 * Hands `source` to `duplex`'s sink with the outcome told to `watcher`: through `sinkPush` when the duplex
 * has it, otherwise through `sink()`, the watcher then told from its promise (never synchronously). A
 * `sinkPush` that throws, against its contract, is told to the watcher as its failure.
 */
export function sinkWatched<T> (duplex: { sink(source: AsyncIterable<T>): Promise<void> }, source: PushSource<T> & AsyncIterable<T>, watcher: SinkWatcher): void {
  if (isPushSinkable<T>(duplex)) {
    try {
      duplex.sinkPush(source, watcher)
    } catch (err) {
      tellSinkEnd(watcher, toError(err))
    }
    return
  }
  let sinking: Promise<void>
  try {
    sinking = Promise.resolve(duplex.sink(source)) // a hand-written sink may return no promise
  } catch (err) {
    sinking = Promise.reject(err)
  }
  sinking.then(() => { watcher.onSinkEnd() }, (err: unknown) => { watcher.onSinkEnd(toError(err)) })
}
