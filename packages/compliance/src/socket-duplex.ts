import type net from 'node:net'
import type { ByteChunk, ByteDuplex } from '@proto/interface'

/** Waits for `drain`, or fails if the socket closes first. */
async function drained (socket: net.Socket): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      socket.off('drain', onDrain)
      socket.off('close', onClose)
      if (err == null) resolve()
      else reject(err)
    }
    const onDrain = (): void => { done() }
    const onClose = (): void => { done(new Error('socket closed while writing')) }
    socket.on('drain', onDrain)
    socket.on('close', onClose)
  })
}

/**
 * A plain `node:net` socket as a byte duplex: the smallest adapter that honours the stage contract (sink
 * ends with FIN, abort destroys, errors surface from source and sink). Runs a stage without
 * `@proto/transport` beneath it, in tests and benchmarks.
 */
export function socketDuplex (socket: net.Socket): ByteDuplex {
  socket.setNoDelay(true)
  socket.on('error', () => {}) // surfaced through source and sink
  return {
    source: socket[Symbol.asyncIterator]() as AsyncIterableIterator<Uint8Array>,
    async sink (source: AsyncIterable<ByteChunk> | Iterable<ByteChunk>): Promise<void> {
      try {
        for await (const chunk of source) {
          if (!socket.write(chunk instanceof Uint8Array ? chunk : chunk.subarray())) await drained(socket)
        }
        socket.end()
      } catch (err) {
        socket.destroy(err as Error)
        throw err
      }
    },
    abort (err: Error): void {
      socket.destroy(err)
    },
    async close (): Promise<void> {
      if (socket.destroyed) return
      socket.end()
      await new Promise(resolve => socket.once('close', resolve))
    }
  }
}
