import type { Frame } from '@proto/codec'
import { codec, frameCheck } from '@proto/codec'
import { heartbeat } from '@proto/heartbeat'
import { reconnect } from '@proto/reconnect'
import type { Server } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'

let server: Server | undefined
afterEach(async () => { await server?.close({ deadline: 100 }); server = undefined })

const data = (n: number, type = 0x00, size = 1): Frame => ({ type, body: new Uint8Array(size).fill(n) })

describe('a frame the codec refuses, on a durable link with retention (real TCP)', () => {
  it.each<[string, Frame]>([
    ['a type that is no byte', data(2, 300)],
    ['a body over maxFrameLength', data(2, 0x00, 1025)]
  ])('%s: frameCheck() as validate refuses it at the sink, counted; the link stays on its one connection and carries on', async (_name, bad) => {
    const got: number[] = []
    server = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => {
      for await (const f of heartbeat(codec(conn, { maxFrameLength: 1024 })).source) got.push(f.body[0])
    })
    const port = (server.address as { port: number }).port
    const codecInit = { maxFrameLength: 1024 }
    const link = reconnect<Frame>(async ({ signal }) => heartbeat(codec(await connect({ host: '127.0.0.1', port }, { signal }), codecInit)), {
      retention: { maxMessages: 100 },
      validate: frameCheck(codecInit),
      initialDelay: 10,
      maxDelay: 50
    })
    try {
      const refused = await link.sink([data(1), bad, data(3)]).then(() => undefined, (err: unknown) => err)
      expect(refused).toMatchObject({ name: bad.type === 300 ? 'InvalidFrameError' : 'FrameTooLongError' })
      await link.sink([data(4)])
      await expect.poll(() => got, { timeout: 5_000 }).toEqual([1, 4])
      expect(link.stats()).toMatchObject({ accepted: 3, rejected: 1, handed: 2, attempts: 1, reconnects: 0 })
    } finally {
      link.abort(new Error('test over'))
    }
  })
})
