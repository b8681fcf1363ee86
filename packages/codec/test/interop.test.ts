import { collect } from '@proto/stage-compliance'
import fc from 'fast-check'
import * as lp from 'it-length-prefixed'
import { pipe } from 'it-pipe'
import { describe, expect, it } from 'vitest'
import { decode, encode, formats } from '../src/index.js'
import { asAsync } from './bytes.js'

const format = formats.lengthPrefixed

describe('it-length-prefixed interop', () => {
  const messages = fc.array(fc.uint8Array({ maxLength: 2000 }), { maxLength: 40 })

  it('decodes what it-length-prefixed encodes', async () => {
    await fc.assert(fc.asyncProperty(messages, async (msgs) => {
      const frames = await pipe(asAsync(msgs), s => lp.encode(s), s => decode(s, { format }), async s => await collect(s))
      expect(frames.map(f => f.body)).toEqual(msgs)
      expect(frames.every(f => f.type === 0)).toBe(true)
    }), { numRuns: 60 })
  })

  it('encodes what it-length-prefixed decodes', async () => {
    await fc.assert(fc.asyncProperty(messages, async (msgs) => {
      const lists = await pipe(asAsync(msgs.map(body => ({ type: 0, body }))), s => encode(s, { format }), s => lp.decode(s), async s => await collect(s))
      // byte for byte (on Node our encoded chunks are Buffers, so views of them are too)
      expect(lists.map(l => Uint8Array.from(l.subarray()))).toEqual(msgs)
    }), { numRuns: 60 })
  })

  it('matches it-length-prefixed byte for byte, including multi-byte varints', () => {
    const msgs = [new Uint8Array(0), new Uint8Array(127), new Uint8Array(128), new Uint8Array(16_384), new Uint8Array(300_000)]
    for (const body of msgs) {
      const ours = [...encode([{ type: 0, body }], { format })].map(c => c instanceof Uint8Array ? c : c.subarray())
      const theirs = lp.encode.single(body).subarray()
      expect(Buffer.concat(ours)).toEqual(Buffer.from(theirs))
    }
  })

  it('reports the truncated frame it-length-prefixed silently drops', async () => {
    // a complete length prefix with no body: it-length-prefixed ends quietly, we fail loudly
    const truncated = [Uint8Array.of(5)]
    expect(await collect(lp.decode(asAsync(truncated)))).toEqual([])
    await expect(collect(decode(asAsync(truncated), { format }))).rejects.toMatchObject({ name: 'TruncatedFrameError', expected: 5, received: 0 })
  })
})
