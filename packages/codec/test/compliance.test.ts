import { memoryBytePair, stageCompliance } from '@proto/stage-compliance'
import type { Frame } from '../src/index.js'
import { codec } from '../src/index.js'

stageCompliance<Frame>('codec over an in-memory byte pair', {
  boundaries: true,
  maxBuffered: 1024 * 1024,
  async setup () {
    const pair = memoryBytePair()
    return { a: codec(pair.a), b: codec(pair.b), breakLower: pair.reset }
  },
  item: (i, size) => ({ type: 0x40 + (i % 0xc0), body: new Uint8Array(size).fill(i & 0xff) }),
  bytes: frame => frame.body
})
