import { duplexPair } from 'it-pair/duplex'
import type { Duplex, Source } from 'it-stream-types'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type { ByteChunk, ByteDuplex } from '../src/index.js'

/** The adapter of the README: a duplex whose sink takes Uint8Array only, made a byte duplex. */
function bytes (plain: Duplex<AsyncIterable<Uint8Array>, Source<Uint8Array>, Promise<void>>): ByteDuplex {
  return {
    source: plain.source,
    sink: async (source: Source<ByteChunk>) => {
      await plain.sink((async function * () { for await (const chunk of source) yield chunk.subarray() })())
    }
  }
}

// What counts as a byte duplex, checked by the compiler (`tsc -b` builds this file): every
// `@ts-expect-error` below fails the build if the line ever type-checks.

describe('ByteDuplex', () => {
  it('is what duplexPair<ByteChunk>() from it-pair gives', () => {
    const [a, b] = duplexPair<ByteChunk>()
    expectTypeOf(a).toExtend<ByteDuplex>()
    expectTypeOf(b).toExtend<ByteDuplex>()
  })

  it('is not what duplexPair<Uint8Array>() gives: its sink takes plain views only, and stages write lists too', () => {
    // the source side is covariant: a source of Uint8Array is a fine source of ByteChunk
    expectTypeOf<AsyncGenerator<Uint8Array>>().toExtend<ByteDuplex['source']>()
    // the sink side is contravariant: a stage may hand a Uint8ArrayList (a frame's header and body, not
    // copied together) to the sink below it, which a sink of Uint8Array alone cannot take
    expectTypeOf<(source: Source<Uint8Array>) => Promise<void>>().not.toExtend<ByteDuplex['sink']>()
    const [plain] = duplexPair<Uint8Array>()
    // @ts-expect-error a Uint8Array-only sink is not a byte duplex's sink (use duplexPair<ByteChunk>())
    const rejected: ByteDuplex = plain
    expect(rejected).toBeDefined()
  })

  it('is any duplex whose sink takes ByteChunk, whatever its source yields', () => {
    expectTypeOf<Duplex<AsyncIterable<Uint8Array>, Source<ByteChunk>, Promise<void>>>().toExtend<ByteDuplex>()
  })

  it('is what the README\'s adapter makes of duplexPair<Uint8Array>(): lists arrive as one Uint8Array each', async () => {
    const [a, b] = duplexPair<Uint8Array>()
    const adapted: ByteDuplex = bytes(a)
    const sent = adapted.sink([Uint8Array.of(0), new Uint8ArrayList(Uint8Array.of(1, 2), Uint8Array.of(3))])
    const received: Uint8Array[] = []
    for await (const chunk of b.source) received.push(chunk)
    await sent
    expect(received).toEqual([Uint8Array.of(0), Uint8Array.of(1, 2, 3)])
    expect(received.every(chunk => chunk instanceof Uint8Array)).toBe(true)
  })

  it('carries Uint8Array and Uint8ArrayList chunks through it-pair unchanged', async () => {
    const [a, b] = duplexPair<ByteChunk>()
    const list = new Uint8ArrayList(Uint8Array.of(1, 2), Uint8Array.of(3))
    const sent = a.sink([Uint8Array.of(0), list])
    const received: ByteChunk[] = []
    for await (const chunk of b.source) received.push(chunk)
    await sent
    expect(received).toHaveLength(2)
    expect(received[0]).toEqual(Uint8Array.of(0))
    expect(received[1]).toBe(list)
    expect(received.map(chunk => chunk.subarray())).toEqual([Uint8Array.of(0), Uint8Array.of(1, 2, 3)])
  })
})
