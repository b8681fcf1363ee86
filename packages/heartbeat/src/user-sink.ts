import type { Frame } from '@proto/codec'
import type { SinkWatcher } from '@proto/interface'
import { tellSinkEnd, validate } from '@proto/interface'
import type { Source } from 'it-stream-types'
import { InvalidParametersError } from './errors.js'

/** What the user's `sink()` needs from its stage. */
export interface UserSinkOwner {
  /** Why writing cannot start now (the stage failed, or stopped writing), or `undefined`. */
  refusal(): Error | undefined
  /** Starts taking frames from `source`. */
  attach(source: Source<Frame>): void
}

function calledTwice (): InvalidParametersError {
  return new InvalidParametersError('expected sink() to be called once per stage, but it was called again; pipe everything through one source')
}

/**
 * The user's side of the stage's writing: `sink(source)` (or `sinkPush(source, watcher)`) may be called
 * once; its promise resolves (the watcher is told) when our writing has ended (everything handed down,
 * FIN), and rejects with the stage's failure.
 */
export class UserSink {
  private called = false
  private bound: ((source: Source<Frame>) => Promise<void>) | undefined
  private resolveFn: (() => void) | undefined
  private rejectFn: ((err: Error) => void) | undefined
  private watcher: SinkWatcher | undefined

  constructor (private readonly owner: UserSinkOwner) {}

  /** `sink`, bound (made at the first use: `it-pipe` calls it detached from its duplex). */
  get fn (): (source: Source<Frame>) => Promise<void> {
    // a bound method, not an arrow: a bound function keeps no closure context for the stage's life (48 against 96 B)
    return this.bound ??= this.start.bind(this)
  }

  /** Our writing ended: FIN is out. */
  resolve (): void {
    this.resolveFn?.()
    this.tell()
  }

  /** The stage failed with `err`. */
  reject (err: Error): void {
    this.rejectFn?.(err)
    this.tell(err)
  }

  /** As `sink(source)`, with the outcome told to `watcher` instead of a promise: nothing is parked meanwhile. */
  startWatched (source: Source<Frame>, watcher: SinkWatcher): void {
    if (this.called) {
      tellSinkEnd(watcher, calledTwice())
      return
    }
    this.called = true
    const refusal = this.owner.refusal()
    if (refusal !== undefined) {
      tellSinkEnd(watcher, refusal)
      return
    }
    this.watcher = watcher
    this.owner.attach(source)
  }

  private tell (err?: Error): void {
    const watcher = this.watcher
    if (watcher === undefined) return
    this.watcher = undefined
    tellSinkEnd(watcher, err)
  }

  private start (source: Source<Frame>): Promise<void> {
    const bad = validate.sourceRefusal(source)
    if (bad !== undefined) return Promise.reject(bad)
    if (this.called) return Promise.reject(calledTwice())
    this.called = true
    const refusal = this.owner.refusal()
    if (refusal !== undefined) return Promise.reject(refusal)
    const done = new Promise<void>((resolve, reject) => { this.resolveFn = resolve; this.rejectFn = reject })
    this.owner.attach(source)
    return done
  }
}
