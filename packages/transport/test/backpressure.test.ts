import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { connect, listen } from '../src/index.js'
import { nextConnection, portOf } from './helpers.js'

const MiB = 1024 * 1024

describe('backpressure', () => {
  it('a 512 MiB transfer to a reader that keeps pausing stays bounded end to end', async () => {
    const server = await listen({ host: '127.0.0.1', port: 0 })
    const accepted = nextConnection(server)
    let clientSocket: net.Socket | undefined
    const client = await connect({
      host: '127.0.0.1',
      port: portOf(server),
      createSocket: (opts) => { clientSocket = net.connect(opts); return clientSocket }
    })
    const reader = await accepted
    const total = 512 * MiB
    const chunk = new Uint8Array(64 * 1024).fill(7)
    let produced = 0
    const writing = client.sink((function * () {
      while (produced < total) {
        produced += chunk.byteLength
        yield chunk
      }
    })())

    const memBefore = process.memoryUsage()
    let received = 0
    let maxInFlight = 0
    let maxWritable = 0
    let maxQueued = 0
    let maxUnconsumed = 0
    let pauses = 0
    let nextPause = 32 * MiB
    const queue = reader.source as unknown as { queuedBytes: number }
    for await (const piece of reader.source) {
      received += piece.byteLength
      if (received >= nextPause) {
        nextPause += 32 * MiB
        pauses++
        // Stop pulling for a while: the producer must come to a halt, not buffer ahead.
        await new Promise(resolve => setTimeout(resolve, 40))
        maxInFlight = Math.max(maxInFlight, produced - received)
        maxWritable = Math.max(maxWritable, clientSocket?.writableLength ?? 0)
        maxQueued = Math.max(maxQueued, queue.queuedBytes)
        maxUnconsumed = Math.max(maxUnconsumed, reader.stats().bytesIn - received)
      }
    }
    await writing
    const memAfter = process.memoryUsage()
    expect(received).toBe(total)
    expect(pauses).toBeGreaterThanOrEqual(15)
    // Everything between the producer and the consumer: our queues plus both kernel buffers.
    expect(maxInFlight).toBeLessThan(16 * MiB)
    // Node's writable buffer holds at most one batch beyond its high-water mark.
    expect(maxWritable).toBeLessThanOrEqual(256 * 1024)
    // The read queue stops the socket at its high-water mark (plus one read of up to 64 KiB).
    expect(maxQueued).toBeLessThanOrEqual(256 * 1024 + 64 * 1024)
    expect(maxUnconsumed).toBeLessThanOrEqual(256 * 1024 + 64 * 1024)
    // Half a GiB went through; the process grew by far less.
    expect(memAfter.arrayBuffers - memBefore.arrayBuffers).toBeLessThan(64 * MiB)
    const stats = client.stats()
    expect(stats.bytesOut).toBe(total)
    expect(stats.writes).toBeLessThanOrEqual(stats.chunksOut)
    await client.close()
    await server.close({ deadline: 500 })
  }, 60_000)

  it('a sink waits while the peer does not read, and resumes when it does', async () => {
    const server = await listen({ host: '127.0.0.1', port: 0 })
    const accepted = nextConnection(server)
    const client = await connect({ host: '127.0.0.1', port: portOf(server) })
    const reader = await accepted
    let produced = 0
    const chunk = new Uint8Array(64 * 1024)
    const writing = client.sink((async function * () {
      for (let i = 0; i < 1024; i++) {
        produced += chunk.byteLength
        yield chunk
      }
    })())
    // Wait until the producer stops advancing (the pipe is full), bounded by a deadline.
    let last = -1
    const deadline = Date.now() + 5_000
    while (produced !== last && Date.now() < deadline) {
      last = produced
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    expect(produced).toBeLessThan(64 * MiB)
    expect(produced).toBeGreaterThan(0)
    let received = 0
    for await (const piece of reader.source) received += piece.byteLength
    await writing
    expect(received).toBe(64 * MiB)
    await server.close({ deadline: 500 })
  })
})
