import type { ByteChunk, ByteDuplex } from '@proto/interface'
import { abortReason, toUint8Array, validate } from '@proto/interface'
import type { Source } from 'it-stream-types'

export interface MemoryBytePairInit {
  /** Bytes one direction holds before the writer's `sink` waits. Default 64 KiB. */
  highWaterMark?: number
}

/** Two in-memory byte duplexes wired to each other, with real backpressure, half-close and abort. */
export interface MemoryBytePair {
  a: ByteDuplex
  b: ByteDuplex
  /** Fails both directions at once, as a reset connection would. */
  reset(err: Error): void
}

/** One direction: a bounded queue of chunks. */
class Channel {
  private readonly chunks: Uint8Array[] = []
  private bytes = 0
  private ended = false
  private error: Error | undefined
  private wakeReader: (() => void) | undefined
  private wakeWriter: (() => void) | undefined

  constructor (private readonly highWaterMark: number) {}

  async write (chunk: Uint8Array): Promise<void> {
    if (this.error != null) throw this.error
    if (this.ended) throw new Error('write after end')
    this.chunks.push(chunk)
    this.bytes += chunk.byteLength
    this.signalReader()
    while (this.bytes >= this.highWaterMark && this.error == null) {
      await new Promise<void>((resolve) => { this.wakeWriter = resolve })
    }
    if (this.error != null) throw this.error
  }

  end (): void {
    this.ended = true
    this.signalReader()
  }

  fail (err: Error): void {
    if (this.error != null || (this.ended && this.chunks.length === 0)) return
    this.error = err
    this.signalReader()
    this.signalWriter()
  }

  async* read (): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.error != null) throw this.error
      const chunk = this.chunks.shift()
      if (chunk != null) {
        this.bytes -= chunk.byteLength
        this.signalWriter()
        yield chunk
        continue
      }
      if (this.ended) return
      await new Promise<void>((resolve) => { this.wakeReader = resolve })
    }
  }

  private signalReader (): void {
    const wake = this.wakeReader
    this.wakeReader = undefined
    wake?.()
  }

  private signalWriter (): void {
    const wake = this.wakeWriter
    this.wakeWriter = undefined
    wake?.()
  }
}

function end (incoming: Channel, outgoing: Channel, reset: (err: Error) => void): ByteDuplex {
  return {
    source: incoming.read(),
    async sink (source: Source<ByteChunk>): Promise<void> {
      const bad = validate.sourceRefusal(source)
      if (bad !== undefined) throw bad
      try {
        for await (const chunk of source) await outgoing.write(toUint8Array(chunk))
        outgoing.end()
      } catch (err) {
        reset(err as Error)
        throw err
      }
    },
    abort: reset,
    async close (): Promise<void> {
      outgoing.end()
    }
  }
}

/** Makes a connected pair of in-memory byte duplexes for testing stages without sockets. */
export function memoryBytePair (init: MemoryBytePairInit = {}): MemoryBytePair {
  const hwm = init.highWaterMark ?? 64 * 1024
  const ab = new Channel(hwm)
  const ba = new Channel(hwm)
  const reset = (err: Error): void => {
    const reason = abortReason(err)
    ab.fail(reason)
    ba.fail(reason)
  }
  return { a: end(ba, ab, reset), b: end(ab, ba, reset), reset }
}
