import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { FaultEvent, FaultProxy } from '../src/index.js'
import { startFaultProxy } from '../src/index.js'
import type { TestServer } from './helpers.js'
import { dial, outcome, readBytes, send, startEchoServer, startServer, tick, until } from './helpers.js'

const MiB = 1024 * 1024
const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function setup (init: Partial<Parameters<typeof startFaultProxy>[0]> = {}): Promise<{ server: TestServer, proxy: FaultProxy, events: FaultEvent[] }> {
  const server = await startEchoServer()
  cleanup.push(async () => { await server.close() })
  const events: FaultEvent[] = []
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: server.port }, seed: 1, ...init, onEvent: (e) => { events.push(e) } })
  cleanup.push(async () => { await proxy.close() })
  return { server, proxy, events }
}

describe('forwarding', () => {
  it('is byte-exact both ways for 8 MiB, and fragmentation splits it into many reads', async () => {
    const { proxy } = await setup({ faults: { fragment: { min: 1, max: 1460 } } })
    const client = await dial(proxy.port)
    cleanup.push(async () => { client.destroy() })
    const payload = randomBytes(8 * MiB)
    const echoed = readBytes(client, payload.byteLength)
    await send(client, payload)
    const { data, events } = await echoed
    expect(data.equals(payload)).toBe(true)

    const stats = proxy.stats()
    expect(stats.bytesUp).toBe(payload.byteLength)
    expect(stats.bytesDown).toBe(payload.byteLength)
    // Pieces average ~730 bytes: at least one write per 1460 bytes each way, far more than reads.
    const minPieces = Math.ceil(payload.byteLength / 1460)
    expect(stats.writesUp).toBeGreaterThanOrEqual(minPieces)
    expect(stats.writesDown).toBeGreaterThanOrEqual(minPieces)
    expect(stats.writesDown).toBeGreaterThan(stats.readsDown * 4)
    // The split is real: the client saw many more reads than 8 MiB needs in 64 KiB chunks.
    expect(events).toBeGreaterThan(minPieces / 2)
  })

  it('fragment sizes stay within the requested range', async () => {
    const { proxy } = await setup({ faults: { fragment: { min: 500, max: 600 } } })
    const client = await dial(proxy.port)
    cleanup.push(async () => { client.destroy() })
    const payload = randomBytes(600_000)
    const echoed = readBytes(client, payload.byteLength)
    await send(client, payload)
    expect((await echoed).data.equals(payload)).toBe(true)
    const s = proxy.stats()
    // Every piece is 500..600 bytes except the last of each read chunk, which may be shorter.
    expect(s.writesUp).toBeGreaterThanOrEqual(payload.byteLength / 600)
    expect(s.writesUp).toBeLessThanOrEqual(payload.byteLength / 500 + s.readsUp)
  })

  it('a reader in the same process sees each fragment as a read of its own, the first two of a burst included', async () => {
    const reads: number[] = []
    const server = await startServer((socket) => { socket.on('data', (chunk: Buffer) => { reads.push(chunk.byteLength) }) })
    cleanup.push(async () => { await server.close() })
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: server.port }, seed: 1, faults: { fragment: { min: 1, max: 16 } } })
    cleanup.push(async () => { await proxy.close() })
    const client = await dial(proxy.port)
    cleanup.push(async () => { client.destroy() })
    await server.accepted()
    for (let burst = 0; burst < 3; burst++) {
      const before = proxy.stats().writesUp
      await send(client, randomBytes(1000))
      await until(() => reads.reduce((a, b) => a + b, 0) === 1000 * (burst + 1), 'the burst to arrive')
      expect(reads.length).toBe(proxy.stats().writesUp)
      expect(proxy.stats().writesUp - before).toBeGreaterThan(1000 / 16 - 1)
    }
    expect(Math.max(...reads)).toBeLessThanOrEqual(16)
  })

  it('without faults keeps bytes exact and passes half-close both ways', async () => {
    const { proxy, events } = await setup()
    const client = await dial(proxy.port)
    const payload = randomBytes(256 * 1024)
    const echoed = readBytes(client, payload.byteLength)
    client.end(payload)
    expect((await echoed).data.equals(payload)).toBe(true)
    expect(await outcome(client)).toBe('end')
    await new Promise(resolve => client.once('close', resolve))
    await tick()
    const closes = events.filter(e => e.type === 'connection-close')
    expect(closes).toEqual([expect.objectContaining({ reason: 'end' })])
    expect(proxy.stats().activeConnections).toBe(0)
  })

  it('forwards to a Unix socket target', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const { createServer } = await import('node:net')
    const dir = await mkdtemp(join(tmpdir(), 'proto-e2e-'))
    const path = join(dir, 'echo.sock')
    const server = createServer((s) => { s.on('error', () => {}); s.pipe(s) })
    await new Promise<void>((resolve) => { server.listen(path, resolve) })
    cleanup.push(async () => {
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
      await rm(dir, { recursive: true, force: true })
    })
    const proxy = await startFaultProxy({ target: { path }, faults: { fragment: { min: 1, max: 100 } } })
    cleanup.push(async () => { await proxy.close() })
    const client = await dial(proxy.port)
    cleanup.push(async () => { client.destroy() })
    const payload = randomBytes(20_000)
    const echoed = readBytes(client, payload.byteLength)
    await send(client, payload)
    expect((await echoed).data.equals(payload)).toBe(true)
    proxy.cutAll({ mode: 'reset' })
    expect(await outcome(client)).toBe('ECONNRESET')
  })

  it('stops reading from a fast sender while the receiver is not reading (bounded memory)', async () => {
    const total = 64 * MiB
    const chunk = Buffer.alloc(64 * 1024, 7)
    let written = 0
    const server = await startServer((socket) => {
      const pump = (): void => {
        while (written < total) {
          written += chunk.byteLength
          if (!socket.write(chunk)) { socket.once('drain', pump); return }
        }
        socket.end()
      }
      pump()
    })
    cleanup.push(async () => { await server.close() })
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: server.port } })
    cleanup.push(async () => { await proxy.close() })
    const client = await dial(proxy.port)
    cleanup.push(async () => { client.destroy() })
    client.pause()

    // Sample until the sender has made no progress for 20 samples; the proxy's memory stays bounded.
    let maxBuffered = 0
    let still = 0
    let last = -1
    for (let i = 0; i < 2000 && still < 20; i++) {
      await new Promise(resolve => setTimeout(resolve, 10))
      maxBuffered = Math.max(maxBuffered, proxy.stats().bufferedBytes)
      still = written === last ? still + 1 : 0
      last = written
    }
    expect(written).toBeLessThan(total)
    // One queue at its high-water mark, one chunk past it, one socket buffer past its own.
    expect(maxBuffered).toBeLessThanOrEqual(64 * 1024 * 2 + 64 * 1024 + 16 * 1024)

    let received = 0
    client.on('data', (c: Buffer) => { received += c.byteLength })
    const ended = outcome(client)
    client.resume()
    expect(await ended).toBe('end')
    expect(received).toBe(total)
  })

  it('a target chooser picks the server of each accepted connection (round-robin here), and a failing chooser resets only that connection', async () => {
    const servers = [await startEchoServer(), await startEchoServer()]
    for (const s of servers) cleanup.push(async () => { await s.close() })
    const ids: number[] = []
    const events: FaultEvent[] = []
    const proxy = await startFaultProxy({
      target: (id) => {
        ids.push(id)
        if (id === 4) throw new Error('no server for this one')
        return { host: '127.0.0.1', port: servers[(id - 1) % 2].port }
      },
      onEvent: (e) => { events.push(e) }
    })
    cleanup.push(async () => { await proxy.close() })
    const landed: string[] = []
    for (let i = 0; i < 3; i++) {
      const client = await dial(proxy.port)
      cleanup.push(async () => { client.destroy() })
      const echoed = readBytes(client, 5)
      await send(client, Buffer.from(`hi #${i}`))
      expect((await echoed).data.toString()).toBe(`hi #${i}`)
      landed.push(servers.map(s => s.sockets.size).join('+'))
    }
    expect(landed).toEqual(['1+0', '1+1', '2+1'])
    // the reset may come before or after the client saw its connect complete
    const failed = await dial(proxy.port).then(outcome, (err: NodeJS.ErrnoException) => err.code)
    expect(failed).toBe('ECONNRESET')
    expect(ids).toEqual([1, 2, 3, 4])
    const opened = events.flatMap(e => e.type === 'connection' ? [[e.id, (e.target as { port: number }).port]] : [])
    expect(opened).toEqual([[1, servers[0].port], [2, servers[1].port], [3, servers[0].port]])
    expect(events).toContainEqual(expect.objectContaining({ type: 'connection-close', id: 4, reason: 'target-unreachable' }))
    expect(proxy.stats().connections).toBe(3)
  })
})
