import type { ByteChunk } from '@proto/interface'
import type { Source } from 'it-stream-types'
import type { Writer } from './writer.js'

function isAsync (source: Source<ByteChunk>): source is AsyncIterable<ByteChunk> {
  return typeof (source as AsyncIterable<ByteChunk>)[Symbol.asyncIterator] === 'function'
}

function stopProducer (iterator: Iterator<ByteChunk> | AsyncIterator<ByteChunk>): void {
  try {
    const r = iterator.return?.()
    if (r != null && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, () => {})
  } catch {}
}

/**
 * Pulls `source` into `writer` until it ends. Synchronous sources are drained without a microtask per
 * item; both kinds wait for `'drain'` whenever the socket pushes back. If the source throws, the
 * connection is aborted with that error (`abortFromSource`) and the error is rethrown; if the connection
 * fails, the producer is told to stop and the connection's error is thrown.
 */
/** What the sink loop asks of its connection. */
export interface SinkOwner {
  /** The connection's failure, once there is one. */
  sinkFailure(): Error | undefined
  /** The source threw `err`: abort the connection with it (unless it already failed). */
  abortFromSource(err: Error): void
}

export async function runSink (source: Source<ByteChunk>, writer: Writer, owner: SinkOwner): Promise<void> {
  const iterator = isAsync(source) ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
  const sync = !isAsync(source)
  for (;;) {
    let step: IteratorResult<ByteChunk>
    try {
      step = sync ? (iterator as Iterator<ByteChunk>).next() : await iterator.next()
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err))
      owner.abortFromSource(error)
      throw owner.sinkFailure() ?? error
    }
    if (step.done === true) break
    try {
      writer.push(step.value)
      if (writer.blocked) await writer.waitDrain()
    } catch (err) {
      stopProducer(iterator)
      throw owner.sinkFailure() ?? err
    }
  }
  const err = owner.sinkFailure()
  if (err != null) throw err
}
