import { spawnSync } from 'node:child_process'
import { getEventListeners, once } from 'node:events'
import net from 'node:net'
import tls from 'node:tls'
import { fileURLToPath } from 'node:url'
import { pipe } from 'it-pipe'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Connection, DisconnectInfo, Server } from '../src/index.js'
import { connect, listen, ServerClosingError } from '../src/index.js'
import type { TestPKI } from './helpers.js'
import { makePKI, portOf, readAll, settle } from './helpers.js'

let pki: TestPKI
beforeAll(() => { pki = makePKI() })
afterAll(() => { pki?.remove() })

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  vi.unstubAllGlobals()
  for (const c of cleanups.splice(0).reverse()) await c()
})

function recordDisconnects (server: Server): DisconnectInfo[] {
  const infos: DisconnectInfo[] = []
  server.addEventListener('disconnect', ({ detail }) => { infos.push(detail.info) })
  return infos
}

/** A client that reads to the end, then finishes its own side: what any well-behaved peer does with FIN. */
async function cooperatingClient (port: number): Promise<{ conn: Connection, done: Promise<Buffer> }> {
  const conn = await connect({ host: '127.0.0.1', port })
  cleanups.push(() => { conn.abort(new Error('test over')) })
  const done = (async () => { const data = await readAll(conn); await conn.close(); return data })()
  return { conn, done }
}

/**
 * A stand-in for an upper stage with a protocol (the heartbeat stage): it owns the connection's sink for
 * the connection's life, sends what the application queues, and on `goingAway` flushes what it accepted,
 * sends a goodbye and ends its sink.
 */
function standInStage (conn: Connection): { send(text: string): void, sinking: Promise<void> } {
  const queue: string[] = []
  let wake: (() => void) | undefined
  let leaving = false
  conn.goingAway?.addEventListener('abort', () => { leaving = true; wake?.() }, { once: true })
  const sinking = conn.sink((async function * () {
    for (;;) {
      while (queue.length > 0) yield Buffer.from(`${queue.shift() as string}\n`)
      if (leaving) { yield Buffer.from('GOAWAY SHUTTING_DOWN\n'); return }
      await new Promise<void>((resolve) => { wake = resolve })
    }
  })())
  return { send: (text) => { queue.push(text); wake?.() }, sinking }
}

describe('server.close(): graceful shutdown', () => {
  it('a connection with no sink running gets FIN at once: a plain peer finishes and close() resolves long before the deadline', async () => {
    const server = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await readAll(conn) })
    const infos = recordDisconnects(server)
    const clients = await Promise.all([0, 1, 2].map(async () => await cooperatingClient(portOf(server))))
    await vi.waitFor(() => { expect(server.connections.size).toBe(3) })
    const started = Date.now()
    await server.close({ deadline: 5_000 })
    expect(Date.now() - started).toBeLessThan(2_000)
    for (const c of clients) expect((await c.done).byteLength).toBe(0)
    expect(infos.map(i => i.reason)).toEqual(['closed', 'closed', 'closed'])
    for (const c of clients) expect(await c.conn.closed).toMatchObject({ reason: 'closed', initiator: 'remote' })
  })

  it('a stage that reacts to goingAway flushes everything it accepted, says goodbye and ends: no reset, no deadline', async () => {
    const stages: Array<ReturnType<typeof standInStage>> = []
    const server = await listen({ host: '127.0.0.1', port: 0 }, (conn) => { stages.push(standInStage(conn)) })
    const infos = recordDisconnects(server)
    const client = await cooperatingClient(portOf(server))
    await vi.waitFor(() => { expect(stages).toHaveLength(1) })
    const stage = stages[0] as ReturnType<typeof standInStage>
    stage.send('hello')
    // accepted just before the close: every one of them must arrive
    for (let i = 0; i < 1_000; i++) stage.send(`item ${i}`)
    const started = Date.now()
    await server.close({ deadline: 5_000 })
    expect(Date.now() - started).toBeLessThan(2_000)
    await stage.sinking
    const lines = (await client.done).toString().trimEnd().split('\n')
    expect(lines).toEqual(['hello', ...Array.from({ length: 1_000 }, (_, i) => `item ${i}`), 'GOAWAY SHUTTING_DOWN'])
    expect(infos.map(i => i.reason)).toEqual(['closed'])
  })

  it('a running sink that ignores goingAway is aborted at the deadline with ServerClosedError', async () => {
    const server = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await pipe(conn, conn) })
    const infos = recordDisconnects(server)
    const client = await connect({ host: '127.0.0.1', port: portOf(server) })
    const reading = settle(readAll(client))
    await vi.waitFor(() => { expect(server.connections.size).toBe(1) })
    const started = Date.now()
    await server.close({ deadline: 200 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    expect(infos.map(i => [i.reason, i.error?.name])).toEqual([['server-closed', 'ServerClosedError']])
    const r = await reading
    expect(r.ok ? undefined : r.error.name).toBe('ConnectionResetError')
  })

  it('goingAway aborts with a ServerClosingError; it is made only when read (idle connections carry none)', async () => {
    let made = 0
    const Real = globalThis.AbortController
    vi.stubGlobal('AbortController', class extends Real { constructor () { super(); made++ } })
    const accepted: Connection[] = []
    const server = await listen({ host: '127.0.0.1', port: 0 }, (conn) => { accepted.push(conn) })
    await Promise.all([0, 1, 2].map(async () => await cooperatingClient(portOf(server))))
    await vi.waitFor(() => { expect(accepted).toHaveLength(3) })
    const watched = accepted[0] as Connection
    const signal = watched.goingAway as AbortSignal
    expect(signal.aborted).toBe(false)
    expect(made).toBe(1)
    expect(watched.goingAway).toBe(signal)
    await server.close({ deadline: 2_000 })
    expect(made).toBe(1)
    expect(signal.aborted).toBe(true)
    expect(signal.reason).toBeInstanceOf(ServerClosingError)
    // read only after the server asked: already aborted, same reason
    const late = accepted[1]?.goingAway as AbortSignal
    expect(late.aborted).toBe(true)
    expect(late.reason).toBe(signal.reason)
  })

  it('a watcher is told once when the server asks, without the signal being made; one asking later is told at once', async () => {
    let made = 0
    const Real = globalThis.AbortController
    vi.stubGlobal('AbortController', class extends Real { constructor () { super(); made++ } })
    const accepted: Connection[] = []
    const server = await listen({ host: '127.0.0.1', port: 0 }, (conn) => { accepted.push(conn) })
    await Promise.all([0, 1].map(async () => await cooperatingClient(portOf(server))))
    await vi.waitFor(() => { expect(accepted).toHaveLength(2) })
    const [conn, other] = accepted as [Connection, Connection]
    const told: string[] = []
    const watcher = (name: string): { onGoingAway(): void } => ({ onGoingAway () { told.push(name) } })
    const a = watcher('a')
    const b = watcher('b')
    const dropped = watcher('dropped')
    expect(conn.watchGoingAway?.(a)).toBe(true)
    expect(conn.watchGoingAway?.(dropped)).toBe(true)
    expect(conn.watchGoingAway?.(b)).toBe(true)
    conn.unwatchGoingAway?.(dropped)
    conn.unwatchGoingAway?.(watcher('never watched')) // nothing
    expect(told).toEqual([])
    await server.close({ deadline: 2_000 })
    expect(told).toEqual(['a', 'b'])
    expect(made).toBe(0) // no signal for connections nobody read goingAway of
    other.watchGoingAway?.(watcher('late'))
    expect(told).toEqual(['a', 'b', 'late'])
    expect(made).toBe(0)
  })

  it('client connections have no goingAway (nobody will ask them)', async () => {
    const server = await listen({ host: '127.0.0.1', port: 0 })
    cleanups.push(async () => { await server.close({ deadline: 100 }) })
    const conn = await connect({ host: '127.0.0.1', port: portOf(server) })
    expect(conn.goingAway).toBeUndefined()
    expect(conn.watchGoingAway).toBeUndefined()
    conn.abort(new Error('done'))
  })

  it('a TLS handshake that completes while the server closes becomes a connection that is asked to go away at once', async () => {
    const server = await listen({ host: '127.0.0.1', port: 0, tls: { cert: pki.serverCert, key: pki.serverKey } }, async (conn) => { await readAll(conn) })
    const infos = recordDisconnects(server)
    // TCP first: the server holds the socket, waiting for a ClientHello
    const raw = net.connect({ host: '127.0.0.1', port: portOf(server) })
    await new Promise(resolve => raw.once('connect', resolve))
    const closing = server.close({ deadline: 5_000 })
    const secure = tls.connect({ socket: raw, ca: pki.ca, servername: 'localhost' })
    secure.on('error', () => {})
    await new Promise(resolve => secure.once('secureConnect', resolve))
    // the server's FIN (it went away at once), then ours
    secure.resume()
    await new Promise(resolve => secure.once('end', resolve))
    secure.end()
    await closing
    expect(infos.map(i => i.reason)).toEqual(['closed'])
  })
})

describe('server lifecycle', () => {
  it('events.once(server, "close") resolves when close() completes', async () => {
    const server = await listen({ host: '127.0.0.1', port: 0 })
    const closed = once(server, 'close')
    await server.close()
    const [event] = await closed as [CustomEvent<undefined>]
    expect(event.type).toBe('close')
  })

  it('listen() takes a lifetime signal: aborting it closes the server, and its listener goes with the server', async () => {
    const controller = new AbortController()
    const server = await listen({ host: '127.0.0.1', port: 0 }, async (conn) => { await readAll(conn) }, { signal: controller.signal })
    const port = portOf(server)
    const client = await cooperatingClient(port)
    await vi.waitFor(() => { expect(server.connections.size).toBe(1) })
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    const closed = once(server, 'close')
    controller.abort(new Error('shutting down'))
    await closed
    expect((await client.done).byteLength).toBe(0)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    const r = await settle(connect({ host: '127.0.0.1', port }))
    expect(r.ok ? undefined : r.error.name).toBe('ConnectionRefusedError')
  })

  it('a signal aborted before listen() rejects with its reason; closing normally removes its listener', async () => {
    const reason = new Error('never mind')
    const r = await settle(listen({ host: '127.0.0.1', port: 0 }, undefined, { signal: AbortSignal.abort(reason) }))
    expect(r.ok ? undefined : r.error).toBe(reason)
    const controller = new AbortController()
    const server = await listen({ host: '127.0.0.1', port: 0 }, undefined, { signal: controller.signal })
    await server.close()
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })

  it('one signal shared by many servers raises no leak warning', async () => {
    const shutdown = new AbortController()
    const warn = vi.spyOn(process, 'emitWarning')
    try {
      const servers = await Promise.all(Array.from({ length: 12 }, async () => await listen({ host: '127.0.0.1', port: 0 }, undefined, { signal: shutdown.signal })))
      expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(12)
      expect(warn.mock.calls.map(([w]) => (w as Error).name)).not.toContain('MaxListenersExceededWarning')
      const closed = servers.map(async server => await once(server, 'close'))
      shutdown.abort(new Error('shutting down'))
      await Promise.all(closed)
      expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0)
    } finally {
      warn.mockRestore()
    }
  })
})

describe('a close the application awaits keeps the process alive until it settles', () => {
  /**
   * Runs `body` in a fresh Node process (the package from source) where nothing but the close would keep
   * the event loop running: the peer's socket is unref()ed, and ours is paused (its read queue is full:
   * nobody reads it), which keeps nothing active. Returns what the process printed.
   */
  function inFreshProcess (body: string): { status: number | null, stdout: string } {
    const src = fileURLToPath(new URL('../src/index.ts', import.meta.url))
    const script = `import net from 'node:net'\nimport { connect, listen } from ${JSON.stringify(src)}\n${body}`
    const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      timeout: 30_000
    })
    return { status: run.status, stdout: run.stdout }
  }

  it('conn.close() settles at closeTimeout although a paused socket is all that is left', () => {
    const run = inFreshProcess(`
      const peer = net.createServer((s) => { s.on('error', () => {}); s.write(Buffer.alloc(700 << 10)); s.unref() })
      await new Promise(resolve => peer.listen(0, '127.0.0.1', resolve)); peer.unref()
      const conn = await connect({ host: '127.0.0.1', port: peer.address().port, closeTimeout: 300 })
      await new Promise(resolve => setTimeout(resolve, 300))
      const outcome = await conn.close().then(() => 'resolved', (err) => err.name)
      console.log('closed:', outcome, (await conn.closed).reason)
    `)
    expect(run.stdout).toContain('closed: resolved close-timeout')
    expect(run.status).toBe(0)
  })

  it('server.close({ deadline }) settles at its deadline although paused sockets are all that is left', () => {
    const run = inFreshProcess(`
      const server = await listen({ host: '127.0.0.1', port: 0 }, () => {})
      const raw = net.connect(server.address.port, '127.0.0.1')
      raw.on('error', () => {})
      await new Promise(resolve => raw.on('connect', resolve))
      raw.write(Buffer.alloc(700 << 10))
      await new Promise(resolve => setTimeout(resolve, 300))
      raw.unref()
      await server.close({ deadline: 300 })
      console.log('server closed')
    `)
    expect(run.stdout).toContain('server closed')
    expect(run.status).toBe(0)
  })
})
