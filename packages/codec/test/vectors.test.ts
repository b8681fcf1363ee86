import { describe, expect, it } from 'vitest'
import type { Frame } from '../src/index.js'
import { decode, encode } from '../src/index.js'
import { concat } from './bytes.js'
import { rejections, roundTrips } from './vectors.js'

function bytewise (wire: Uint8Array): Uint8Array[] {
  return Array.from(wire, b => Uint8Array.of(b))
}

describe('docs/PROTOCOL.md test vectors', () => {
  it('has vectors to check', () => {
    expect(roundTrips.length).toBeGreaterThanOrEqual(20)
    expect(rejections.length).toBeGreaterThanOrEqual(10)
  })

  describe.each(roundTrips)('round trip $id', ({ format, frames, wire }) => {
    it('encodes to the documented bytes', () => {
      expect(concat(encode(frames, { format }))).toEqual(wire)
    })

    it('decodes the documented bytes whole and byte by byte', () => {
      expect([...decode([wire], { format })]).toEqual(frames)
      expect([...decode(bytewise(wire), { format })]).toEqual(frames)
    })
  })

  describe.each(rejections)('rejects $id', ({ format, maxFrameLength, wire, frames, error }) => {
    const init = maxFrameLength == null ? { format } : { format, maxFrameLength }
    for (const [how, chunks] of [['whole', [wire]], ['byte by byte', bytewise(wire)]] as const) {
      it(`with ${error} (${how})`, () => {
        const got: Frame[] = []
        let thrown: unknown
        try {
          for (const f of decode(chunks, init)) got.push(f)
        } catch (err) {
          thrown = err
        }
        expect((thrown as Error)?.name).toBe(error)
        expect(got).toEqual(frames)
      })
    }
  })
})
