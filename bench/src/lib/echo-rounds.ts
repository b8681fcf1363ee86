import type { Frame } from '@proto/codec'
import { DATA } from './producers.js'
import { pushable } from './pushable.js'

/** What an echo client needs of a frame duplex: one sink for the run, its source, a clean close. */
export interface EchoDuplex {
  readonly source: AsyncIterable<Frame>
  sink(source: AsyncIterable<Frame>): Promise<void>
  close(): Promise<void>
}

/**
 * Sequential round trips of one `size`-byte DATA frame through `duplex` (after `warmup` unmeasured ones);
 * each round trip in µs. Ends the duplex's writing and closes it afterwards.
 */
export async function echoRounds (duplex: EchoDuplex, size: number, count: number, warmup: number): Promise<Float64Array> {
  const out = pushable<Frame>()
  const writing = duplex.sink(out)
  const it = duplex.source[Symbol.asyncIterator]()
  const payload = new Uint8Array(size).fill(0x61)
  const samples = new Float64Array(count)
  try {
    for (let i = -warmup; i < count; i++) {
      const t = process.hrtime.bigint()
      out.push({ type: DATA, body: payload })
      const r = await it.next()
      if (r.done === true) throw new Error('the echo server ended early')
      if (i >= 0) samples[i] = Number(process.hrtime.bigint() - t) / 1000
    }
  } finally {
    out.end()
    await writing
    await duplex.close()
  }
  return samples
}
