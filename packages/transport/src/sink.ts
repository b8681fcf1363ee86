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
 * connection is aborted with that error (`abortWith`) and the error is rethrown; if the connection
 * fails, the producer is told to stop and the connection's error is thrown.
 */
export async function runSink (
  source: Source<ByteChunk>,
  writer: Writer,
  failure: () => Error | undefined,
  abortWith: (err: Error) => void
): Promise<void> {
  const iterator = isAsync(source) ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
  const sync = !isAsync(source)
  for (;;) {
    let step: IteratorResult<ByteChunk>
    try {
      step = sync ? (iterator as Iterator<ByteChunk>).next() : await iterator.next()
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err))
      abortWith(error)
      throw failure() ?? error
    }
    if (step.done === true) break
    try {
      writer.push(step.value)
      if (writer.blocked) await writer.waitDrain()
    } catch (err) {
      stopProducer(iterator)
      throw failure() ?? err
    }
  }
  const err = failure()
  if (err != null) throw err
}
