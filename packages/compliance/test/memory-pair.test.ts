import type { ByteChunk } from '@proto/interface'
import { toUint8Array } from '@proto/interface'
import type { StagePair } from '../src/index.js'
import { memoryBytePair, stageCompliance } from '../src/index.js'

stageCompliance<ByteChunk>('memory byte pair', {
  boundaries: false,
  maxBuffered: 1024 * 1024,
  async setup (): Promise<StagePair<ByteChunk>> {
    const pair = memoryBytePair()
    return { a: pair.a, b: pair.b, breakLower: pair.reset }
  },
  item: (i, size) => new Uint8Array(size).fill(i & 0xff),
  bytes: toUint8Array
})
