import fc from 'fast-check'
import type { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import { BODY_EAGER_BYTES, BODY_GROWTH_LIMIT, LIST_VIEW_MIN } from '../src/constants.js'
import { FrameDecoder } from '../src/decoder.js'
import { toLayout } from '../src/format.js'
import type { Frame, FrameFormat, ListFrame } from '../src/index.js'
import { decode, encode, formats } from '../src/index.js'
import { asAsync, concat } from './bytes.js'
import { retainedArrayBuffers, retainedBytes } from './memory.js'
import { referenceEncode } from './reference.js'

/** Splits `bytes` at the given cut points. */
function split (bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map(c => c % (bytes.byteLength + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const p of [...points, bytes.byteLength]) {
    out.push(bytes.subarray(prev, p))
    prev = p
  }
  return out
}

const flat = (f: ListFrame): Frame => ({ type: f.type, body: f.body instanceof Uint8Array ? f.body : f.body.subarray() })

/** Compares frames by type and bytes (`toEqual` walks large bodies element by element, far too slowly). */
function expectFrames (got: ListFrame[], want: Frame[]): void {
  expect(got.map(f => f.type)).toEqual(want.map(f => f.type))
  got.forEach((f, i) => { expect(Buffer.compare(flat(f).body, want[i].body)).toBe(0) })
}

/** Bytes that differ from position to position, so a misplaced piece shows. */
const PATTERN = Uint8Array.from({ length: 6 * BODY_EAGER_BYTES }, (_, i) => (i * 7 + (i >> 8)) & 0xff)

/** Frames with a few bodies larger than the eager allocation, so bodies grow as their pieces arrive. */
const largeFrames = fc.array(fc.record({
  type: fc.integer({ min: 0, max: 255 }),
  body: fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.integer({ min: BODY_EAGER_BYTES - 10, max: 5 * BODY_EAGER_BYTES }).map(n => PATTERN.slice(n & 0xff, (n & 0xff) + n))
  )
}), { maxLength: 6 })

describe.each<[string, FrameFormat]>([['proto', formats.proto], ['varint type before', { length: 'varint', type: 'before' }]])('bodies that span reads, layout %s', (_name, format) => {
  it('are whole and exact over every chunking, copied or as lists, sync and async', async () => {
    await fc.assert(fc.asyncProperty(largeFrames, fc.array(fc.nat(), { maxLength: 60 }), async (frames, cuts) => {
      const wire = referenceEncode(frames, format)
      const pieces = split(wire, cuts)
      expectFrames([...decode(pieces, { format })], frames)
      expectFrames([...decode(pieces, { format, bodyList: true })], frames)
      const async: ListFrame[] = []
      for await (const f of decode(asAsync(pieces), { format, bodyList: true })) async.push(f)
      expectFrames(async, frames)
    }), { numRuns: 40 })
  })
})

describe('a body that spans reads, copied (the default)', () => {
  it('is filled piece by piece into one buffer of its own', () => {
    const body = new Uint8Array(300_000).map((_, i) => i)
    const pieces = split(referenceEncode([{ type: 0, body }]), [3, 5000, 70_000, 70_001, 200_000])
    const [frame] = [...decode(pieces)]
    expectFrames([frame], [{ type: 0, body }])
    expect(frame.body.byteLength).toBe(frame.body.buffer.byteLength)
    expect(pieces.some(p => p.buffer === frame.body.buffer)).toBe(false)
  })

  it('allocates nothing for a header alone, and then never more than the bound for what has arrived', () => {
    const length = 16 * 1024 * 1024 - 1
    const decoder = new FrameDecoder(toLayout(formats.proto, undefined))
    const out: Frame[] = []
    const header = Uint8Array.of(length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff, 0)
    const base = retainedArrayBuffers()
    decoder.push(header, out)
    expect(retainedArrayBuffers() - base).toBeLessThan(1024)
    let received = 0
    for (const step of [1, 1000, BODY_EAGER_BYTES, 4 * BODY_EAGER_BYTES, 40 * BODY_EAGER_BYTES]) {
      while (received < step) {
        const n = Math.min(1460, step - received)
        decoder.push(new Uint8Array(n).fill(1), out)
        received += n
      }
      const held = retainedArrayBuffers() - base
      expect(held).toBeLessThanOrEqual(Math.max(BODY_EAGER_BYTES, BODY_GROWTH_LIMIT * received) + 4096)
    }
    expect(out).toEqual([])
    expect(decoder.midFrame).toBe(true)
  })

  it('reports how far the frame being received has come, growing through its header and body, and 0 between frames', () => {
    const wire = referenceEncode([{ type: 7, body: new Uint8Array(10_000).fill(3) }, { type: 1, body: Uint8Array.of(9) }])
    const header = toLayout(undefined, undefined).maxHeader + 1
    for (const bodyList of [false, true]) {
      const decoder = new FrameDecoder<ListFrame>(toLayout(undefined, undefined), bodyList)
      const out: ListFrame[] = []
      const seen: number[] = []
      let from = 0
      for (const to of [2, 5, 6, 1000, 9000, wire.byteLength]) {
        decoder.push(wire.subarray(from, to), out)
        seen.push(decoder.frameProgress)
        from = to
      }
      // two header bytes; the header read, no body yet; then 1, 995 and 8995 body bytes; then both frames whole
      expect(seen).toEqual([2, header, header + 1, header + 995, header + 8995, 0])
      expect(out.map(f => f.type)).toEqual([7, 1])
    }
  })

  it('reports how much of a truncated body had arrived', () => {
    const wire = referenceEncode([{ type: 0, body: new Uint8Array(100_000) }])
    for (const bodyList of [false, true]) {
      expect(() => [...decode([wire.subarray(0, 5), wire.subarray(5, 40_005)], { bodyList })])
        .toThrow(expect.objectContaining({ name: 'TruncatedFrameError', received: 40_000, expected: 100_000 }))
    }
  })
})

describe('bodyList: bodies that span reads as Uint8ArrayList', () => {
  it('keeps pieces of LIST_VIEW_MIN bytes or more as views of their chunks, and copies short ones into blocks', () => {
    const body = new Uint8Array(10_000).map((_, i) => i)
    const wire = referenceEncode([{ type: 7, body }, { type: 8, body: Uint8Array.of(1, 2) }])
    const pieces = split(wire, [5 + 100, 5 + 4000, 5 + 4010, 5 + 4020])
    const frames = [...decode(pieces, { bodyList: true })]
    expectFrames(frames, [{ type: 7, body }, { type: 8, body: Uint8Array.of(1, 2) }])
    const list = frames[0].body as Uint8ArrayList
    const bufs = [...list]
    // 100 B copied, 3900 B kept, 10 + 10 B copied (the block), the rest (≥ 1 KiB) kept
    expect(bufs.map(b => b.byteLength)).toEqual([100, 3900, 20, 5980])
    expect(bufs[1].buffer).toBe(pieces[1].buffer)
    expect(bufs[3].buffer).toBe(pieces[4].buffer)
    expect(bufs[0].buffer).not.toBe(pieces[0].buffer)
    // a body inside one chunk stays a plain view
    expect(frames[1].body).toBeInstanceOf(Uint8Array)
  })

  it('forwards without copying: a decoded list body is encoded by reference', () => {
    const body = new Uint8Array(50_000).fill(3)
    const pieces = split(referenceEncode([{ type: 1, body }]), [5, 25_005])
    const [frame] = [...decode(pieces, { bodyList: true })]
    const chunks = [...encode([frame])]
    const parts = chunks.flatMap(c => c instanceof Uint8Array ? [c] : [...c])
    expect(parts.some(p => p.buffer === pieces[1].buffer)).toBe(true)
    expect(Buffer.compare(concat(chunks), referenceEncode([{ type: 1, body }]))).toBe(0)
    expect(LIST_VIEW_MIN).toBeLessThan(25_000)
  })
})

describe('a frame dribbled one byte per read (hostile peer)', () => {
  const LENGTH = 1024 * 1024
  const DRIBBLED = 100_000
  // 16× when the body's buffer has just grown (BODY_GROWTH_LIMIT), plus the decoder's own objects; before
  // bodies were filled in place, each read cost a retained view and chunk: 50–155 bytes per byte
  const BOUND = 24

  it.each([['copied', false], ['as a list', true]] as const)('holds a bounded number of bytes per byte received (%s)', (_how, bodyList) => {
    const decoder = new FrameDecoder<ListFrame>(toLayout(formats.proto, undefined), bodyList)
    const out: ListFrame[] = []
    const base = retainedBytes()
    decoder.push(Uint8Array.of(0, 0x10, 0, 0, 9), out)
    for (let i = 0; i < DRIBBLED; i++) decoder.push(Uint8Array.of(i & 0xff), out)
    const perByte = (retainedBytes() - base) / DRIBBLED
    expect(perByte).toBeLessThan(BOUND)
    const rest = new Uint8Array(LENGTH - DRIBBLED).map((_, i) => (i + DRIBBLED) & 0xff)
    decoder.push(rest, out)
    expectFrames(out, [{ type: 9, body: new Uint8Array(LENGTH).map((_, i) => i & 0xff) }])
  })
})

describe('layouts', () => {
  it('one layout per distinct set of options, shared by every codec made with them', () => {
    const proto = toLayout(undefined, undefined)
    expect(toLayout({}, undefined)).toBe(proto)
    expect(toLayout(formats.proto, undefined)).toBe(proto)
    expect(toLayout({ length: 4, endian: 'big', type: 'after', lengthCounts: 'body' }, undefined)).toBe(proto)
    expect(toLayout(undefined, 1024)).not.toBe(proto)
    expect(toLayout(undefined, 1024)).toBe(toLayout(undefined, 1024))
    expect(toLayout({ type: 'none' }, undefined)).toMatchObject({ typeAt: 0, maxHeader: 4 })
    expect(toLayout({ length: 'varint', type: 'before' }, undefined)).toMatchObject({ width: 0, typeAt: 1, maxHeader: 9 })
  })
})
