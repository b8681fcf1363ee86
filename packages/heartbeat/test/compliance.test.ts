import type { Frame } from '@proto/codec'
import { codec, FrameType } from '@proto/codec'
import type { StagePair } from '@proto/stage-compliance'
import { memoryBytePair, stageCompliance } from '@proto/stage-compliance'
import { heartbeat } from '../src/index.js'

const item = (i: number, size: number): Frame => ({ type: FrameType.DATA, body: new Uint8Array(size).fill(i & 0xff) })

stageCompliance<Frame>('heartbeat over codec over a memory pair', {
  boundaries: true,
  async setup (): Promise<StagePair<Frame>> {
    const pair = memoryBytePair()
    return { a: heartbeat(codec(pair.a)), b: heartbeat(codec(pair.b)), breakLower: pair.reset }
  },
  item,
  bytes: frame => frame.body
})

stageCompliance<Frame>('heartbeat with short timers and HELLO', {
  boundaries: true,
  async setup (): Promise<StagePair<Frame>> {
    const pair = memoryBytePair()
    const init = { interval: 50, timeout: 2000, hello: true, maxQueuedFrames: 8 }
    return { a: heartbeat(codec(pair.a), init), b: heartbeat(codec(pair.b), init), breakLower: pair.reset }
  },
  item,
  bytes: frame => frame.body
})
