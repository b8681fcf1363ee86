import net from 'node:net'
import { pipe } from 'it-pipe'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { DropEvent, ListenInit, Server } from '../src/index.js'
import { listen } from '../src/index.js'
import { sourceKey } from '../src/source-limit.js'
import { ipv6Available, portOf, settle } from './helpers.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

describe('sourceKey', () => {
  it('an IPv4 address is its own source, also when a dual-stack listener reports it IPv4-mapped', () => {
    expect(sourceKey('192.0.2.7', 64)).toBe('192.0.2.7')
    expect(sourceKey('::ffff:192.0.2.7', 64)).toBe('192.0.2.7')
    expect(sourceKey('::FFFF:192.0.2.7', 64)).toBe('192.0.2.7')
  })

  it('IPv6 addresses count by their first ipv6SourcePrefix bits', () => {
    const a = sourceKey('2001:db8:0:1::1', 64)
    expect(a).toBe('2001:db8:0:1:0:0:0:0/64')
    expect(sourceKey('2001:db8:0:1:ffff:ffff:ffff:ffff', 64)).toBe(a)
    expect(sourceKey('2001:0db8:0000:0001:0:0:0:9%eth0', 64)).toBe(a)
    expect(sourceKey('2001:db8:0:2::1', 64)).not.toBe(a)
    // a /56 groups neighbouring /64s; /128 is one address
    expect(sourceKey('2001:db8:0:1::1', 56)).toBe(sourceKey('2001:db8:0:ff::1', 56))
    expect(sourceKey('2001:db8:0:1::1', 128)).not.toBe(sourceKey('2001:db8:0:1::2', 128))
    expect(sourceKey('::1', 64)).toBe('0:0:0:0:0:0:0:0/64')
    expect(sourceKey('64:ff9b::192.0.2.1', 128)).toBe('64:ff9b:0:0:0:0:c000:201/128')
  })

  it('no address (Unix sockets) is not limited', () => {
    expect(sourceKey(undefined, 64)).toBeUndefined()
  })
})

interface Watched { server: Server, drops: DropEvent[] }

async function echoServer (init: ListenInit): Promise<Watched> {
  const server = await listen({ host: '127.0.0.1', port: 0, ...init }, async (conn) => { await pipe(conn, conn) })
  const drops: DropEvent[] = []
  server.addEventListener('drop', ({ detail }) => { drops.push(detail) })
  cleanups.push(async () => { await server.close({ deadline: 200 }) })
  return { server, drops }
}

/** `n` connections from `localAddress` that connect and then hold their slot, saying nothing. */
function flood (port: number, localAddress: string, n: number, host = '127.0.0.1'): net.Socket[] {
  return Array.from({ length: n }, () => {
    const s = net.connect({ host, port, localAddress })
    s.on('error', () => {})
    s.resume()
    cleanups.push(() => { s.destroy() })
    return s
  })
}

/** Echoes through `n` fresh connections from 127.0.0.1 at once; each resolves with its reply or error name. */
async function goodClients (port: number, n: number, host = '127.0.0.1'): Promise<string[]> {
  return await Promise.all(Array.from({ length: n }, async (_, i) => {
    const r = await settle(new Promise<string>((resolve, reject) => {
      const s = net.connect({ host, port }, () => { s.end(`good ${i}`) })
      cleanups.push(() => { s.destroy() })
      const parts: Buffer[] = []
      s.on('data', (c: Buffer) => parts.push(c))
      s.on('error', reject)
      s.on('close', () => { resolve(Buffer.concat(parts).toString()) })
    }))
    return r.ok ? r.value : (r.error.code as string)
  }))
}

describe('maxConnectionsPerSource', () => {
  it('without it, a flood from one address takes every slot and locks others out', async () => {
    const { server, drops } = await echoServer({ maxConnections: 6 })
    flood(portOf(server), '127.0.0.2', 10)
    await vi.waitFor(() => { expect(server.connections.size).toBe(6) })
    await vi.waitFor(() => { expect(drops).toHaveLength(4) })
    const replies = await goodClients(portOf(server), 2)
    expect(replies.every(r => r === 'ECONNRESET' || r === '')).toBe(true)
    expect(drops.slice(4).map(d => d.reason)).toEqual(['max-connections', 'max-connections'])
  })

  it('with it, the flood holds only its share and every other client is served', async () => {
    const { server, drops } = await echoServer({ maxConnections: 6, maxConnectionsPerSource: 3 })
    const port = portOf(server)
    const held = flood(port, '127.0.0.2', 10)
    await vi.waitFor(() => { expect(drops).toHaveLength(7) })
    expect(server.connections.size).toBe(3)
    for (const d of drops) {
      expect(d.reason).toBe('max-connections-per-source')
      expect(d.error.name).toBe('TooManyConnectionsError')
      expect(d.error.message).toMatch(/maxConnectionsPerSource \(3\) connections from 127\.0\.0\.2/)
      expect(d.remoteAddress).toMatchObject({ family: 'IPv4', address: '127.0.0.2' })
    }
    expect(await goodClients(port, 3)).toEqual(['good 0', 'good 1', 'good 2'])
    // once the flood lets go, its address may connect again
    for (const s of held) s.destroy()
    await vi.waitFor(() => { expect(server.connections.size).toBe(0) })
    flood(port, '127.0.0.2', 3)
    await vi.waitFor(() => { expect(server.connections.size).toBe(3) })
    expect(drops).toHaveLength(7)
  })

  it('on a dual-stack listener, IPv4 clients (reported IPv4-mapped) are limited by their IPv4 address', async (ctx) => {
    if (!await ipv6Available()) { ctx.skip(); return }
    const { server, drops } = await echoServer({ host: '::', maxConnectionsPerSource: 2 })
    flood(portOf(server), '127.0.0.2', 4)
    await vi.waitFor(() => { expect(drops).toHaveLength(2) })
    expect(server.connections.size).toBe(2)
    expect(drops[0]?.error.message).toMatch(/from 127\.0\.0\.2/)
    expect(await goodClients(portOf(server), 2)).toEqual(['good 0', 'good 1'])
  })

  it('rejects bad values with InvalidParametersError', async () => {
    for (const init of [{ maxConnectionsPerSource: 0 }, { maxConnectionsPerSource: 1.5 }, { ipv6SourcePrefix: 0 }, { ipv6SourcePrefix: 129 }]) {
      const r = await settle(listen({ host: '127.0.0.1', port: 0, ...init }))
      expect(r.ok ? undefined : r.error.name, JSON.stringify(init)).toBe('InvalidParametersError')
    }
  })
})
