import type { Frame } from '@proto/codec'
import type { Server } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'
import type { SessionDuplex, SessionServer } from '../src/index.js'
import { sessionClient, sessionServer } from '../src/index.js'

let server: SessionServer | undefined
let tcp: Server | undefined
let client: SessionDuplex | undefined
afterEach(async () => {
  client?.abort(new Error('test over'))
  server?.abort(new Error('test over'))
  await tcp?.close({ deadline: 100 })
  server = tcp = client = undefined
})

describe('flow control between a writer\'s window and the peer\'s inbound limit (real TCP)', () => {
  it('an echo of more than the server queues for its application (its inbound limit) completes: the client sends no more unacknowledged than that', async () => {
    // the client's window (16 MiB) is larger than what the server queues (4 MiB): were the client to fill it,
    // the server would stop reading the connection, its echo would wait for acknowledgements queued behind
    // the data it does not read, and neither side would move again
    const s = server = sessionServer()
    s.addEventListener('session', (e) => { void e.detail.sink(e.detail.source).catch(() => {}) })
    tcp = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await s.handle(conn) })
    const port = (tcp.address as { port: number }).port
    const c = client = sessionClient(async ({ signal }) => await connect({ host: '127.0.0.1', port }, { signal }))
    const count = 8_000
    const body = (i: number): Uint8Array => { const b = new Uint8Array(1024); new DataView(b.buffer).setUint32(0, i); return b }
    void c.sink((function * (): Generator<Frame> { for (let i = 0; i < count; i++) yield { type: 0, body: body(i) } })()).catch(() => {})
    let got = 0
    for await (const f of c.source) {
      expect(new DataView(f.body.buffer, f.body.byteOffset).getUint32(0)).toBe(got)
      if (++got === count) break
    }
    expect(got).toBe(count)
  }, 30_000)
})
