import type { Frame } from '@proto/codec'
import type { PushTarget } from '@proto/interface'
import type { InboundQueue } from './inbound.js'
import type { HeartbeatSource } from './types.js'

/**
 * The upper source as users hold it: the reading half of the stage's inbound queue and nothing else (the
 * queue itself, with its writing half, is in a private field).
 */
export class InboundSource implements HeartbeatSource {
  readonly #queue: InboundQueue

  constructor (queue: InboundQueue) {
    this.#queue = queue
  }

  [Symbol.asyncIterator] (): this {
    return this
  }

  next (): Promise<IteratorResult<Frame>> {
    return this.#queue.next()
  }

  nextBatch (): Promise<Frame[] | undefined> {
    return this.#queue.nextBatch()
  }

  /**
   * Push mode, for a consumer that takes pushes (another stage's sink): frames go to `target` as they
   * arrive, then the end or the failure; nothing is parked while the peer is silent. Once, with no read pending (after reads that have settled, e.g. a handshake's, it takes over from them).
   */
  subscribe (target: PushTarget<Frame>): void {
    this.#queue.subscribe(target)
  }

  /** Push mode: the consumer takes frames again after `push()` returned `false`. */
  resume (): void {
    this.#queue.resume()
  }

  async return (): Promise<IteratorReturnResult<undefined>> {
    return await this.#queue.return()
  }

  async throw (err?: unknown): Promise<IteratorReturnResult<undefined>> {
    return await this.#queue.throw(err)
  }
}
