import type { ByteChunk } from '@proto/interface'
import { toUint8Array } from '@proto/interface'
import type { StagePair } from '@proto/stage-compliance'
import { memoryBytePair, stageCompliance } from '@proto/stage-compliance'
import type { ReconnectInit } from '../src/index.js'
import { reconnect } from '../src/index.js'

class NoFarEndError extends Error {
  constructor () {
    super('the compliance far end accepts one connection only')
    this.name = 'NoFarEndError'
  }
}

/**
 * `a` is a durable duplex over one end of a memory pair; `b` is the plain far end. The far end takes one
 * connection, so a redial fails fatally and a broken lower layer surfaces from `a.source`. `peerEnd:
 * 'end'` makes the far end's half-close end `a.source`, as the contract expects of a stage.
 */
function overMemoryPair (init: ReconnectInit<ByteChunk> = {}): Parameters<typeof stageCompliance<ByteChunk>>[1] {
  return {
    boundaries: false,
    maxBuffered: 1024 * 1024,
    async setup (): Promise<StagePair<ByteChunk>> {
      const pair = memoryBytePair()
      let dialled = false
      const a = reconnect<ByteChunk>(async () => {
        if (dialled) throw new NoFarEndError()
        dialled = true
        return pair.a
      }, {
        peerEnd: 'end',
        initialDelay: 1,
        shouldRetry: err => err.name !== 'NoFarEndError',
        ...init
      })
      return { a, b: pair.b, breakLower: pair.reset }
    },
    item: (i, size) => new Uint8Array(size).fill(i & 0xff),
    bytes: toUint8Array
  }
}

stageCompliance<ByteChunk>('reconnect over a memory byte pair', overMemoryPair())

// nothing confirms here: every item handed stays retained, and batches move into retention as runs
stageCompliance<ByteChunk>('reconnect with retention over a memory byte pair', overMemoryPair({ retention: true, closeTimeout: 200 }))
