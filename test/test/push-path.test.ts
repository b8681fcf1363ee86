import type { Frame } from '@proto/codec'
import { codec, FrameType } from '@proto/codec'
import { heartbeat } from '@proto/heartbeat'
import { cleanupsWithLeakCheck, resourceSnapshot, settle } from '@proto/stage-compliance'
import type { Connection } from '@proto/transport'
import { connect, listen, memoryPair } from '@proto/transport'
import { describe, expect, it } from 'vitest'
import { manualTime } from '../src/manual-time.js'

/**
 * The push path between the layers (transport ⇄ codec ⇄ heartbeat): a control frame goes from the
 * heartbeat to the transport's writer in the call that sends it, received frames come up in the socket's
 * read callback, control frames go before queued user data without reordering it, backpressure holds,
 * and nothing is left behind.
 */

resourceSnapshot() // start tracking timers before Vitest's hooks create theirs

const body = (seq: number, size: number): Uint8Array => {
  const b = new Uint8Array(size)
  new DataView(b.buffer).setUint32(0, seq)
  return b
}

const cleanups = cleanupsWithLeakCheck(3000)

describe('push path through transport, codec and heartbeat', () => {
  it('a ping reaches the transport writer in the call that sends it, and the pong comes back up to the peer without a pending read', async () => {
    const time = manualTime()
    const [a, b] = memoryPair()
    const client = heartbeat(codec(a), { interval: 1000, timeout: 5000, clock: time.clock, timers: time.timers })
    const server = heartbeat(codec(b), { interval: 60_000, timeout: 120_000 })
    cleanups.push(async () => { client.abort(new Error('test over')); server.abort(new Error('test over')) })
    const reads = [settle((async () => { for await (const _ of client.source) { /* none */ } })()), settle((async () => { for await (const _ of server.source) { /* none */ } })())]
    await new Promise(resolve => setImmediate(resolve))
    const out = a.stats().chunksOut
    time.advance(1000)
    // synchronously: no promise hop between the heartbeat's timer and the transport's writer
    expect(client.stats().pingsSent).toBe(1)
    expect(a.stats().chunksOut).toBe(out + 1)
    await expect.poll(() => client.stats().pongsReceived).toBe(1)
    expect(server.stats()).toMatchObject({ pingsReceived: 1, pongsSent: 1 })
    await Promise.all([client.close(), server.close()])
    await Promise.all(reads)
  })

  it('over TCP, a peer that stops reading: control frames go before queued data, data stays in order, the producer is held back, everything arrives once', async () => {
    const COUNT = 4_000
    const SIZE = 4 * 1024
    let accept: (conn: Connection) => void = () => {}
    const accepted = new Promise<Connection>((resolve) => { accept = resolve })
    const srv = await listen({ port: 0, host: '127.0.0.1' }, async (c) => { accept(c) })
    cleanups.push(async () => { await srv.close() })
    const conn = await connect({ port: (srv.address as { port: number }).port, host: '127.0.0.1' })
    const client = heartbeat(codec(conn), { interval: 50, timeout: 10_000 })
    const lower = codec(await accepted)
    cleanups.push(async () => { client.abort(new Error('test over')) })
    let produced = 0
    const sending = settle(client.sink((async function * (): AsyncGenerator<Frame> {
      for (let seq = 0; seq < COUNT; seq++) {
        produced = seq + 1 // counted as it is handed over: the stage may ask for the next one before this one is written
        yield { type: FrameType.DATA, body: body(seq, SIZE) }
      }
    })()))
    const clientReading = settle((async () => { for await (const _ of client.source) { /* the raw peer sends nothing */ } })())
    // nobody reads on the server for several ping intervals: the producer must stop well before the end
    await new Promise(resolve => setTimeout(resolve, 400))
    const heldAt = produced
    expect(heldAt).toBeLessThan(COUNT)
    const types: number[] = []
    const seqs: number[] = []
    for await (const frame of lower.source) {
      types.push(frame.type)
      if (frame.type === FrameType.DATA) seqs.push(new DataView(frame.body.subarray(0, 4).slice().buffer).getUint32(0))
      if (seqs.length === COUNT) break
    }
    expect(seqs).toEqual(Array.from({ length: COUNT }, (_, i) => i))
    // a ping was sent while data waited (no pong comes from this raw peer, so one stays outstanding), and it
    // went out before the data produced after it, not behind the queue
    expect(client.stats().pingsSent).toBeGreaterThanOrEqual(1)
    const firstPing = types.indexOf(FrameType.PING)
    expect(firstPing).toBeGreaterThanOrEqual(0)
    let dataSeen = 0
    let heldAtIndex = -1
    for (let i = 0; i < types.length; i++) if (types[i] === FrameType.DATA && dataSeen++ === heldAt) { heldAtIndex = i; break }
    expect(firstPing).toBeLessThan(heldAtIndex)
    expect((await sending).ok).toBe(true)
    client.abort(new Error('test over'))
    await clientReading
  })

  it('an invalid user frame fails the sink with the codec error and aborts the connection; nothing after it is sent', async () => {
    const [a, b] = memoryPair()
    const client = heartbeat(codec(a), { interval: 60_000, timeout: 120_000 })
    const peer = codec(b)
    cleanups.push(async () => { client.abort(new Error('test over')) })
    const reading = settle((async () => { for await (const _ of client.source) { /* none */ } })())
    const sent = await settle(client.sink([
      { type: FrameType.DATA, body: body(0, 8) },
      { type: FrameType.DATA, body: body(1, 8) },
      { type: 300, body: new Uint8Array(1) },
      { type: FrameType.DATA, body: body(2, 8) }
    ]))
    expect(sent.ok).toBe(false)
    expect((sent.error as Error | undefined)?.name).toBe('InvalidFrameError')
    const got: number[] = []
    const r = await settle((async () => { for await (const f of peer.source) if (f.type === FrameType.DATA) got.push(f.body[3] as number) })())
    // what went before the invalid frame may have been written (a prefix of it, in order); frame 2, after it, never
    expect([0, 1].slice(0, got.length)).toEqual(got)
    expect(r.ok).toBe(false)
    await reading
  })
})
