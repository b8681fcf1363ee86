import net from 'node:net'
import type { ByteChunk } from '@proto/interface'
import { toUint8Array } from '@proto/interface'
import type { StagePair } from '@proto/stage-compliance'
import { stageCompliance } from '@proto/stage-compliance'
import type { Connection, Server } from '../src/index.js'
import { connect, listen, memoryPair } from '../src/index.js'
import { nextConnection, portOf } from './helpers.js'

const servers = new WeakMap<object, Server>()

stageCompliance<ByteChunk>('TCP connection pair (client a, server-side b)', {
  boundaries: false,
  // Read queues (256 KiB each) + write batches + kernel buffers on loopback stay far below this.
  maxBuffered: 8 * 1024 * 1024,
  async setup (): Promise<StagePair<ByteChunk>> {
    const server = await listen({ host: '127.0.0.1', port: 0 })
    const accepted = nextConnection(server)
    let raw: net.Socket | undefined
    const a: Connection = await connect({
      host: '127.0.0.1',
      port: portOf(server),
      createSocket: (opts) => { raw = net.connect(opts); return raw }
    })
    const b = await accepted
    const pair = { a, b, breakLower: () => { raw?.resetAndDestroy() } }
    servers.set(pair, server)
    return pair
  },
  async teardown (pair) {
    await servers.get(pair)?.close({ deadline: 500 })
  },
  item: (i, size) => new Uint8Array(size).fill(i & 0xff),
  bytes: toUint8Array
})

stageCompliance<ByteChunk>('memoryPair()', {
  boundaries: false,
  maxBuffered: 2 * 1024 * 1024,
  async setup (): Promise<StagePair<ByteChunk>> {
    const [a, b] = memoryPair()
    return { a, b, breakLower: (err) => { b.abort(err) } }
  },
  item: (i, size) => new Uint8Array(size).fill(i & 0xff),
  bytes: toUint8Array
})
