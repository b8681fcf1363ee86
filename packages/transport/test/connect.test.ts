import { readdirSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import tls from 'node:tls'
import type { AbortOptions } from '@proto/interface'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ConnectInit, Connection, DropEvent, Server } from '../src/index.js'
import { connect, fromSocket, listen } from '../src/index.js'
import { frozenListener, ipv6Available, nextConnection, portOf, readAll, settle, tempDir } from './helpers.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function echoServer (init: Parameters<typeof listen>[0]): Promise<Server> {
  const server = await listen(init, async (conn) => {
    const data = await readAll(conn)
    await conn.sink([data])
  })
  cleanups.push(async () => { await server.close({ deadline: 500 }) })
  return server
}

async function roundTrip (conn: Connection, text: string): Promise<string> {
  const [, reply] = await Promise.all([conn.sink([Buffer.from(text)]), readAll(conn)])
  return reply.toString()
}

describe('connect() over TCP, Unix sockets and fromSocket()', () => {
  it('round-trips over IPv4 and reports addresses, stats and a clean close', async () => {
    const server = await echoServer({ host: '127.0.0.1', port: 0 })
    const accepted = nextConnection(server)
    const conn = await connect({ host: '127.0.0.1', port: portOf(server) })
    expect(await roundTrip(conn, 'hello v4')).toBe('hello v4')
    expect(conn.remoteAddress).toEqual({ family: 'IPv4', address: '127.0.0.1', port: portOf(server) })
    expect(conn.localAddress).toMatchObject({ family: 'IPv4', address: '127.0.0.1' })
    const info = await conn.closed
    expect(info.reason).toBe('closed')
    expect(info.error).toBeUndefined()
    expect(info.initiator).toBe('local')
    expect(info.stats).toMatchObject({ bytesIn: 8, bytesOut: 8, chunksOut: 1, writes: 1 })
    expect(info.stats.lastReadAt).toBeGreaterThanOrEqual(info.stats.connectedAt)
    expect(conn.signal.aborted).toBe(true)
    const serverSide = await accepted
    expect((await serverSide.closed).reason).toBe('closed')
    expect((await serverSide.closed).initiator).toBe('remote')
  })

  it('round-trips over IPv6 when ::1 is available', async (ctx) => {
    if (!await ipv6Available()) { ctx.skip(); return }
    const server = await echoServer({ host: '::1', port: 0 })
    expect(server.address.family).toBe('IPv6')
    const conn = await connect({ host: '::1', port: portOf(server) })
    expect(await roundTrip(conn, 'hello v6')).toBe('hello v6')
    expect(conn.remoteAddress).toEqual({ family: 'IPv6', address: '::1', port: portOf(server) })
  })

  it('round-trips over a Unix socket', async () => {
    const tmp = tempDir()
    cleanups.push(() => { tmp.remove() })
    const path = join(tmp.dir, 'echo.sock')
    const server = await echoServer({ path })
    expect(server.address).toEqual({ family: 'unix', path })
    const conn = await connect({ path })
    expect(conn.remoteAddress).toEqual({ family: 'unix', path })
    expect(await roundTrip(conn, 'hello unix')).toBe('hello unix')
    expect((await conn.closed).reason).toBe('closed')
  })

  it('a Unix socket path longer than the system keeps is refused with InvalidParametersError, before any I/O (the kernel would cut it short: another file)', async () => {
    const tmp = tempDir()
    cleanups.push(() => { tmp.remove() })
    const long = join(tmp.dir, `${'x'.repeat(160 - tmp.dir.length)}.sock`)
    const listening = await settle(listen({ path: long }))
    expect(listening.ok ? undefined : listening.error).toMatchObject({ name: 'InvalidParametersError', message: expect.stringMatching(/at most \d+ bytes/) })
    const dialled = await settle(connect({ path: long }))
    expect(dialled.ok ? undefined : dialled.error.name).toBe('InvalidParametersError')
    expect(readdirSync(tmp.dir)).toEqual([]) // nothing was made at a shortened path
    // a path at the limit is taken whole
    const limit = process.platform === 'darwin' ? 103 : 107
    const fits = join(tmp.dir, 'y'.repeat(limit - tmp.dir.length - 1))
    const server = await echoServer({ path: fits })
    expect(server.address).toEqual({ family: 'unix', path: fits })
    expect(await roundTrip(await connect({ path: fits }), 'at the limit')).toBe('at the limit')
  })

  it('a connection a Unix socket server refuses is reported with the server\'s path as its address', async () => {
    const tmp = tempDir()
    cleanups.push(() => { tmp.remove() })
    const path = join(tmp.dir, 'full.sock')
    const server = await echoServer({ path, maxConnections: 1 })
    const drops: DropEvent[] = []
    server.addEventListener('drop', ({ detail }) => { drops.push(detail) })
    const first = await connect({ path })
    cleanups.push(() => { first.abort(new Error('test over')) })
    await expect.poll(() => server.connections.size).toBe(1)
    const second = await connect({ path }).catch(() => undefined)
    second?.abort(new Error('test over'))
    await expect.poll(() => drops.length).toBe(1)
    expect(drops[0]).toMatchObject({ reason: 'max-connections', remoteAddress: { family: 'unix', path } })
  })

  it('wraps a socket made elsewhere with fromSocket()', async () => {
    const server = await echoServer({ host: '127.0.0.1', port: 0 })
    const socket = net.connect({ host: '127.0.0.1', port: portOf(server) })
    const conn = fromSocket(socket)
    expect(await roundTrip(conn, 'adopted')).toBe('adopted')
    expect((await conn.closed).reason).toBe('closed')
    expect(socket.destroyed).toBe(true)
  })

  it('rejects with ConnectionRefusedError when nothing listens', async () => {
    const probe = net.createServer()
    await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as net.AddressInfo).port
    await new Promise(resolve => probe.close(resolve))
    const r = await settle(connect({ host: '127.0.0.1', port }))
    expect(r.ok).toBe(false)
    expect(r.ok ? undefined : r.error.name).toBe('ConnectionRefusedError')
    expect(r.ok ? undefined : r.error.cause.code).toBe('ECONNREFUSED')
    const tmp = tempDir()
    const missing = await settle(connect({ path: join(tmp.dir, 'nobody.sock') }))
    tmp.remove()
    expect(missing.ok ? undefined : missing.error.name).toBe('ConnectionRefusedError')
  })

  it.each([
    ['ENOTFOUND', /knows no such name \(ENOTFOUND\); check the host name/],
    ['EAI_AGAIN', /could not answer now \(EAI_AGAIN: a temporary DNS failure\); it may resolve on a retry/]
  ])('rejects with HostNotFoundError when the host name does not resolve (%s), over TCP and TLS', async (code, message) => {
    // the resolver is the only part replaced: a lookup that answers as getaddrinfo does for such a name
    const lookup = (hostname: string, _options: unknown, callback: (err: Error) => void): void => {
      process.nextTick(callback, Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, hostname, syscall: 'getaddrinfo' }))
    }
    const viaLookup = (opts: net.NetConnectOpts): net.Socket => net.connect({ ...opts, lookup } as net.NetConnectOpts)
    const plain = await settle(connect({ host: 'nowhere.invalid', port: 7000, createSocket: viaLookup }))
    expect(plain.ok ? undefined : plain.error).toMatchObject({ name: 'HostNotFoundError', cause: { code, hostname: 'nowhere.invalid' } })
    expect(plain.ok ? undefined : plain.error.message).toMatch(message)
    expect(plain.ok ? undefined : plain.error.message).toContain('nowhere.invalid:7000')
    // TLS over a TCP socket whose lookup fails: the same error, not a TLS one
    const secured = await settle(connect({ host: 'nowhere.invalid', port: 7000, tls: {}, createSocket: opts => tls.connect({ ...opts, socket: viaLookup(opts) } as tls.ConnectionOptions) }))
    expect(secured.ok ? undefined : secured.error).toMatchObject({ name: 'HostNotFoundError', cause: { code } })
  })

  it('rejects with HostUnreachableError when there is no route (EHOSTUNREACH, ENETUNREACH)', async () => {
    for (const code of ['EHOSTUNREACH', 'ENETUNREACH']) {
      // the kernel's answer stands in for a network this machine has no route to: the socket fails as it would
      const unreachable = (opts: net.NetConnectOpts): net.Socket => {
        const socket = new net.Socket()
        process.nextTick(() => socket.destroy(Object.assign(new Error(`connect ${code} 192.0.2.1:7000`), { code, syscall: 'connect', address: '192.0.2.1', port: 7000 })))
        void opts
        return socket
      }
      const r = await settle(connect({ host: '192.0.2.1', port: 7000, createSocket: unreachable }))
      expect(r.ok ? undefined : r.error).toMatchObject({ name: 'HostUnreachableError', cause: { code } })
      expect(r.ok ? undefined : r.error.message).toContain(`no route to it (${code})`)
    }
  })

  it('rejects with ConnectTimeoutError when the handshake hangs (frozen listener, real time)', async () => {
    const frozen = await frozenListener()
    const opened: Connection[] = []
    cleanups.push(async () => {
      for (const c of opened) c.abort(new Error('test over'))
      await frozen.release()
    })
    let timedOut: unknown
    // The first backlog + 1 connects complete in the kernel; the next one hangs.
    for (let i = 0; i < 10 && timedOut == null; i++) {
      const started = Date.now()
      const r = await settle(connect({ host: '127.0.0.1', port: frozen.port, connectTimeout: 200 }))
      if (r.ok) opened.push(r.value)
      else {
        timedOut = r.error
        expect(Date.now() - started).toBeGreaterThanOrEqual(150)
      }
    }
    expect((timedOut as Error)?.name).toBe('ConnectTimeoutError')
  })

  it('applies connectTimeout under fake timers and releases the socket', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] })
    cleanups.push(() => { vi.useRealTimers() })
    let socket: net.Socket | undefined
    const pending = settle(connect({
      host: '127.0.0.1',
      port: 9,
      connectTimeout: 5_000,
      // A socket that never connects stands in for a black-holed SYN.
      createSocket: () => { socket = new net.Socket(); return socket }
    }))
    await vi.advanceTimersByTimeAsync(4_999)
    expect(socket?.destroyed).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    const r = await pending
    expect(r.ok ? undefined : r.error.name).toBe('ConnectTimeoutError')
    expect(socket?.destroyed).toBe(true)
  })

  it('rejects with signal.reason when the signal aborts, before or during the attempt', async () => {
    const reason = new Error('caller gave up')
    const frozen = await frozenListener()
    cleanups.push(async () => { await frozen.release() })
    const before = await settle(connect({ host: '127.0.0.1', port: frozen.port }, { signal: AbortSignal.abort(reason) }))
    expect(before.ok ? undefined : before.error).toBe(reason)
    let socket: net.Socket | undefined
    const controller = new AbortController()
    const during = settle(connect({ host: '127.0.0.1', port: 9, createSocket: () => { socket = new net.Socket(); return socket } }, { signal: controller.signal }))
    controller.abort(reason)
    const r = await during
    expect(r.ok ? undefined : r.error).toBe(reason)
    expect(socket?.destroyed).toBe(true)
  })

  it('validates options at once with InvalidParametersError', async () => {
    const bad: Array<Parameters<typeof connect>[0]> = [
      { host: '127.0.0.1', port: 1, keepAlive: 0.5 },
      { host: '127.0.0.1', port: 1, keepAlive: 1.5 },
      { host: '127.0.0.1', port: 1, keepAlive: 0 },
      { host: '127.0.0.1', port: 0 },
      { host: '127.0.0.1', port: 70000 },
      { host: '127.0.0.1' },
      { path: '/tmp/x.sock', port: 1 },
      { host: '127.0.0.1', port: 1, connectTimeout: -1 },
      { host: '127.0.0.1', port: 1, closeTimeout: Number.NaN },
      { host: '127.0.0.1', port: 1, clock: {} as never },
      { host: '127.0.0.1', port: 1, timers: { setTimeout: 5 } as never },
      { host: '[::1]', port: 1 },
      { host: '127.0.0.1', port: 1, createSocket: 'x' as unknown as NonNullable<ConnectInit['createSocket']> },
      { host: '127.0.0.1', port: 1, tls: { cert: 'not a PEM', key: 'not a PEM' } }
    ]
    for (const init of bad) {
      const r = await settle(connect(init))
      expect(r.ok ? undefined : r.error.name, JSON.stringify(init)).toBe('InvalidParametersError')
    }
    for (const options of [null, { signal: 'x' }] as unknown as AbortOptions[]) {
      const r = await settle(connect({ host: '127.0.0.1', port: 1 }, options))
      expect(r.ok ? undefined : r.error.name, JSON.stringify(options)).toBe('InvalidParametersError')
    }
    const brackets = await settle(connect({ host: '[::1]', port: 1 }))
    expect(brackets.ok ? '' : brackets.error.message).toMatch(/without brackets/)
    const r = await settle(connect({ host: '127.0.0.1', port: 1, keepAlive: 0.5 }))
    expect(r.ok ? '' : r.error.message).toMatch(/2 hours/)
  })

  it('sets keep-alive in whole seconds and noDelay on the socket', async () => {
    const server = await echoServer({ host: '127.0.0.1', port: 0 })
    let socket: net.Socket | undefined
    const calls: unknown[] = []
    const conn = await connect({
      host: '127.0.0.1',
      port: portOf(server),
      keepAlive: 30,
      createSocket: (opts) => {
        const o = opts as unknown as Record<string, unknown>
        calls.push({ keepAlive: o.keepAlive, keepAliveInitialDelay: o.keepAliveInitialDelay, noDelay: o.noDelay })
        socket = net.connect(opts)
        return socket
      }
    })
    expect(calls).toEqual([{ keepAlive: true, keepAliveInitialDelay: 30_000, noDelay: true }])
    expect(await roundTrip(conn, 'ka')).toBe('ka')
  })
})
