import type { Frame } from '@proto/codec'
import { codec } from '@proto/codec'
import type { DurableDuplex } from '@proto/reconnect'
import { reconnect } from '@proto/reconnect'
import type { Server } from '@proto/transport'
import { connect, listen } from '@proto/transport'
import { afterEach, describe, expect, it } from 'vitest'

/** A 4-byte big-endian sequence number. */
function seq (n: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n)
  return b
}

function readSeq (b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0)
}

let cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn()
  cleanup = []
})

/** A frame server on `port` (0 = any) that records every frame body it receives. */
async function frameServer (port: number, received: number[], onFrame: () => void): Promise<Server> {
  const server = await listen({ host: '127.0.0.1', port }, async (conn) => {
    const frames = codec(conn)
    try {
      for await (const f of frames.source) {
        received.push(readSeq(f.body))
        onFrame()
      }
    } catch {}
    await frames.close().catch(() => {})
  })
  cleanup.push(async () => { await server.close() })
  return server
}

describe('reconnect with @proto/transport and @proto/codec underneath', () => {
  it('a server restart mid-stream: the client carries on, in order, each frame delivered once or counted', async () => {
    const N = 5_000
    const received: number[] = []
    let notify = (): void => {}
    const onFrame = (): void => { notify() }
    const until = async (pred: () => boolean): Promise<void> => {
      while (!pred()) await new Promise<void>((resolve) => { notify = resolve })
    }
    let server = await frameServer(0, received, onFrame)
    const { port } = server.address as { port: number }
    const d: DurableDuplex<Frame> = reconnect<Frame>(async ({ signal }) => codec(await connect({ host: '127.0.0.1', port }, { signal })), {
      initialDelay: 5,
      maxDelay: 40
    })
    cleanup.push(() => { d.abort(new Error('test over')) })
    let resume!: () => void
    const resumed = new Promise<void>((resolve) => { resume = resolve })
    const writing = d.sink((async function * () {
      for (let i = 0; i < N; i++) {
        if (i === 2_000) await resumed
        yield { type: 0x40, body: seq(i) }
      }
    })())
    await until(() => received.length >= 1_000)
    await server.close({ deadline: 100 })
    await new Promise((resolve) => { d.addEventListener('reconnecting', resolve, { once: true }) })
    server = await frameServer(port, received, onFrame)
    resume()
    await writing
    await until(() => received.includes(N - 1))
    await d.close()
    await server.close({ deadline: 100 })

    for (let i = 1; i < received.length; i++) expect(received[i]).toBeGreaterThan(received[i - 1])
    const stats = d.stats()
    expect(stats).toMatchObject({ accepted: N, handed: N, dropped: 0, unsent: 0 })
    // at-most-once: the clean final connection's items are flushed, the lost ones' unconfirmed
    expect(stats.flushed + stats.unconfirmed).toBe(N)
    expect(stats.reconnects).toBeGreaterThanOrEqual(1)
    expect(N - received.length).toBeLessThanOrEqual(stats.unconfirmed)
    expect(received.filter(n => n >= 2_000).length).toBe(N - 2_000)
  })
})
