import net from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Connection } from '../src/index.js'
import { fromSocket } from '../src/index.js'
import { readAll, settle } from './helpers.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** A plain `net` server whose sockets are wrapped with `fromSocket()` and handed to `onConnection`. */
async function wrappingServer (options: net.ServerOpts, onConnection: (conn: Connection, socket: net.Socket) => void, init: Parameters<typeof fromSocket>[1] = {}): Promise<net.Server> {
  const server = net.createServer(options, (socket) => { onConnection(fromSocket(socket, init), socket) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => { await new Promise(resolve => server.close(resolve)) })
  return server
}

function portOfNet (server: net.Server): number {
  return (server.address() as net.AddressInfo).port
}

async function openSockets (server: net.Server): Promise<number> {
  return await new Promise((resolve, reject) => { server.getConnections((err, n) => { if (err != null) reject(err); else resolve(n) }) })
}

/** A client that sends `text`, ends, and collects what comes back until the server ends too. */
async function sendAndCollect (port: number, text: string): Promise<string> {
  const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true })
  cleanups.push(() => { s.destroy() })
  s.end(text)
  const parts: Buffer[] = []
  for await (const c of s) parts.push(c as Buffer)
  return Buffer.concat(parts).toString()
}

describe('fromSocket() and half-close', () => {
  it('a connection that only reads releases its socket once the peer has finished (no descriptor kept per client)', async () => {
    const read: string[] = []
    const server = await wrappingServer({}, (conn) => { void readAll(conn).then((b) => { read.push(b.toString()) }) })
    const port = portOfNet(server)
    await Promise.all(Array.from({ length: 20 }, async (_, i) => { await sendAndCollect(port, `client ${i}`) }))
    expect(read.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `client ${i}`).sort())
    await vi.waitFor(async () => { expect(await openSockets(server)).toBe(0) })
  })

  it('a half-open socket (allowHalfOpen: true) keeps its write side after the peer finished: reply after reading everything', async () => {
    const conns: Connection[] = []
    const server = await wrappingServer({ allowHalfOpen: true }, (conn) => {
      conns.push(conn)
      void (async () => { const data = await readAll(conn); await conn.sink([Buffer.from(`got ${data.toString()}`)]) })()
    })
    expect(await sendAndCollect(portOfNet(server), 'question')).toBe('got question')
    expect(await (conns[0] as Connection).closed).toMatchObject({ reason: 'closed', initiator: 'remote' })
  })

  it('the allowHalfOpen option overrides the socket: true keeps the write side open, false releases it', async () => {
    const replies = await wrappingServer({}, (conn) => {
      void (async () => { const data = await readAll(conn); await conn.sink([Buffer.from(`re: ${data.toString()}`)]) })()
    }, { allowHalfOpen: true })
    expect(await sendAndCollect(portOfNet(replies), 'x')).toBe('re: x')
    const late: Array<{ ok: boolean, error?: any }> = []
    const readOnly = await wrappingServer({ allowHalfOpen: true }, (conn) => {
      void (async () => { await readAll(conn); late.push(await settle(conn.sink([Buffer.from('too late')]))) })()
    }, { allowHalfOpen: false })
    expect(await sendAndCollect(portOfNet(readOnly), 'y')).toBe('')
    await vi.waitFor(() => { expect(late).toHaveLength(1) })
    expect(late[0]?.error?.name).toBe('ConnectionClosedError')
    await vi.waitFor(async () => { expect(await openSockets(readOnly)).toBe(0) })
  })

  it('a sink still running when the peer finishes is not cut short: it writes to the end, then FIN', async () => {
    const server = await wrappingServer({}, (conn) => {
      void conn.sink((async function * () {
        for (let i = 0; i < 50; i++) {
          yield Buffer.from(`line ${i}\n`)
          await new Promise(resolve => setTimeout(resolve, 2))
        }
      })())
    })
    const got = await sendAndCollect(portOfNet(server), 'bye at once')
    expect(got.trimEnd().split('\n')).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i}`))
    await vi.waitFor(async () => { expect(await openSockets(server)).toBe(0) })
  })
})
