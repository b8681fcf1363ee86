import type { ByteChunk } from '@proto/interface'
import type { Source } from 'it-stream-types'
import type { Writer } from './writer.js'

/** An async iterator that can also hand out every item it has ready at once (`undefined` at the end). */
interface BatchingIterator<T> extends AsyncIterator<T> {
  nextBatch?: () => Promise<T[] | undefined>
}

function isAsync (source: Source<ByteChunk>): source is AsyncIterable<ByteChunk> {
  return typeof (source as AsyncIterable<ByteChunk>)[Symbol.asyncIterator] === 'function'
}

function stopProducer (iterator: Iterator<ByteChunk> | AsyncIterator<ByteChunk>): void {
  try {
    const r = iterator.return?.()
    if (r != null && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, () => {})
  } catch {}
}

function asError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

/** What the sink loop asks of its connection. */
export interface SinkOwner {
  /** The connection's failure, once there is one. */
  sinkFailure(): Error | undefined
  /** The source threw `err`: abort the connection with it (unless it already failed). */
  abortFromSource(err: Error): void
}

/**
 * Pulls `source` into `writer` until it ends. Synchronous sources are drained without a microtask per
 * item; an async source whose iterator offers `nextBatch()` is drained a batch per step; both wait for
 * `'drain'` whenever the socket pushes back. If the source throws, the connection is aborted with that
 * error (`abortFromSource`) and the error is rethrown; if the connection fails, the producer is told to
 * stop and the connection's error is thrown.
 */
export async function runSink (source: Source<ByteChunk>, writer: Writer, owner: SinkOwner): Promise<void> {
  if (isAsync(source)) {
    const iterator: BatchingIterator<ByteChunk> = source[Symbol.asyncIterator]()
    if (typeof iterator.nextBatch === 'function') await sinkBatches(iterator, iterator.nextBatch, writer, owner)
    else await sinkAsync(iterator, writer, owner)
  } else {
    await sinkSync(source[Symbol.iterator](), writer, owner)
  }
  const err = owner.sinkFailure()
  if (err != null) throw err
}

async function sinkSync (iterator: Iterator<ByteChunk>, writer: Writer, owner: SinkOwner): Promise<void> {
  for (;;) {
    let step: IteratorResult<ByteChunk>
    try {
      step = iterator.next()
    } catch (err) {
      throw failSource(owner, err)
    }
    if (step.done === true) return
    try {
      writer.push(step.value)
      if (writer.blocked) await writer.waitDrain()
    } catch (err) {
      stopProducer(iterator)
      throw owner.sinkFailure() ?? err
    }
  }
}

async function sinkAsync (iterator: AsyncIterator<ByteChunk>, writer: Writer, owner: SinkOwner): Promise<void> {
  for (;;) {
    let step: IteratorResult<ByteChunk>
    try {
      step = await iterator.next()
    } catch (err) {
      throw failSource(owner, err)
    }
    if (step.done === true) return
    try {
      writer.push(step.value)
      if (writer.blocked) await writer.waitDrain()
    } catch (err) {
      stopProducer(iterator)
      throw owner.sinkFailure() ?? err
    }
  }
}

async function sinkBatches (iterator: AsyncIterator<ByteChunk>, nextBatch: () => Promise<ByteChunk[] | undefined>, writer: Writer, owner: SinkOwner): Promise<void> {
  for (;;) {
    let batch: ByteChunk[] | undefined
    try {
      batch = await nextBatch.call(iterator)
    } catch (err) {
      throw failSource(owner, err)
    }
    if (batch === undefined) return
    try {
      for (let i = 0; i < batch.length; i++) writer.push(batch[i] as ByteChunk)
      if (writer.blocked) await writer.waitDrain()
    } catch (err) {
      stopProducer(iterator)
      throw owner.sinkFailure() ?? err
    }
  }
}

/** The source threw: abort the connection with its error; returns what the sink rejects with. */
function failSource (owner: SinkOwner, err: unknown): Error {
  const error = asError(err)
  owner.abortFromSource(error)
  return owner.sinkFailure() ?? error
}
